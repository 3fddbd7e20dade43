"""Contacts, consent and lists, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import io
import unicodedata

import pytest
from support import login

from processor.domain.ids import controller_id
from processor.kernel.errors import InvalidInputError, NotFoundError, RefusedError


def test_add_records_fields_source_and_consent__SUBJ_1__SUBJ_2(acme):
    """A contact keeps its fields, where it came from and when and how consent was given."""
    alice = login(acme, "alice")
    added = alice.contacts.add(
        "acme",
        "news",
        "anne@example.dk",
        "email:double-opt-in:signup form v3",
        phone="+45 12345678",
        first_name="Anne",
        last_name="Nielsen",
        fields={"city": "Aarhus", "shoe_size": "38"},
    )
    shown = alice.contacts.show("acme", added["contact_id"])
    assert shown["fields"]["first_name"] == "Anne"
    assert shown["fields"]["custom"] == {"shoe_size": "38"}
    assert shown["source"] == "manual"
    consent = shown["consents"][0]
    assert (consent["channel"], consent["method"], consent["evidence"]) == (
        "email",
        "double-opt-in",
        "signup form v3",
    )
    assert consent["given_at"].startswith("2026-03-02T09:00")


def test_same_email_adds_list_and_consent_to_existing_contact(acme):
    """Adding an e-mail the controller has (any case, spacing or composition) joins that contact."""
    alice = login(acme, "alice")
    first = alice.contacts.add("acme", "news", "søren@example.dk", "email:form")
    typed = "  " + unicodedata.normalize("NFD", "SØREN@EXAMPLE.DK") + " "
    second = alice.contacts.add("acme", "vip", typed, "email:web:checkbox")
    assert second == {"contact_id": first["contact_id"], "created": False}
    shown = alice.contacts.show("acme", first["contact_id"])
    assert set(shown["lists"]) == {"news", "vip"}
    assert len(shown["consents"]) == 2


def test_find_by_email_uses_the_blind_index(acme):
    """Find works with other case and surrounding space, and only within the controller."""
    login(acme, "alice").contacts.add("acme", "news", "Anne@Example.dk", "email:form")
    found = login(acme, "alice").contacts.find("acme", " anne@example.DK")
    assert found["fields"]["email"] == "Anne@Example.dk"
    with pytest.raises(NotFoundError):
        login(acme, "bob").contacts.find("beta", "anne@example.dk")


def test_unsubscribe_stops_sending_but_keeps_data__SUBJ_3(acme):
    """An unsubscribed contact leaves the current list; its data and consent history stay."""
    alice = login(acme, "alice")
    cid = alice.contacts.add("acme", "news", "anne@example.dk", "email:form", first_name="Anne")[
        "contact_id"
    ]
    alice.contacts.unsubscribe("acme", cid, "news")
    assert alice.contacts.list_members("acme", "news")["count"] == 0
    shown = alice.contacts.show("acme", cid)
    assert shown["fields"]["first_name"] == "Anne"
    assert shown["lists"]["news"]["subscribed"] is False
    assert len(shown["consents"]) == 1


def test_current_list_excludes_restricted_objected_and_erased__SUBJ_4(acme):
    """The current list has only subscribed contacts that are not restricted, objected or erased."""
    alice = login(acme, "alice")
    ids = [
        alice.contacts.add("acme", "news", f"p{i}@example.dk", "email:form")["contact_id"]
        for i in range(5)
    ]
    alice.contacts.set_state("restrict", "acme", ids[0], "accuracy contested")
    alice.contacts.set_state("object", "acme", ids[1], "")
    alice.erasure.erase("acme", "request", contact=ids[2])
    members = alice.contacts.list_members("acme", "news")
    assert {m["contact_id"] for m in members["members"]} == set(ids[3:])
    alice.contacts.set_state("unrestrict", "acme", ids[0], "resolved")
    assert alice.contacts.list_members("acme", "news")["count"] == 3


def test_rectification_changes_values_and_index__SUBJ_4(acme):
    """A rectified e-mail is found under the new address and not the old one."""
    alice = login(acme, "alice")
    cid = alice.contacts.add("acme", "news", "old@example.dk", "email:form", last_name="Hansen")[
        "contact_id"
    ]
    result = alice.contacts.update("acme", cid, {"email": "new@example.dk", "last_name": "Holm"})
    assert result["changed"] == ["email", "last_name"]
    assert alice.contacts.find("acme", "new@example.dk")["fields"]["last_name"] == "Holm"
    with pytest.raises(NotFoundError):
        alice.contacts.find("acme", "old@example.dk")


def test_rectification_cannot_take_another_contacts_email(acme):
    """Two live contacts of one controller never share an e-mail."""
    alice = login(acme, "alice")
    alice.contacts.add("acme", "news", "a@example.dk", "email:form")
    b = alice.contacts.add("acme", "news", "b@example.dk", "email:form")["contact_id"]
    with pytest.raises(RefusedError):
        alice.contacts.update("acme", b, {"email": "A@example.dk"})


def test_sensitive_custom_field_needs_an_instruction__INSTR_3(acme):
    """A special-category field is refused until the controller has given notice of it."""
    alice = login(acme, "alice")
    with pytest.raises(RefusedError, match="sensitive-data"):
        alice.contacts.add(
            "acme", "news", "a@example.dk", "email:form", fields={"health_note": "asthma"}
        )
    alice.controllers.instruct(
        "acme", "sensitive-data", "We store health notes for our clinic customers."
    )
    added = alice.contacts.add(
        "acme", "news", "a@example.dk", "email:form", fields={"health_note": "asthma"}
    )
    assert (
        alice.contacts.show("acme", added["contact_id"])["fields"]["custom"]["health_note"]
        == "asthma"
    )


def test_instructions_are_recorded_with_date_and_author__INSTR_1(acme, clock):
    """Every documented instruction is kept, dated by its event and attributed."""
    alice = login(acme, "alice")
    alice.controllers.instruct("acme", "general", "Send newsletters to subscribers only.")
    shown = alice.controllers.show("acme")
    assert shown["instructions"] == [
        {
            "number": 1,
            "flag": None,
            "kind": "general",
            "text": "Send newsletters to subscribers only.",
            "details": {},
            "given_at": clock.now().isoformat(),
            "given_by": "alice",
        },
    ]


def test_controller_shows_its_agreement_terms__INSTR_4(acme):
    """A controller's edition selects the terms shown for it."""
    bob = login(acme, "bob")
    shown = bob.controllers.show("beta")
    assert shown["agreement"] == "dpa-2018"
    assert shown["agreement_terms"]["breach_notice_fixed_by_agreement"] is False


def test_freemium_refuses_the_200th_contact__SUBJ_7(acme):
    """A freemium account holds fewer than 200 contacts."""
    import io

    bob = login(acme, "bob")
    data = "email\n" + "\n".join(f"r{i}@example.org" for i in range(199)) + "\n"
    result = bob.imports.import_csv("beta", io.BytesIO(data.encode()), "readers", "form")
    assert result.added == 199
    with pytest.raises(RefusedError, match="SUBJ-7"):
        bob.contacts.add("beta", "readers", "one-more@example.org", "email:form")


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"email": "not-an-email"}, InvalidInputError),
        ({"email": "a@example.dk", "phone": "call me"}, InvalidInputError),
        ({"email": "a@example.dk", "consent": "pigeon:form"}, InvalidInputError),
        ({"email": "a@example.dk", "consent": "email"}, InvalidInputError),
        ({"email": "a@example.dk", "fields": {"birth_date": "1999-02-31"}}, InvalidInputError),
        ({"email": "a@example.dk", "fields": {"city": "x" * 1001}}, InvalidInputError),
    ],
)
def test_bad_input_stores_nothing(acme, kwargs, error):
    """Invalid values are refused with a clear error and nothing is stored."""
    alice = login(acme, "alice")
    before = acme.store.recorder.max_notification_id()
    args = {"consent": "email:form", **kwargs}
    with pytest.raises(error):
        alice.contacts.add("acme", "news", args.pop("email"), args.pop("consent"), **args)
    assert acme.store.recorder.max_notification_id() == before


def test_unknown_ids_are_not_found(acme):
    """Unknown controller, contact and list are reported as such."""
    alice = login(acme, "alice")
    with pytest.raises(NotFoundError):
        login(acme, "sam").controllers.show("nope")
    with pytest.raises(NotFoundError):
        alice.contacts.show("acme", "00000000-0000-0000-0000-000000000000")
    with pytest.raises(NotFoundError):
        alice.contacts.list_members("acme", "no-such-list")
    with pytest.raises(InvalidInputError):
        alice.contacts.show("acme", "not-a-uuid")


def test_recorded_times_are_the_events_own_times__SUBJ_2(acme, clock):
    """Consent, unsubscribe and instruction times are when they happened, not the previous event's."""
    from datetime import timedelta

    alice = login(acme, "alice")
    cid = alice.contacts.add("acme", "news", "t@example.dk", "email:form")["contact_id"]
    clock.advance(timedelta(days=3))
    alice.contacts.add("acme", "vip", "t@example.dk", "email:web")
    clock.advance(timedelta(days=2))
    alice.contacts.unsubscribe("acme", cid, "news")
    alice.controllers.instruct("acme", "general", "text")
    shown = alice.contacts.show("acme", cid)
    assert shown["lists"]["vip"]["since"] == (clock.now() - timedelta(days=2)).isoformat()
    assert shown["consents"][1]["recorded_at"] == (clock.now() - timedelta(days=2)).isoformat()
    assert shown["lists"]["news"]["unsubscribed_at"] == clock.now().isoformat()
    assert alice.controllers.show("acme")["instructions"][0]["given_at"] == clock.now().isoformat()


@pytest.mark.parametrize(
    ("scope", "data_format"), [("contact", "json"), ("all", "json"), ("all", "csv")]
)
def test_every_export_is_recorded_with_its_scope_format_count_and_digest__SUBJ_6(
    acme, scope, data_format
):
    """Each export the controller asks for, free of charge, leaves a `DataExported` record on
    the controller with who, what scope, which format, how many contacts and the SHA-256 of
    exactly the bytes handed over; a refused export records none.
    """
    alice = login(acme, "alice")
    first = alice.contacts.add("acme", "news", "eva@example.dk", "email:form:signup")
    alice.contacts.add("acme", "news", "finn@example.dk", "email:form:signup")
    before = acme.find(controller_id("acme")).exports
    out = io.StringIO()
    target = {"everything": True} if scope == "all" else {"contact": first["contact_id"]}
    summary = alice.exports.export("acme", out, data_format=data_format, **target)
    written = hashlib.sha256(out.getvalue().encode("utf-8")).hexdigest()
    recorded = [
        e
        for e in acme.store.events.get(controller_id("acme"))
        if type(e).__qualname__ == "Controller.DataExported"
    ]
    assert len(recorded) == before + 1
    last = recorded[-1]
    assert (last.actor, last.scope, last.data_format, last.contacts, last.sha256) == (
        "alice",
        scope,
        data_format,
        2 if scope == "all" else 1,
        written,
    )
    assert summary["sha256"] == written
    with pytest.raises(InvalidInputError):
        alice.exports.export("acme", io.StringIO(), data_format="xml", everything=True)
    assert acme.find(controller_id("acme")).exports == before + 1


def test_a_harmless_column_name_with_a_sensitive_value_needs_an_instruction__INSTR_3(acme):
    """Issue 25: `NOTES` holding "Has diabetes" is refused like a field named `health`: by
    `contacts add`, by `contacts update`, and row by row on import (the row to the rejects
    with the category, never the value); a sensitive-data instruction lets it in.
    """
    import io

    alice = login(acme, "alice")
    with pytest.raises(RefusedError, match=r"'notes' holds .*\(health\)") as refused:
        alice.contacts.add(
            "acme", "news", "n@example.dk", "email:form", fields={"notes": "Has diabetes"}
        )
    assert refused.value.rule == "SensitiveDataNeedsInstruction"
    assert "diabetes" not in str(refused.value)
    plain = alice.contacts.add(
        "acme", "news", "n@example.dk", "email:form", fields={"notes": "VIP since 2020"}
    )["contact_id"]
    with pytest.raises(RefusedError, match="sensitive-data"):
        alice.contacts.update("acme", plain, {"notes": "kræft i familien"})
    result = alice.imports.import_csv(
        "acme",
        io.BytesIO(b"email,notes\nok@example.dk,likes hiking\nno@example.dk,Has diabetes\n"),
        "news",
        "double-opt-in",
    )
    assert (result.added, result.rejected) == (1, 1)
    assert "special-category" in " ".join(result.reasons)
    assert "diabetes" not in " ".join(result.reasons)
    alice.controllers.instruct("acme", "sensitive-data", "We keep health notes for our clinic.")
    alice.contacts.update("acme", plain, {"notes": "kræft i familien"})
