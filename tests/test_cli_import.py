"""End-to-end: `contacts import` with good, bad and hostile CSV files (SUBJ-1)."""

from __future__ import annotations

from cli_helpers import new_tenant, rejects_of, write_bytes, write_rows


def run_import(shared, tenant, path, *extra, list_name="news", as_json=True):
    """`contacts import` of `path` into `list_name`; the result (JSON, or text with as_json=False)."""
    args = [
        "contacts",
        "import",
        tenant.ref,
        path,
        "--list",
        list_name,
        "--consent-method",
        "double-opt-in",
        *extra,
    ]
    if as_json:
        return shared.ok(*args, user=tenant.admin)
    return shared.text(*args, user=tenant.admin).strip()


def test_import_prints_counts_and_reimport_adds_nothing__SUBJ_1(shared, tmp_path):
    """An import prints its counts; importing the same file again adds no duplicates."""
    tenant = new_tenant(shared)
    path = write_rows(
        tmp_path / "people.csv",
        "email,phone,first_name,last_name,city,shoe_size,consent_evidence",
        [
            "ann@example.dk,+45 20 30 40 50,Ann,Holm,Vejle,38,signup 2026-01-02",
            "bob@example.dk,,Bob,,,,",
            "cy@example.dk,,Cy,Berg,,41,",
        ],
    )
    assert run_import(shared, tenant, path, as_json=False) == (
        "3 rows: 3 added, 0 subscribed, 0 unchanged, 0 rejected"
    )
    again = run_import(shared, tenant, path)
    assert again == {
        "rows": 3,
        "added": 0,
        "subscribed": 0,
        "unchanged": 3,
        "rejected": 0,
        "reasons": {},
    }
    assert tenant.members()["count"] == 3
    assert tenant.active() == 3
    ann = shared.ok("contacts", "find", tenant.ref, "--email", "ann@example.dk", user=tenant.admin)
    assert ann["fields"] == {
        "email": "ann@example.dk", "phone": "+45 20 30 40 50", "first_name": "Ann",
        "last_name": "Holm", "city": "Vejle", "custom": {"shoe_size": "38"},
    }  # fmt: skip
    assert ann["source"] == "import:people.csv"
    assert ann["consents"][0]["evidence"] == "signup 2026-01-02"
    other_list = run_import(shared, tenant, path, list_name="vip")
    assert (other_list["added"], other_list["subscribed"]) == (0, 3)
    assert tenant.active() == 3
    assert tenant.members("vip")["count"] == 3


def test_import_latin1_row_is_rejected_with_its_line(shared, tmp_path):
    """A row with a byte that is not UTF-8 is rejected with its line number; the others are imported."""
    tenant = new_tenant(shared)
    path = write_bytes(
        tmp_path / "latin1.csv",
        b"email,first_name",
        b"carl@example.dk,Carl",
        b"jorgen@example.dk,J\xf8rgen",
        "søs@example.dk,Søs".encode(),
    )
    rejects = tmp_path / "rejects.csv"
    out = run_import(shared, tenant, path, "--rejects", rejects)
    assert (out["rows"], out["added"], out["rejected"]) == (3, 2, 1)
    assert rejects_of(rejects) == [["3", "line 3 is not valid UTF-8"]]
    assert sorted(m["email"] for m in tenant.members()["members"]) == [
        "carl@example.dk",
        "søs@example.dk",
    ]
    shared.fails(
        2, "contacts", "find", tenant.ref, "--email", "jorgen@example.dk", user=tenant.admin
    )


def test_import_with_utf8_bom_reads_the_header(shared, tmp_path):
    """A UTF-8 byte-order mark before the header is ignored: every row is imported."""
    tenant = new_tenant(shared)
    path = write_bytes(
        tmp_path / "bom.csv",
        b"\xef\xbb\xbfemail,first_name",
        b"dora@example.dk,Dora",
        b"ed@example.dk,Ed",
    )
    out = run_import(shared, tenant, path)
    assert (out["added"], out["rejected"]) == (2, 0)
    assert tenant.members()["count"] == 2
    dora = shared.ok(
        "contacts", "find", tenant.ref, "--email", "dora@example.dk", user=tenant.admin
    )
    assert dora["fields"] == {"email": "dora@example.dk", "first_name": "Dora"}


def test_import_without_email_column_exits_2_and_stores_nothing(shared, tmp_path):
    """A CSV without an `email` column is refused as a whole (exit 2): nothing is stored."""
    tenant = new_tenant(shared)
    path = write_rows(tmp_path / "noemail.csv", "first_name,phone", ["Finn,+4520304050"])
    error = shared.fails(
        2,
        "contacts",
        "import",
        tenant.ref,
        path,
        "--list",
        "news",
        "--consent-method",
        "x",
        user=tenant.admin,
    )
    assert "'email' column" in error
    assert tenant.active() == 0
    shared.fails(2, "lists", "show", tenant.ref, "news", user=tenant.admin)


def test_import_empty_file_exits_2(shared, tmp_path):
    """An empty CSV file is invalid input (exit 2) with a one-line reason."""
    tenant = new_tenant(shared)
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    error = shared.fails(
        2,
        "contacts",
        "import",
        tenant.ref,
        path,
        "--list",
        "news",
        "--consent-method",
        "x",
        user=tenant.admin,
    )
    assert "empty" in error
    assert tenant.active() == 0


def test_import_bad_header_exits_2(shared, tmp_path):
    """A header that is not UTF-8 or repeats a column is refused as a whole (exit 2)."""
    tenant = new_tenant(shared)
    latin = write_bytes(tmp_path / "h1.csv", b"email,f\xf8dt", b"a@example.dk,x")
    repeated = write_rows(tmp_path / "h2.csv", "email,Email", ["a@example.dk,b@example.dk"])
    for path in (latin, repeated):
        shared.fails(
            2, "contacts", "import", tenant.ref, path, "--list", "news", "--consent-method", "x",
            user=tenant.admin,
        )  # fmt: skip
    assert tenant.active() == 0


def test_import_duplicate_rows_are_imported_once(shared, tmp_path):
    """The same e-mail twice in one file (any case) becomes one contact."""
    tenant = new_tenant(shared)
    path = write_rows(
        tmp_path / "dup.csv",
        "email,first_name",
        ["gry@example.dk,Gry", "GRY@example.dk,Gry", "hans@example.dk,Hans", "gry@example.dk,Gry"],
    )
    out = run_import(shared, tenant, path)
    assert (out["rows"], out["added"], out["unchanged"], out["rejected"]) == (4, 2, 2, 0)
    assert tenant.active() == 2
    assert tenant.members()["count"] == 2


def test_import_huge_field_rejects_only_its_row(shared, tmp_path):
    """A row with a 10 MB field is rejected with its line; the rows around it are imported."""
    tenant = new_tenant(shared)
    huge = b"x" * (10 * 1024 * 1024)
    path = write_bytes(
        tmp_path / "huge.csv",
        b"email,notes,first_name",
        b"ib@example.dk,short,Ib",
        b"jens@example.dk," + huge + b",Jens",
        b"kaj@example.dk,,Kaj",
        b'lis@example.dk,"' + huge + b'",Lis',
    )
    rejects = tmp_path / "rejects.csv"
    out = run_import(shared, tenant, path, "--rejects", rejects)
    assert (out["rows"], out["added"], out["rejected"]) == (4, 2, 2)
    assert [line for line, _ in rejects_of(rejects)] == ["3", "5"]
    assert sorted(m["email"] for m in tenant.members()["members"]) == [
        "ib@example.dk",
        "kaj@example.dk",
    ]


def test_import_invalid_rows_are_rejected_with_reasons(shared, tmp_path):
    """Rows with a bad e-mail, phone, date or column count go to the rejects file; good rows stay."""
    tenant = new_tenant(shared)
    path = write_rows(
        tmp_path / "mixed.csv",
        "email,phone,birth_date",
        [
            "ok1@example.dk,,1980-01-01",
            "not-an-email,,",
            "ok2@example.dk,12,",
            "ok3@example.dk,,1999-02-31",
            "ok4@example.dk,,,extra",
            ",+4520304050,",
            '"ok5@example.dk","+45 20 30 40 50","2001-12-24"',
        ],
    )
    rejects = tmp_path / "rejects.csv"
    text = run_import(shared, tenant, path, "--rejects", rejects, as_json=False)
    assert text == f"7 rows: 2 added, 0 subscribed, 0 unchanged, 5 rejected (see {rejects})"
    reasons = dict(rejects_of(rejects))
    assert sorted(reasons) == ["3", "4", "5", "6", "7"]
    assert reasons["3"] == "invalid e-mail address"
    assert reasons["4"] == "invalid phone number"
    assert "birth_date" in reasons["5"]
    assert reasons["6"] == "expected 3 columns, found 4"
    assert "e-mail address is required" in reasons["7"]
    assert sorted(m["email"] for m in tenant.members()["members"]) == [
        "ok1@example.dk",
        "ok5@example.dk",
    ]


def test_import_unknown_file_or_list_is_invalid_input(shared, tmp_path):
    """A bad list name is invalid input (exit 2); nothing is stored."""
    tenant = new_tenant(shared)
    path = write_rows(tmp_path / "one.csv", "email", ["mo@example.dk"])
    shared.fails(
        2, "contacts", "import", tenant.ref, path, "--list", "bad\tlist", "--consent-method", "x",
        user=tenant.admin,
    )  # fmt: skip
    assert tenant.active() == 0


def test_import_rejects_file_in_missing_directory_exits_2(shared, tmp_path):
    """A rejects file in a directory that does not exist is invalid input (exit 2), nothing stored."""
    tenant = new_tenant(shared)
    path = write_rows(tmp_path / "one.csv", "email", ["nils@example.dk"])
    shared.fails(
        2, "contacts", "import", tenant.ref, path, "--list", "news", "--consent-method", "x",
        "--rejects", tmp_path / "missing" / "rejects.csv", user=tenant.admin,
    )  # fmt: skip
    assert tenant.active() == 0


def test_import_refuses_rejects_file_that_is_the_input(shared, tmp_path):
    """A rejects file that is the input file is refused (exit 2) and the input stays intact."""
    tenant = new_tenant(shared)
    path = write_rows(tmp_path / "same.csv", "email", ["olga@example.dk", "per@example.dk"])
    original = path.read_bytes()
    shared.fails(
        2, "contacts", "import", tenant.ref, path, "--list", "news", "--consent-method", "x",
        "--rejects", path, user=tenant.admin,
    )  # fmt: skip
    assert path.read_bytes() == original
