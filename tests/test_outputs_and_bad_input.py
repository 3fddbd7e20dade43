"""Outputs go where the user meant, and bad input is refused cleanly.

Issue 12 items 2-8 and issue 18 items 5, 6 and 8; each test failed before the fix it names.
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cli_helpers import Cli, new_tenant, rejected_rows, run_processor, write_rows
from processor_cli.output import printable
from support import BACKENDS, POSTGRES_URL, drop_schemas, login, make_settings, support_view

from processor.domain.retention import later
from processor.services.csvcells import neutralise

FORMULAS = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(A1)", "-2+3+cmd|x"]


def _exports(cli: Cli, ref: str) -> int:
    return sum(type(e).__name__ == "DataExported" for e in cli.controller_events(ref))


# -- 12 item 2: --out writes to the path the user meant -------------------------------------------


def test_export_out_writes_through_a_symlink(shared, tmp_path):
    """A symlink given to --out stays a symlink; its target receives the export."""
    tenant = new_tenant(shared)
    cid = tenant.add("link@example.dk")
    target, link = tmp_path / "real.json", tmp_path / "link.json"
    link.symlink_to(target)
    shared.ok("export", tenant.ref, "--contact", cid, "--out", link, user=tenant.admin)
    assert link.is_symlink()
    assert json.loads(target.read_text("utf-8"))["contacts"][0]["contact_id"] == cid


def test_export_out_streams_into_a_fifo(shared, tmp_path):
    """A named pipe's reader receives the export; the pipe is not replaced by a file."""
    tenant = new_tenant(shared)
    cid = tenant.add("fifo@example.dk")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    shared.ok("export", tenant.ref, "--contact", cid, "--out", fifo, user=tenant.admin)
    reader.join(timeout=30)
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert json.loads(got[0])["contacts"][0]["contact_id"] == cid


def test_existing_file_is_refused_without_force_and_replaced_with_it(shared, tmp_path):
    """--out refuses to overwrite a regular file (exit 2, file intact) unless --force."""
    tenant = new_tenant(shared)
    cid = tenant.add("force@example.dk")
    out = tmp_path / "kept.json"
    out.write_text("precious\n", encoding="utf-8")
    error = shared.fails(2, "export", tenant.ref, "--contact", cid, "--out", out, user=tenant.admin)
    assert "give --force" in error
    assert out.read_text("utf-8") == "precious\n"
    shared.ok("export", tenant.ref, "--contact", cid, "--out", out, "--force", user=tenant.admin)
    assert json.loads(out.read_text("utf-8"))["contacts"][0]["contact_id"] == cid


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_full_device_fails_the_export_and_stays_a_device(shared):
    """Exporting to /dev/full exits 2 with one line, records no export, and leaves the device."""
    tenant = new_tenant(shared)
    cid = tenant.add("full@example.dk")
    before = _exports(shared, tenant.ref)
    error = shared.fails(2, "export", tenant.ref, "--contact", cid, "--out", "/dev/full",
                         user=tenant.admin)  # fmt: skip
    assert "No space left on device" in error
    assert stat.S_ISCHR(Path("/dev/full").stat().st_mode)
    assert _exports(shared, tenant.ref) == before


# -- 12 item 3: a receipt that cannot be written is not lost ----------------------------------------


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_erasure_stands_when_its_receipt_cannot_be_written_and_is_reissued(shared, tmp_path):
    """Erasing with --receipt /dev/full exits 2; the subject is erased; `receipts issue` gives the receipt."""
    tenant = new_tenant(shared)
    cid = tenant.add("lost-receipt@example.dk")
    error = shared.fails(2, "erase", tenant.ref, "--contact", cid, "--reason", "asked",
                         "--receipt", "/dev/full", user=tenant.admin)  # fmt: skip
    assert "is erased" in error
    assert f"receipts issue --erasure {cid}" in error
    assert shared.ok("contacts", "show", tenant.ref, cid, user=tenant.admin)["erased"] is True
    out = tmp_path / "again.json"
    shared.ok("receipts", "issue", "--erasure", cid, "--out", out, user=tenant.admin)
    receipt = json.loads(out.read_text("utf-8"))
    assert receipt["metadata"]["details"]["contact_id"] == cid
    key = shared.public_key(tmp_path / "log.pub")
    verified = shared.ok("receipts", "verify", out, "--public-key", key)
    assert verified["kind"] == "erasure"
    # Another controller's administrator may not have it issued.
    other = new_tenant(shared)
    shared.fails(2, "receipts", "issue", "--erasure", cid, "--controller", other.ref,
                 user=other.admin)  # fmt: skip


# -- 12 item 4: --rejects never destroys what was there -----------------------------------------


def test_rejects_file_survives_a_refused_import(shared, tmp_path):
    """An import refused as a whole (an empty file) leaves an existing rejects file as it was."""
    tenant = new_tenant(shared)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    rejects = tmp_path / "rejects.csv"
    rejects.write_text("yesterday's rejects\n", encoding="utf-8")
    for extra in ([], ["--force"]):
        shared.fails(2, "contacts", "import", tenant.ref, empty, "--list", "news",
                     "--consent-method", "form", "--rejects", rejects, *extra, user=tenant.admin)  # fmt: skip
        assert rejects.read_text("utf-8") == "yesterday's rejects\n"


# -- Rejects a user can fix (12) -------------------------------------------------------------------


def test_rejects_hold_the_row_and_can_be_fixed_and_imported(shared, tmp_path):
    """The rejects file has line, reason and the row's cells; corrected, it imports as it is."""
    tenant = new_tenant(shared)
    source = write_rows(tmp_path / "in.csv", "email,first_name,birth_date",
                        ["ok@example.dk,Ok,1990-01-02", "fix@example.dk,Fix,15/03/1985"])  # fmt: skip
    rejects = tmp_path / "rejects.csv"
    shared.ok("contacts", "import", tenant.ref, source, "--list", "news", "--consent-method",
              "form", "--rejects", rejects, user=tenant.admin)  # fmt: skip
    header = rejects.read_text("utf-8").splitlines()[0]
    assert header == "_line,_reason,email,first_name,birth_date"
    rows = rejected_rows(rejects)
    assert rows == [["3", "invalid birth_date: use YYYY-MM-DD", "fix@example.dk", "Fix",
                     "15/03/1985"]]  # fmt: skip
    rejects.write_text(rejects.read_text("utf-8").replace("15/03/1985", "1985-03-15"), "utf-8")
    again = tmp_path / "rejects-2.csv"
    result = shared.ok("contacts", "import", tenant.ref, rejects, "--list", "news",
                       "--consent-method", "form", "--rejects", again, user=tenant.admin)  # fmt: skip
    assert (result["added"], result["rejected"]) == (1, 0)
    shown = shared.ok(
        "contacts", "find", tenant.ref, "--email", "fix@example.dk", user=tenant.admin
    )
    assert shown["fields"] == {"email": "fix@example.dk", "first_name": "Fix",
                               "birth_date": "1985-03-15"}  # fmt: skip


def test_a_bad_row_is_rejected_for_being_bad_before_the_account_limit(shared, tmp_path):
    """On a full freemium account a bad row is rejected as invalid, a good one for the limit."""
    tenant = new_tenant(shared, account="freemium")
    full = write_rows(tmp_path / "full.csv", "email", [f"f{i}@example.dk" for i in range(199)])
    shared.ok("contacts", "import", tenant.ref, full, "--list", "news", "--consent-method", "form",
              user=tenant.admin)  # fmt: skip
    more = write_rows(tmp_path / "more.csv", "email", ["not-an-email", "one-more@example.dk"])
    rejects = tmp_path / "rejects.csv"
    shared.ok("contacts", "import", tenant.ref, more, "--list", "news", "--consent-method", "form",
              "--rejects", rejects, user=tenant.admin)  # fmt: skip
    reasons = [row[1] for row in rejected_rows(rejects)]
    assert reasons[0] == "invalid e-mail address"
    assert "holds at most" in reasons[1]


# -- 12 item 5: dates ------------------------------------------------------------------------------


def test_far_future_termination_is_refused_and_the_store_keeps_working(shared):
    """Terminating --effective 9999-12-31 exits 2 and stores nothing; due/show keep working."""
    tenant = new_tenant(shared)
    before = len(shared.controller_events(tenant.ref))
    error = shared.fails(2, "controllers", "terminate", tenant.ref, "--effective", "9999-12-31",
                         user=tenant.admin)  # fmt: skip
    assert "between 1900 and 2999" in error
    assert len(shared.controller_events(tenant.ref)) == before
    shared.ok("controllers", "show", tenant.ref, user=tenant.admin)
    shared.ok("retention", "due", user="grete")
    shared.ok(
        "controllers", "terminate", tenant.ref, "--effective", "2999-12-31", user=tenant.admin
    )
    assert shared.ok("retention", "due", user="grete") is not None


def test_deadline_arithmetic_never_overflows() -> None:
    """A date stored near 9999 before the bound existed still gives a deadline (clamped)."""
    assert later(datetime(9999, 12, 1, tzinfo=UTC), 120).year == 9999


def test_far_future_processor_now_is_refused_on_a_simulation_store(tmp_path, backend_param):
    """A simulation store refuses a PROCESSOR_NOW it could never come back from (exit 2)."""
    settings, schemas = make_settings(backend_param, tmp_path)
    try:
        cli = Cli(settings)
        cli.init("--simulation")
        for when in ("9999-12-31T23:59:59Z", "2990-01-01T00:00:00Z"):
            error = cli.fails(2, "controllers", "show", "nobody", user="sam",
                              env={"PROCESSOR_NOW": when})  # fmt: skip
            assert "PROCESSOR_NOW" in error
        now = datetime.now(UTC).isoformat()
        cli.ok("users", "list", user="sam", env={"PROCESSOR_NOW": now})
    finally:
        drop_schemas(*schemas)


@pytest.fixture(params=BACKENDS)
def backend_param(request):
    """The backend name, for tests that build their own store."""
    if request.param == "postgres" and not POSTGRES_URL:
        pytest.skip("PostgreSQL test: set PROCESSOR_TEST_POSTGRES_URL to run it")
    return request.param


# -- 12 item 6: CSV injection ----------------------------------------------------------------------


def test_csv_export_and_return_neutralise_formulas_and_json_stays_exact(shared, tmp_path):
    """Formula cells get a leading ' in CSV exports and returns; JSON keeps them exactly."""
    tenant = new_tenant(shared)
    for i, formula in enumerate(FORMULAS):
        tenant.add(
            f"f{i}@example.dk", "--first-name", formula, "--phone", "+45 61 62 63 6" + str(i)
        )
    out = tmp_path / "all.csv"
    shared.ok("export", tenant.ref, "--all", "--format", "csv", "--out", out, user=tenant.admin)
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8"))))
    assert sorted(r["first_name"] for r in rows) == sorted("'" + f for f in FORMULAS)
    assert all(r["phone"].startswith("+45") for r in rows)  # a number is not a formula
    back = tmp_path / "return"
    shared.ok("export", tenant.ref, "--all", "--out", back, user=tenant.admin)
    returned = list(csv.DictReader(io.StringIO((back / "contacts.csv").read_text("utf-8"))))
    assert sorted(r["first_name"] for r in returned) == sorted("'" + f for f in FORMULAS)
    doc = tmp_path / "all.json"
    shared.ok("export", tenant.ref, "--all", "--out", doc, user=tenant.admin)
    names = [c["fields"]["first_name"] for c in json.loads(doc.read_text("utf-8"))["contacts"]]
    assert sorted(names) == sorted(FORMULAS)


def test_neutralise_marks_formula_starts_only() -> None:
    """Every OWASP formula start is prefixed; plain text and numbers are not."""
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert neutralise(start + "x") == "'" + start + "x"
    assert neutralise("Anne") == "Anne"
    assert neutralise("-12.5") == "-12.5"


# -- 12 item 7 / 18 item 5: control characters ------------------------------------------------------


def test_text_output_escapes_control_characters() -> None:
    """Stored control characters print escaped, so a name cannot break a column or a terminal."""
    assert printable("Anne\nBob\x00\x1b[2J\x85") == "Anne\\nBob\\x00\\x1b[2J\\x85"


def test_control_characters_are_refused_as_input(shared):
    """NUL, newline and C1 controls in a personal field are invalid input (exit 2)."""
    tenant = new_tenant(shared)
    for bad in ("An\x00ne", "An\nne", "\x85Anne", "\tAnne"):
        error = shared.fails(2, "contacts", "add", tenant.ref, "--list", "news", "--email",
                             "c@example.dk", "--first-name", bad, "--consent", "email:form",
                             user=tenant.admin)  # fmt: skip
        assert error == "error: first_name contains a control character"


# -- 12 item 8: internal errors ---------------------------------------------------------------------


def test_internal_error_is_one_line_and_a_json_document(tmp_path):
    """PostgreSQL down: exit 4, one `error:` line and no traceback; --json adds one document."""
    env = {"PROCESSOR_DATA_DIR": str(tmp_path / "d"),
           "PROCESSOR_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
           "PROCESSOR_CREDENTIAL": "x"}  # fmt: skip
    done = run_processor(["--json", "--as", "sam", "controllers", "show", "x"], env)
    assert done.returncode == 4
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith("error: internal error (")
    assert "Traceback" not in done.stderr
    assert json.loads(done.stdout)["error"]["code"] == 4


# -- 18 item 5: output that reads wrong -----------------------------------------------------------


def test_denied_grant_names_who_denied_it_and_scope_is_singular(acme):
    """A denied grant shows denied_by (no approved_by); one contact reads "1 contact"."""
    login(acme, "sam").users.add(
        "sven", "support", confidentiality_signed="2026-01-05", trained="2026-01-06"
    )
    login(acme, "alice").contacts.add("acme", "news", "g@example.dk", "email:form")
    sven = login(acme, "sven")
    pseudonym = support_view(acme, "sven", "acme", "alice")["contacts"][0]["pseudonym"]
    grant = sven.access.request("acme", "ticket 1", [pseudonym], hours=1)
    assert grant["scope"] == "1 contact"
    denied = login(acme, "alice").access.decide(grant["grant"], approve=False, reason="no")
    assert (denied["approved_by"], denied["denied_by"]) == (None, "alice")


def test_sms_record_does_not_count_as_an_email(acme):
    """Recording an SMS reports no e-mail count."""
    cid = login(acme, "alice").contacts.add("acme", "news", "s@example.dk", "sms:form",
                                            phone="+4512345678")["contact_id"]  # fmt: skip
    assert "emails_sent" not in login(acme, "alice").messages.record("acme", cid, "sms", body="x")


def test_receipt_failure_says_does_not_verify_once(shared, tmp_path):
    """A tampered receipt's error says "receipt does not verify" once."""
    tenant = new_tenant(shared)
    cid = tenant.add("twice@example.dk")
    path = tmp_path / "r.json"
    shared.ok("erase", tenant.ref, "--contact", cid, "--reason", "x", "--receipt", path,
              user=tenant.admin)  # fmt: skip
    data = json.loads(path.read_text("utf-8"))
    data["leaf_index"] = "nonsense"
    path.write_text(json.dumps(data), "utf-8")
    error = shared.fails(3, "receipts", "verify", path, "--public-key",
                         shared.public_key(tmp_path / "k.pub"))  # fmt: skip
    assert error.count("does not verify") == 1, error


# -- 18 items 6 and 8: personal data in errors; conflicting and misspelt input ------------------------


def test_invalid_birth_date_is_not_echoed(shared, tmp_path):
    """An invalid birth date appears neither on stderr nor as the rejects file's reason."""
    tenant = new_tenant(shared)
    error = shared.fails(2, "contacts", "add", tenant.ref, "--list", "news", "--email",
                         "b@example.dk", "--field", "birth_date=15/03/1985", "--consent",
                         "email:form", user=tenant.admin)  # fmt: skip
    assert "15/03/1985" not in error


def test_field_keys_map_like_csv_headers_and_custom_fields_are_explicit(shared):
    """--field First_Name maps to first_name; custom.NAME makes a custom field; typos refused."""
    tenant = new_tenant(shared)
    cid = tenant.add("map@example.dk", "--field", "First_Name=Mette", "--field", "custom.Plan=gold")
    fields = shared.ok("contacts", "show", tenant.ref, cid, user=tenant.admin)["fields"]
    assert fields == {"email": "map@example.dk", "first_name": "Mette", "custom": {"Plan": "gold"}}
    error = shared.fails(2, "contacts", "update", tenant.ref, cid, "--set", "lastname=X",
                         user=tenant.admin)  # fmt: skip
    assert "did you mean last_name?" in error
    error = shared.fails(2, "contacts", "add", tenant.ref, "--list", "news", "--email",
                         "m2@example.dk", "--first-name", "X", "--field", "first_name=Y",
                         "--consent", "email:form", user=tenant.admin)  # fmt: skip
    assert "give it once" in error
