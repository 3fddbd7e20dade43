"""Erasure by crypto-shredding (RET-5, SUBJ-4), on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import people
from support import BACKENDS, fresh_store, login

from processor.kernel.errors import NotFoundError, RefusedError
from processor.keys.freetext import open_for_subject
from processor.keys.sealing import ERASED
from processor.services.erasure import ERASURE_REASON


def _add(proc, person: dict[str, str], list_name: str = "news") -> str:
    return login(proc, "alice").contacts.add(
        "acme",
        list_name,
        person["email"],
        "email:form:evidence of " + person["last_name"],
        phone=person["phone"],
        first_name=person["first_name"],
        last_name=person["last_name"],
    )["contact_id"]


def _everything_readable(proc) -> str:
    """Every way a controller user can read data, concatenated."""
    alice = login(proc, "alice")
    out = io.StringIO()
    alice.exports.export("acme", out, everything=True)
    csv_out = io.StringIO()
    alice.exports.export("acme", csv_out, everything=True, data_format="csv")
    lists = (
        alice.contacts.list_members("acme", "news") if alice.contacts.active_count("acme") else {}
    )
    return out.getvalue() + csv_out.getvalue() + json.dumps(lists)


def test_erased_subject_reads_as_erased_everywhere__RET_5(acme):
    """After erasure, show returns the marker and find, export and lists no longer hold the values."""
    alice = login(acme, "alice")
    person = {
        "email": "anne.nielsen@example.dk",
        "phone": "+4512345678",
        "first_name": "Anne",
        "last_name": "Nielsenberg",
    }
    cid = _add(acme, person)
    _add(
        acme,
        {"email": "bo@example.dk", "phone": "+4587654321", "first_name": "Bo", "last_name": "Ek"},
    )
    receipt = alice.erasure.erase("acme", "Art. 17 request", contact=cid)
    shown = alice.contacts.show("acme", cid)
    assert shown["erased"] is True
    assert shown["fields"] == str(ERASED)
    assert shown["consents"][0]["evidence"] == str(ERASED)
    with pytest.raises(NotFoundError):
        alice.contacts.find("acme", person["email"])
    readable = _everything_readable(acme)
    for value in person.values():
        assert value not in readable
    assert receipt["metadata"]["details"]["contact_id"] == cid
    assert "Art. 17 request" not in json.dumps(receipt)  # no free text in a receipt


def test_erasure_destroys_the_key_and_records_who_why_when__RET_5(acme, clock):
    """The key is gone from the key store; the event says who erased, why and when."""
    alice = login(acme, "alice")
    cid = _add(
        acme, {"email": "a@example.dk", "phone": "+4511111111", "first_name": "A", "last_name": "B"}
    )
    alice.erasure.erase("acme", "request", email="A@example.dk")
    assert acme.keys.is_shredded(cid)
    last = acme.store.mapper.to_domain_event(
        acme.store.recorder.select_notifications(
            start=acme.store.recorder.max_notification_id(), limit=1
        )[0]
    )
    assert type(last).__qualname__ == "Contact.ContactErased"
    assert (last.actor, last.timestamp) == ("alice", clock.now())
    # The reason is about this subject alone: sealed with its key, gone with it (RET-5).
    assert last.reason != "request"
    assert open_for_subject(acme.sealer, cid, ERASURE_REASON, last.reason) == "[erased]"


def test_erased_contact_cannot_be_changed_or_erased_again(acme):
    """Nothing more happens to an erased contact."""
    alice = login(acme, "alice")
    cid = _add(
        acme, {"email": "a@example.dk", "phone": "+4511111111", "first_name": "A", "last_name": "B"}
    )
    alice.erasure.erase("acme", "request", contact=cid)
    with pytest.raises(RefusedError):
        alice.erasure.erase("acme", "again", contact=cid)
    with pytest.raises(RefusedError):
        alice.contacts.update("acme", cid, {"city": "X"})
    with pytest.raises(RefusedError):
        alice.contacts.unsubscribe("acme", cid, "news")


def test_erased_email_can_be_added_again_as_a_new_subject(acme):
    """A person erased and later re-subscribing becomes a new contact with a new key."""
    alice = login(acme, "alice")
    old = _add(
        acme, {"email": "a@example.dk", "phone": "+4511111111", "first_name": "A", "last_name": "B"}
    )
    alice.erasure.erase("acme", "request", contact=old)
    new = alice.contacts.add("acme", "news", "a@example.dk", "email:form")
    assert new["created"] and new["contact_id"] != old


def test_interrupted_erasure_completes_on_next_catch_up__RET_5(acme):
    """If the process dies after storing ContactErased but before shredding, the projector shreds."""
    alice = login(acme, "alice")
    cid = _add(
        acme, {"email": "a@example.dk", "phone": "+4511111111", "first_name": "A", "last_name": "B"}
    )
    contact = alice.contacts.load("acme", cid)
    with acme.using_clock():
        contact.erase(actor="alice", reason="request", policy_version="test")
        acme.store.save(contact)  # stored, but neither shredded nor projected: a crash here
    assert not acme.keys.is_shredded(cid)
    acme.catch_up()
    assert acme.keys.is_shredded(cid)


@pytest.mark.parametrize("backend_name", BACKENDS)
@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.data(), crowd=st.lists(people(), min_size=2, max_size=6, unique_by=lambda p: p["email"])
)
def test_after_erasure_no_read_yields_the_subjects_values__RET_5(backend_name, data, crowd):
    """Property: for any contacts and any erased subset, no export, find, show or list shows erased values."""
    erased = data.draw(st.sets(st.integers(0, len(crowd) - 1), min_size=1))
    # Markers that cannot occur by chance inside JSON keys, words or UUID hex.
    crowd = [{**p, "last_name": f"Qz{p['last_name']}Zq"} for p in crowd]
    with fresh_store(backend_name) as proc:
        ids = [_add(proc, p) for p in crowd]
        alice = login(proc, "alice")
        for i in sorted(erased):
            alice.erasure.erase("acme", "request", contact=ids[i])
        readable = _everything_readable(proc)
        for i in erased:
            shown = json.dumps(alice.contacts.show("acme", ids[i]))
            for field in ("email", "last_name"):
                value = crowd[i][field]
                if any(
                    value in crowd[j][field] or value in crowd[j]["email"]
                    for j in range(len(crowd))
                    if j not in erased
                ):
                    continue  # another live contact shares the value; its presence proves nothing
                assert value not in readable
                assert value not in shown
            with pytest.raises(NotFoundError):
                alice.contacts.find("acme", crowd[i]["email"])
        for j in set(range(len(crowd))) - erased:
            assert crowd[j]["email"] in readable
