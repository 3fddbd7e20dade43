"""End-to-end: `contacts add|update|unsubscribe|restrict|unrestrict|object|find|show`, `lists show`."""

from __future__ import annotations

import unicodedata
import uuid

import pytest
from cli_helpers import CONSENT, new_tenant, write_rows


@pytest.fixture(scope="module")
def tenant(shared):
    """One controller for the tests that only read or only fail; it holds one contact."""
    made = new_tenant(shared)
    made.contact = made.add("kept@example.dk", "--first-name", "Kept")
    return made


def test_add_find_show__SUBJ_1(shared):
    """`contacts add` stores the vocabulary and custom fields; find (any case) and show return them."""
    tenant = new_tenant(shared)
    out = shared.ok(
        "contacts", "add", tenant.ref, "--list", "news", "--email", "Anna.Berg@Example.dk",
        "--phone", "+45 20 30 40 50", "--first-name", "Anna", "--last-name", "Berg",
        "--field", "city=Aarhus", "--field", "custom.shoe_size=38",
        "--consent", "email:double-opt-in:form 2026-03-01", user=tenant.admin,
    )  # fmt: skip
    assert out["created"] is True
    cid = out["contact_id"]
    assert uuid.UUID(cid)
    found = shared.ok(
        "contacts", "find", tenant.ref, "--email", " anna.berg@EXAMPLE.dk ", user=tenant.admin
    )
    assert found["contact_id"] == cid
    assert found["fields"] == {
        "email": "Anna.Berg@Example.dk", "phone": "+45 20 30 40 50", "first_name": "Anna",
        "last_name": "Berg", "city": "Aarhus", "custom": {"shoe_size": "38"},
    }  # fmt: skip
    assert found["consents"][0]["method"] == "double-opt-in"
    assert found["consents"][0]["evidence"] == "form 2026-03-01"
    shown = shared.ok("contacts", "show", tenant.ref, cid, user=tenant.admin)
    assert shown == found
    assert (
        shared.ok("contacts", "show", tenant.ref, "anna.berg@example.dk", user=tenant.admin)
        == found
    )
    text = shared.text("contacts", "show", tenant.ref, cid, user=tenant.admin)
    assert "first_name: Anna" in text
    added = shared.text(
        "contacts",
        "add",
        tenant.ref,
        "--list",
        "news",
        "--email",
        "b@example.dk",
        "--consent",
        CONSENT,
        user=tenant.admin,
    )
    assert added.startswith("added contact ")
    assert tenant.active() == 2


def test_find_matches_any_unicode_form_and_case(shared):
    """`contacts find` matches an e-mail typed in another Unicode form (NFD) or case."""
    tenant = new_tenant(shared)
    cid = tenant.add(unicodedata.normalize("NFC", "søren.åberg@example.dk"))
    typed = unicodedata.normalize("NFD", "Søren.Åberg@EXAMPLE.dk")
    assert (
        shared.ok("contacts", "find", tenant.ref, "--email", typed, user=tenant.admin)["contact_id"]
        == cid
    )


def test_add_existing_email_joins_the_list__SUBJ_2(shared):
    """Adding a known e-mail to another list joins the same contact, with a consent record per list."""
    tenant = new_tenant(shared)
    cid = tenant.add("cleo@example.dk", "--first-name", "Cleo")
    again = shared.ok(
        "contacts", "add", tenant.ref, "--list", "vip", "--email", "CLEO@example.dk",
        "--consent", "sms:web-form:checkbox", user=tenant.admin,
    )  # fmt: skip
    assert again == {"contact_id": cid, "created": False}
    shown = shared.ok("contacts", "show", tenant.ref, cid, user=tenant.admin)
    assert sorted(shown["lists"]) == ["news", "vip"]
    assert [(c["list"], c["channel"], c["method"], c["evidence"]) for c in shown["consents"]] == [
        ("news", "email", "double-opt-in", "signup form"),
        ("vip", "sms", "web-form", "checkbox"),
    ]
    assert shown["fields"]["first_name"] == "Cleo"
    assert tenant.active() == 1
    assert tenant.members("vip")["count"] == 1


def test_update_rectifies_fields__SUBJ_4(shared):
    """`contacts update --set` changes and removes fields; the e-mail stays required and unique."""
    tenant = new_tenant(shared)
    cid = tenant.add("dan@example.dk", "--first-name", "Dan", "--field", "city=Odense")
    tenant.add("other@example.dk")
    text = shared.text(
        "contacts", "update", tenant.ref, cid, "--set", "first_name=Daniel", "--set", "city=",
        "--set", "custom.shoe_size=44", user=tenant.admin,
    )  # fmt: skip
    assert text.strip() == "rectified city, first_name, shoe_size"
    fields = shared.ok("contacts", "show", tenant.ref, cid, user=tenant.admin)["fields"]
    assert fields == {
        "email": "dan@example.dk",
        "first_name": "Daniel",
        "custom": {"shoe_size": "44"},
    }
    out = shared.ok("contacts", "update", tenant.ref, "dan@example.dk", "--set", "email=dan@example.org",
                    user=tenant.admin)  # fmt: skip
    assert out == {"contact_id": cid, "changed": ["email"]}
    assert (
        shared.ok("contacts", "find", tenant.ref, "--email", "dan@example.org", user=tenant.admin)[
            "contact_id"
        ]
        == cid
    )
    shared.fails(2, "contacts", "find", tenant.ref, "--email", "dan@example.dk", user=tenant.admin)
    assert "required" in shared.fails(
        2, "contacts", "update", tenant.ref, cid, "--set", "email=", user=tenant.admin
    )
    assert "already has" in shared.fails(
        1,
        "contacts",
        "update",
        tenant.ref,
        cid,
        "--set",
        "email=other@example.dk",
        user=tenant.admin,
    )
    shared.fails(
        2,
        "contacts",
        "update",
        tenant.ref,
        cid,
        "--set",
        "birth_date=2001-02-30",
        user=tenant.admin,
    )
    shared.fails(2, "contacts", "update", tenant.ref, cid, "--set", "phone=12", user=tenant.admin)
    fields = shared.ok("contacts", "show", tenant.ref, cid, user=tenant.admin)["fields"]
    assert fields["email"] == "dan@example.org"
    assert "phone" not in fields
    assert "birth_date" not in fields


def test_unsubscribe_stops_the_list_but_keeps_the_data__SUBJ_3(shared):
    """After `contacts unsubscribe` the contact leaves the list, its data and other lists stay."""
    tenant = new_tenant(shared)
    cid = tenant.add("eva@example.dk", "--first-name", "Eva")
    tenant.add("eva@example.dk", list_name="vip")
    tenant.add("finn@example.dk")
    assert tenant.members()["count"] == 2
    out = shared.ok("contacts", "unsubscribe", tenant.ref, cid, "--list", "news", user=tenant.admin)
    assert out == {"contact_id": cid, "list": "news", "subscribed": False}
    members = tenant.members()
    assert members["count"] == 1
    assert cid not in [m["contact_id"] for m in members["members"]]
    assert tenant.members("vip")["count"] == 1
    shown = shared.ok("contacts", "show", tenant.ref, cid, user=tenant.admin)
    assert shown["lists"]["news"]["subscribed"] is False
    assert shown["lists"]["news"]["unsubscribed_at"] is not None
    assert shown["fields"]["first_name"] == "Eva"
    assert tenant.active() == 2
    again = shared.text(
        "contacts", "unsubscribe", tenant.ref, cid, "--list", "news", user=tenant.admin
    )
    assert again.strip() == "unsubscribed from news"


def test_restrict_unrestrict_object__SUBJ_4(shared):
    """Restricted or objected contacts leave the current list; lifting a restriction brings them back."""
    tenant = new_tenant(shared)
    one, two = tenant.add("gil@example.dk"), tenant.add("hal@example.dk")
    out = shared.ok(
        "contacts", "restrict", tenant.ref, one, "--reason", "accuracy contested", user=tenant.admin
    )
    assert out == {"contact_id": one, "restricted": True, "objected": False}
    assert [m["contact_id"] for m in tenant.members()["members"]] == [two]
    shared.ok("contacts", "unrestrict", tenant.ref, one, user=tenant.admin)
    assert tenant.members()["count"] == 2
    out = shared.ok(
        "contacts", "object", tenant.ref, two, "--reason", "no profiling", user=tenant.admin
    )
    assert out == {"contact_id": two, "restricted": False, "objected": True}
    members = tenant.members()
    assert [m["contact_id"] for m in members["members"]] == [one]
    assert members["members"][0]["email"] == "gil@example.dk"
    shown = shared.ok("contacts", "show", tenant.ref, two, user=tenant.admin)
    assert (shown["restricted"], shown["objected"]) == (False, True)
    text = shared.text("lists", "show", tenant.ref, "news", user=tenant.admin)
    assert text.splitlines()[0] == "news: 1 current members"
    assert tenant.active() == 2


def test_lists_show_limit(shared):
    """`lists show --limit N` shows at most N members but counts them all."""
    tenant = new_tenant(shared)
    for i in range(3):
        tenant.add(f"m{i}@example.dk")
    out = shared.ok("lists", "show", tenant.ref, "news", "--limit", "1", user=tenant.admin)
    assert out["count"] == 3
    assert len(out["members"]) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["contacts", "add", "{ref}", "--list", "news", "--email", "not-an-email", "--consent", CONSENT],
         "invalid e-mail"),
        (["contacts", "add", "{ref}", "--list", "news", "--email", "a@example.dk", "--phone", "12ab",
          "--consent", CONSENT], "invalid phone"),
        (["contacts", "add", "{ref}", "--list", "news", "--email", "a@example.dk", "--field", "novalue",
          "--consent", CONSENT], "malformed KEY=VALUE"),
        (["contacts", "add", "{ref}", "--list", "news", "--email", "a@example.dk", "--field", "=x",
          "--consent", CONSENT], "malformed KEY=VALUE"),
        (["contacts", "add", "{ref}", "--list", "news", "--email", "a@example.dk", "--field", "1x=y",
          "--consent", CONSENT], "invalid field name"),
        (["contacts", "add", "{ref}", "--list", "news", "--email", "a@example.dk", "--field",
          "birth_date=1999-02-31", "--consent", CONSENT], "birth_date"),
        (["contacts", "add", "{ref}", "--list", "news", "--email", "a@example.dk", "--consent", "fax:x"],
         "consent channel"),
        (["contacts", "add", "{ref}", "--list", "news", "--email", "a@example.dk", "--consent", "email"],
         "consent needs a method"),
        (["contacts", "add", "{ref}", "--list", "news", "--email", "a@example.dk", "--first-name",
          "x" * 1001, "--consent", CONSENT], "longer than"),
        (["contacts", "update", "{ref}", "{contact}", "--set", "first_name"], "malformed KEY=VALUE"),
        (["contacts", "show", "{ref}", "00000000-0000-4000-8000-000000000000"], "unknown contact"),
        (["contacts", "show", "{ref}", "not-a-uuid"], "invalid contact id"),
        (["contacts", "show", "{ref}", "nobody@example.dk"], "no contact"),
        (["contacts", "find", "{ref}", "--email", "nobody@example.dk"], "no contact"),
        (["contacts", "restrict", "{ref}", "00000000-0000-4000-8000-000000000000"], "unknown contact"),
        (["lists", "show", "{ref}", "no-such-list"], "unknown list"),
        (["export", "{ref}", "--email", "nobody@example.dk"], "no contact"),
        (["erase", "{ref}", "--contact", "00000000-0000-4000-8000-000000000000", "--reason", "x"],
         "unknown contact"),
        (["users", "add", "x", "--role", "wizard", "--controller", "{ref}"], "unknown controller role"),
    ],
    ids=[
        "bad-email", "bad-phone", "field-no-equals", "field-no-key", "field-bad-name",
        "bad-birth-date", "bad-consent-channel", "consent-no-method", "value-too-long",
        "set-no-equals", "unknown-contact", "malformed-contact-id", "unknown-contact-email",
        "find-unknown", "restrict-unknown", "unknown-list", "export-unknown", "erase-unknown",
        "unknown-role",
    ],
)  # fmt: skip
def test_bad_input_exits_2_and_stores_nothing(shared, tenant, args, message):
    """Invalid input or an unknown id exits 2 with a one-line reason; nothing is stored."""
    argv = [a.format(ref=tenant.ref, contact=tenant.contact) for a in args]
    assert message in shared.fails(2, *argv, user=tenant.admin)
    if argv[:2] == ["contacts", "add"]:
        assert tenant.active() == 1


def test_unsubscribe_from_unknown_list_exits_2(shared, tenant):
    """Unsubscribing from a list the controller does not have is an unknown id (exit 2)."""
    assert "unknown list" in shared.fails(
        2, "contacts", "unsubscribe", tenant.ref, tenant.contact, "--list", "no-such-list",
        user=tenant.admin,
    )  # fmt: skip


def test_sensitive_field_needs_instruction__INSTR_3(shared, tmp_path):
    """A special-category custom field is refused (exit 1) until a sensitive-data instruction."""
    tenant = new_tenant(shared)
    cid = tenant.add("ivy@example.dk")
    add = ["contacts", "add", tenant.ref, "--list", "news", "--email", "jo@example.dk",
           "--field", "custom.health_note=asthma", "--consent", CONSENT]  # fmt: skip
    assert "INSTR-3" in shared.fails(1, *add, user=tenant.admin)
    shared.fails(
        1, "contacts", "update", tenant.ref, cid, "--set", "custom.religion=x", user=tenant.admin
    )
    csv_file = write_rows(tmp_path / "s.csv", "email,health_note", ["kim@example.dk,diabetes"])
    import_args = [
        "contacts",
        "import",
        tenant.ref,
        csv_file,
        "--list",
        "news",
        "--consent-method",
        "x",
    ]
    shared.fails(1, *import_args, user=tenant.admin)
    assert tenant.active() == 1
    shared.ok("controllers", "instruct", tenant.ref, "--kind", "sensitive-data",
              "--text", "We keep health notes for our clinic newsletter.", user=tenant.admin)  # fmt: skip
    out = shared.ok(*add, user=tenant.admin)
    shown = shared.ok("contacts", "show", tenant.ref, out["contact_id"], user=tenant.admin)
    assert shown["fields"]["custom"] == {"health_note": "asthma"}
    assert shared.ok(*import_args, user=tenant.admin)["added"] == 1
    assert tenant.active() == 3


def test_freemium_200th_contact_is_refused__SUBJ_7(shared, tmp_path):
    """A freemium account holds 199 contacts: the 200th is refused (exit 1), a known e-mail is not."""
    tenant = new_tenant(shared, account="freemium", agreement="dpa-2018")
    rows = [f"p{i}@example.dk,P{i}" for i in range(199)]
    csv_file = write_rows(tmp_path / "199.csv", "email,first_name", rows)
    out = shared.ok("contacts", "import", tenant.ref, csv_file, "--list", "news",
                    "--consent-method", "double-opt-in", user=tenant.admin)  # fmt: skip
    assert (out["added"], out["rejected"]) == (199, 0)
    add = [
        "contacts",
        "add",
        tenant.ref,
        "--list",
        "news",
        "--email",
        "p200@example.dk",
        "--consent",
        CONSENT,
    ]
    assert "SUBJ-7" in shared.fails(1, *add, user=tenant.admin)
    assert tenant.active() == 199
    assert (
        tenant.add("p0@example.dk", list_name="vip")
        == shared.ok("contacts", "find", tenant.ref, "--email", "p0@example.dk", user=tenant.admin)[
            "contact_id"
        ]
    )
    more = write_rows(
        tmp_path / "more.csv", "email", ["p1@example.dk", "q1@example.dk", "q2@example.dk"]
    )
    again = shared.ok("contacts", "import", tenant.ref, more, "--list", "news",
                      "--consent-method", "double-opt-in", user=tenant.admin)  # fmt: skip
    assert (again["added"], again["unchanged"], again["rejected"]) == (0, 1, 2)
    shared.ok(
        "erase", tenant.ref, "--email", "p5@example.dk", "--reason", "asked", user=tenant.admin
    )
    shared.ok(*add, user=tenant.admin)
    assert tenant.active() == 199
