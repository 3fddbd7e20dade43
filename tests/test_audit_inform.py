"""The controller's pack for informing data subjects, from live state (SUBJ-10)."""

from __future__ import annotations

import io

import pytest
from support import login

from processor.audit.inform import inform_pack
from processor.kernel.errors import AccessDeniedError


def test_the_inform_pack_follows_the_controllers_live_state__SUBJ_10(acme):
    """Fields in use, where contacts came from, the instructions' purposes and the
    sub-processors change with what the controller does; no automated decision is made.
    """
    alice = login(acme, "alice")
    before = inform_pack(alice.session, "acme")
    assert before["what_is_collected"]["fields_in_use"] == []
    assert before["from_where"]["contacts_by_origin"] == {}
    alice.contacts.add("acme", "news", "a@example.dk", "email:form", first_name="Anne")
    alice.imports.import_csv(
        "acme", io.BytesIO(b"email,city\nb@example.dk,Aarhus\n"), "news", "double-opt-in",
        source="import:shop.csv",
    )  # fmt: skip
    alice.controllers.instruct("acme", "campaign", "spring newsletter about our shoes")
    pack = inform_pack(alice.session, "acme")
    collected = pack["what_is_collected"]["fields_in_use"]
    assert {"email", "first_name", "city"} <= set(collected)
    assert "Anne" not in str(pack) and "a@example.dk" not in str(pack)
    origin = pack["from_where"]["contacts_by_origin"]
    assert origin == {
        "entered one by one by the controller's users": 1,
        "imported from a file or list the controller provided": 1,
    }
    assert pack["from_where"]["contacts_by_request_channel"] == {"an embedded integration": 2}
    assert set(pack["from_where"]["consents_by_method"]) == {"form", "double-opt-in"}
    texts = [i["text"] for i in pack["purposes"]["instructions"]]
    assert "spring newsletter about our shoes" in texts
    assert pack["recipients"]["subprocessors"] == before["recipients"]["subprocessors"]
    assert pack["automated_decisions"]["made"] is False
    assert "Art. 22" in pack["automated_decisions"]["statement"]


def test_a_controller_sees_only_its_own_inform_pack__SUBJ_10(acme):
    """Another controller's administrator is refused; the GDPA sees any controller's."""
    login(acme, "alice").contacts.add("acme", "news", "a@example.dk", "email:form")
    with pytest.raises(AccessDeniedError):
        inform_pack(login(acme, "bob").session, "acme")
    assert inform_pack(login(acme, "grete").session, "acme")["controller"] == "acme"
    other = inform_pack(login(acme, "bob").session, "beta")
    assert other["from_where"]["contacts_by_origin"] == {}
