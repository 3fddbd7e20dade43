"""Contact persons of both parties, each change made known to the other party (AUD-5)."""

from __future__ import annotations

import pytest
from support import login

from processor.audit.checks_summary import checks_evidence
from processor.audit.contactpersons import ContactPersonsService
from processor.kernel.errors import AccessDeniedError, InvalidInputError, NotFoundError
from processor.services.contact_persons import persons


def _notices(proc, controller: str) -> list[dict]:
    return [
        n
        for n in login(proc, "grete").notices.list(controller=controller)
        if n["kind"] == "contact-persons-changed"
    ]


def test_processor_contact_change_is_notified_to_every_controller__AUD_5(acme):
    """A new data-protection contact of the processor becomes a notice to acme and to beta."""
    done = ContactPersonsService(login(acme, "grete").session).set(
        "processor", "data-protection", "Grete Dahl", "dpo@processor.example", "+45 11 22 33 44"
    )
    assert done["notified"] == 2
    for ref in ("acme", "beta"):
        (notice,) = _notices(acme, ref)
        assert "data-protection" in notice["title"]
        assert "dpo@processor.example" in notice["body"]
    assert persons(acme, "processor")["data-protection"]["phone"] == "+45 11 22 33 44"


def test_controller_contact_change_is_notified_to_the_processor__AUD_5(acme):
    """Acme's administrator records, replaces and removes its representative; each is a notice."""
    alice = ContactPersonsService(login(acme, "alice").session)
    alice.set("acme", "representative", "Alice Holm", "alice@acme.example")
    alice.set("acme", "representative", "Anders Holm", "anders@acme.example")
    assert persons(acme, "acme")["representative"]["name"] == "Anders Holm"
    alice.remove("acme", "representative")
    assert persons(acme, "acme") == {}
    titles = [n["title"] for n in _notices(acme, "acme")]
    assert [t.rsplit(" ", 1)[-1] for t in titles] == ["added", "changed", "removed"]
    assert _notices(acme, "beta") == []
    evidence = checks_evidence(acme, controller="acme", start=None, end=None)
    assert evidence["contact_changes"] == 3
    assert checks_evidence(acme, controller="beta", start=None, end=None)["contact_changes"] == 0


def test_each_party_changes_only_its_own_contact_persons__AUD_5(acme):
    """Beta's administrator cannot change acme's; support staff cannot change the processor's."""
    with pytest.raises(AccessDeniedError):
        ContactPersonsService(login(acme, "bob").session).set(
            "acme", "security", "Bo", "bo@beta.example"
        )
    login(acme, "sam").users.add(
        "sven", "support", confidentiality_signed="2026-01-05", trained="2026-01-06"
    )
    with pytest.raises(AccessDeniedError):
        ContactPersonsService(login(acme, "sven").session).set(
            "processor", "security", "Sven", "sven@processor.example"
        )
    alice = ContactPersonsService(login(acme, "alice").session)
    with pytest.raises(InvalidInputError):
        alice.set("acme", "representative", "Alice", "not-an-address")
    with pytest.raises(InvalidInputError):
        alice.set("acme", "chief", "Alice", "alice@acme.example")
    with pytest.raises(NotFoundError):
        alice.remove("acme", "security")
    assert _notices(acme, "acme") == []
