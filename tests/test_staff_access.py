"""Staff access: registry, pseudonymised views, grants, reveals, lockout (ACC-1 … ACC-11)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from datetime import timedelta

import pytest
import sqlalchemy as sa
from support import UNDERTAKING, fresh_store, login, open_support_case, sign_agreement, support_view

from processor.audit.samples import SamplesService
from processor.kernel.errors import (
    AccessDeniedError,
    ConflictError,
    InvalidInputError,
    RefusedError,
)
from processor.readmodels import tables as t
from processor.readmodels.rebuild import rebuild

SECRET = {"email": "karen.secret@example.dk", "first_name": "Karenina", "last_name": "Skjoldborg"}


@pytest.fixture
def desk(acme):
    """Acme with one contact and a trained, bound support user `sven`."""
    login(acme, "sam").users.add(
        "sven", "support", confidentiality_signed="2026-01-05", trained="2026-01-06"
    )
    login(acme, "alice").contacts.add(
        "acme",
        "news",
        SECRET["email"],
        "email:double-opt-in:form",
        first_name=SECRET["first_name"],
        last_name=SECRET["last_name"],
        phone="+4522334455",
    )
    return acme


def _pseudonym(proc) -> str:
    return support_view(proc, "sven", "acme", "alice")["contacts"][0]["pseudonym"]


def test_support_view_is_pseudonymised__ACC_5(desk):
    """The support view shows pseudonyms and non-identifying facts, never a personal value."""
    view = support_view(desk, "sven", "acme", "alice", list_name="news")
    text = json.dumps(view)
    assert view["count"] == 1
    contact = view["contacts"][0]
    assert contact["pseudonym"].startswith("p-")
    assert contact["consents"][0]["channel"] == "email"
    for value in (*SECRET.values(), "+4522334455", "s1."):
        assert value not in text


def test_pseudonyms_are_stable_across_views_and_rebuilds__ACC_5(desk):
    """The same contact keeps its pseudonym across views and rebuilds."""
    first = _pseudonym(desk)
    rebuild(desk.projector)
    assert _pseudonym(desk) == first


def _contact_id(proc) -> str:
    return str(login(proc, "alice").contacts.find("acme", SECRET["email"])["contact_id"])


def _unkeyed_candidates(contact_id: str) -> set[str]:
    """What a pseudonym computed from the contact id alone, with no secret, could look like."""
    forms = {contact_id, contact_id.replace("-", ""), contact_id.upper()}
    digests = set(forms)
    for form in forms:
        data = form.encode()
        digests |= {hashlib.new(name, data).hexdigest() for name in ("md5", "sha1", "sha256")}
        digests |= {hashlib.blake2b(data).hexdigest(), hashlib.sha3_256(data).hexdigest()}
        # HMACs under keys anyone knows: none, the controller's reference, the id itself.
        for known in (b"", b"acme", data):
            digests.add(hmac.digest(known, data, "sha256").hex())
    return {f"p-{d}" for d in digests} | {f"p-{d[:20]}" for d in digests}


def test_a_pseudonym_cannot_be_computed_without_the_controllers_key__ACC_5(desk):
    """The view's pseudonym is an HMAC under the controller's pseudonym key: it is none of the
    values computable from the contact id alone, and the id does not appear in it.
    """
    cid = _contact_id(desk)
    shown = _pseudonym(desk)
    assert shown not in _unkeyed_candidates(cid)
    assert cid not in shown and cid.replace("-", "")[:8] not in shown
    key = desk.keys.system_key("pseudonym:acme", create=False)
    assert shown == "p-" + hmac.digest(key, cid.encode(), "sha256").hex()[:20]
    assert shown != "p-" + hmac.digest(os.urandom(32), cid.encode(), "sha256").hex()[:20]


def test_another_controller_or_store_gets_another_pseudonym_for_the_same_person__ACC_5(
    desk, backend
):
    """The same contact id has another pseudonym under beta's key, and another in a second store
    (keys are made per controller and per store), so pseudonyms cannot be linked across them.
    """
    cid = _contact_id(desk)
    shown = _pseudonym(desk)
    assert desk.projector.pseudonym("acme", cid) == shown
    assert desk.projector.pseudonym("beta", cid) != shown
    with fresh_store(backend) as other:
        assert other.projector.pseudonym("acme", cid) not in (shown, "")
        assert other.projector.pseudonym("acme", cid) == other.projector.pseudonym("acme", cid)


def test_reveal_needs_an_approved_grant_and_is_logged_with_reason__ACC_4__ACC_6(desk, clock):
    """A reveal works only after the controller approves, and is logged with who, why and when."""
    sven, alice = login(desk, "sven"), login(desk, "alice")
    p = _pseudonym(desk)
    grant = sven.access.request("acme", "ticket 42: bounces", [p], hours=2)
    assert grant["state"] == "pending"
    with pytest.raises(AccessDeniedError, match="pending"):
        sven.access.reveal(grant["grant"], p)
    alice.access.decide(grant["grant"], approve=True)
    shown = sven.access.reveal(grant["grant"], p)
    assert shown["fields"]["email"] == SECRET["email"]
    entries = alice.access.log()
    revealed = [e for e in entries if e["kind"] == "revealed"]
    assert len(revealed) == 1
    assert (revealed[0]["actor"], revealed[0]["reason"], revealed[0]["at"]) == (
        "sven",
        "ticket 42: bounces",
        clock.now().isoformat(),
    )
    assert revealed[0]["detail"]["fields"] == ["email", "first_name", "last_name", "phone"]


def test_no_reveal_after_expiry_or_revocation__ACC_6(desk, clock):
    """An expired or revoked grant reveals nothing."""
    sven, alice = login(desk, "sven"), login(desk, "alice")
    p = _pseudonym(desk)
    g = sven.access.request("acme", "ticket 7", hours=1)["grant"]
    alice.access.decide(g, approve=True)
    clock.advance(timedelta(hours=1, seconds=1))
    with pytest.raises(AccessDeniedError, match="expired"):
        sven.access.reveal(g, p)
    g2 = sven.access.request("acme", "ticket 8", hours=1)["grant"]
    alice.access.decide(g2, approve=True)
    alice.access.revoke(g2, "done")
    with pytest.raises(AccessDeniedError, match="revoked"):
        sven.access.reveal(g2, p)


def test_grant_scope_limits_contacts__ACC_4(desk):
    """A grant for one contact does not reveal another."""
    login(desk, "alice").contacts.add("acme", "news", "other@example.dk", "email:form")
    view = support_view(desk, "sven", "acme", "alice")["contacts"]
    first, second = (c["pseudonym"] for c in view)
    g = login(desk, "sven").access.request("acme", "one contact", [first])["grant"]
    login(desk, "alice").access.decide(g, approve=True)
    login(desk, "sven").access.reveal(g, first)
    with pytest.raises(AccessDeniedError, match="cover"):
        login(desk, "sven").access.reveal(g, second)


def test_standing_instruction_approves_automatically__ACC_4(desk):
    """Under a standing support-access instruction a request is approved at once and says so."""
    login(desk, "alice").controllers.instruct(
        "acme", "support-access", "Support may look when we open a ticket."
    )
    g = login(desk, "sven").access.request("acme", "ticket 9")
    assert (g["state"], g["automatic"]) == ("approved", True)


def test_grant_length_is_limited_by_policy__ACC_4(desk):
    """A grant longer than the profile allows is refused."""
    with pytest.raises(InvalidInputError, match="between 1 and 8"):
        login(desk, "sven").access.request("acme", "long", hours=9)


def test_denied_request_reveals_nothing__ACC_4(desk):
    """A denied request can never be used."""
    g = login(desk, "sven").access.request("acme", "curious")["grant"]
    login(desk, "alice").access.decide(g, approve=False, reason="no ticket")
    with pytest.raises(AccessDeniedError):
        login(desk, "sven").access.reveal(g, _pseudonym(desk))
    with pytest.raises(RefusedError):
        login(desk, "alice").access.decide(g, approve=True)


def test_only_the_controllers_administrator_approves__ACC_4(desk):
    """Staff cannot approve their own request, nor can another controller."""
    g = login(desk, "sven").access.request("acme", "ticket")["grant"]
    for user in ("sven", "bob", "mia", "grete"):
        with pytest.raises(AccessDeniedError):
            login(desk, user).access.decide(g, approve=True)


def test_staff_without_undertaking_or_training_cannot_access__ACC_1(desk):
    """Processor staff need confidentiality and training on record before any access."""
    login(desk, "sam").users.add("dev", "developer")
    with pytest.raises(AccessDeniedError):
        support_view(desk, "dev", "acme", "alice")


def test_review_overdue_blocks_access_and_is_listed__ACC_2(desk, clock):
    """Past the review period a staff member is listed as overdue and cannot open grants."""
    clock.advance(timedelta(days=181))
    registry = {r["name"]: r for r in login(desk, "grete").staff.registry()}
    assert registry["sven"]["overdue_for_review"] is True
    with pytest.raises(AccessDeniedError, match="review"):
        login(desk, "sven").access.request("acme", "ticket")
    login(desk, "grete").staff.review("sven", "still needed")
    assert login(desk, "sven").access.request("acme", "ticket")["state"] == "pending"


def test_revoked_user_can_do_nothing_including_held_grants__ACC_2(desk):
    """Revocation stops access at once, grants included."""
    p = _pseudonym(desk)
    g = login(desk, "sven").access.request("acme", "ticket")["grant"]
    login(desk, "alice").access.decide(g, approve=True)
    login(desk, "sam").staff.revoke("sven", "left the company")
    with pytest.raises(AccessDeniedError, match="revoked"):
        login(desk, "sven").access.reveal(g, p)
    with pytest.raises(AccessDeniedError, match="revoked"):
        support_view(desk, "sven", "acme", "alice")


def test_staff_registry_shows_confidentiality__ACC_3(desk):
    """On request, the registry shows staff with their confidentiality undertaking and training."""
    rows = {r["name"]: r for r in login(desk, "alice").staff.registry()}
    assert rows["sven"]["confidentiality_signed"] == "2026-01-05"
    assert rows["sven"]["trained"] == "2026-01-06"


def test_sample_check_is_recorded_with_findings__ACC_7(desk):
    """A GDPA's random sample of the access log is recorded, and a clean log has no violations."""
    p = _pseudonym(desk)
    g = login(desk, "sven").access.request("acme", "ticket")["grant"]
    login(desk, "alice").access.decide(g, approve=True)
    login(desk, "sven").access.reveal(g, p)
    result = SamplesService(login(desk, "grete").session).draw(size=5, seed=7)
    assert result["size"] >= 1
    assert result["deviations"] == 0
    assert [
        s["sample"] for s in SamplesService(login(desk, "grete").session).list()["samples"]
    ] == [result["sample"]]


def test_repeated_refusals_lock_the_user_until_a_gdpa_unlocks__ACC_8(desk):
    """After N refused attempts within the window the user is locked; a GDPA unlocks them."""
    mia = login(desk, "mia")
    for _ in range(5):
        with pytest.raises(AccessDeniedError):
            mia.erasure.erase("acme", "x", email=SECRET["email"])
    with pytest.raises(AccessDeniedError, match="locked"):
        mia.contacts.find("acme", SECRET["email"])
    login(desk, "grete").staff.unlock("mia", "talked to her")
    assert mia.contacts.find("acme", SECRET["email"])["fields"]["email"] == SECRET["email"]


def test_controller_users_reads_of_a_subject_are_logged__ACC_9__ACC_6(desk):
    """A controller user's read of one subject is an access-log entry the administrator can see."""
    login(desk, "mia").contacts.find("acme", SECRET["email"])
    entries = login(desk, "alice").access.log(staff="mia")
    assert [(e["kind"], e["reason"]) for e in entries] == [("viewed", "contacts find")]


def test_administrators_see_only_their_own_log__ACC_9(desk):
    """The access log of one controller is not shown to another's administrator."""
    support_view(desk, "sven", "acme", "alice")
    assert login(desk, "bob").access.log() == []
    with pytest.raises(AccessDeniedError):
        login(desk, "bob").access.log(controller="acme")


def test_no_staff_access_profile_opens_no_grant__ACC_11(tmp_path, backend):
    """Under the no-staff-access profile no grant can be opened and no support view shown."""
    from support import login, make_settings

    from processor.services.setup import initialise

    settings, schemas = make_settings(backend, tmp_path)
    proc = initialise(
        settings,
        gdpa_undertaking=UNDERTAKING,
        manager_undertaking=UNDERTAKING,
        gdpa="grete",
        system_manager="sam",
        profile="no-staff-access",
    )
    try:
        login(proc, "sam").controllers.register(
            "acme", "Acme", "DK", "paying", "scc", admin="alice"
        )
        sign_agreement(proc, "acme")
        login(proc, "sam").users.add(
            "sven", "support", confidentiality_signed="2026-01-01", trained="2026-01-01"
        )
        login(proc, "alice").controllers.instruct("acme", "support-access", "always allowed")
        with pytest.raises(AccessDeniedError, match="no-staff-access"):
            login(proc, "sven").access.request("acme", "ticket")
        with pytest.raises(AccessDeniedError, match="no-staff-access"):
            support_view(proc, "sven", "acme", "alice")
    finally:
        proc.close()
        if schemas:
            from support import drop_schemas

            drop_schemas(*schemas)


def test_a_reveal_that_cannot_be_logged_shows_nothing__ACC_6(desk, monkeypatch):
    """If PersonalDataRevealed cannot be stored, the reveal fails and returns no data."""
    p = _pseudonym(desk)
    g = login(desk, "sven").access.request("acme", "ticket")["grant"]
    login(desk, "alice").access.decide(g, approve=True)
    sven = login(desk, "sven")
    opened: list[str] = []
    original_open = desk.sealer.open

    def spying_open(*args, **kwargs):
        opened.append(args[1])
        return original_open(*args, **kwargs)

    def failing_save(*_aggregates, **_kwargs):
        raise ConflictError("event store unavailable")

    monkeypatch.setattr(desk.sealer, "open", spying_open)
    # The recorder, under every way of saving (`Application.save` and the direct `events.put`).
    monkeypatch.setattr(desk.store.recorder, "insert_events", failing_save)
    with pytest.raises(ConflictError):
        sven.access.reveal(g, p)
    assert "profile" not in opened


def test_a_support_view_needs_the_controllers_open_support_request__ACC_4(desk, clock):
    """No view without the controller's open request naming the case; closed or old ones end it."""
    sven = login(desk, "sven")
    with pytest.raises(AccessDeniedError, match="no open support request") as refused:
        sven.access.support_view("acme", case="T-1", reason="mails bounce")
    assert refused.value.rule == "SupportNeedsTheControllersOpenRequest"
    open_support_case(desk, "acme", "alice", "T-1")
    with pytest.raises(AccessDeniedError, match="no open support request"):
        sven.access.support_view("acme", case="T-2", reason="mails bounce")
    assert sven.access.support_view("acme", case="T-1", reason="mails bounce")["count"] == 1
    login(desk, "alice").access.close_case("acme", "T-1")
    with pytest.raises(AccessDeniedError, match="no open support request"):
        sven.access.support_view("acme", case="T-1", reason="mails bounce")
    open_support_case(desk, "acme", "alice", "T-3")
    clock.advance(timedelta(days=31))  # the profile keeps a request open for 30 days
    with pytest.raises(AccessDeniedError, match="no open support request"):
        sven.access.support_view("acme", case="T-3", reason="mails bounce")


def test_staff_cannot_open_a_support_case_in_the_controllers_name__ACC_4__ACC_9(desk):
    """A support request comes from the controller's own administrator, never the processor."""
    for staff in ("sam", "sven", "grete"):
        with pytest.raises(AccessDeniedError) as refused:
            open_support_case(desk, "acme", staff, "T-9")
        assert refused.value.rule == "SupportRequestsComeFromTheController"
    with pytest.raises(AccessDeniedError):
        open_support_case(desk, "acme", "bob", "T-9")  # another controller's administrator
    with pytest.raises(InvalidInputError, match="--case"):
        login(desk, "alice").controllers.instruct("acme", "support-request", "help", {})


def test_every_support_view_is_logged_with_date_case_reason_and_person__ACC_6(desk, clock):
    """The log shows when, who, which case and why; the reason is sealed in the read model."""
    open_support_case(desk, "acme", "alice", "T-1")
    with pytest.raises(InvalidInputError, match="reason"):
        login(desk, "sven").access.support_view("acme", case="T-1", reason=" ")
    login(desk, "sven").access.support_view("acme", case="T-1", reason="why mails bounce")
    [entry] = [e for e in login(desk, "alice").access.log(staff="sven") if e["kind"] == "viewed"]
    assert entry["actor"] == "sven"
    assert entry["at"] == clock.now().isoformat()
    assert entry["reason"] == "why mails bounce"
    assert entry["detail"] == {"scope": "pseudonymised", "case": "T-1"}
    with desk.engines.readmodels.connect() as conn:
        stored = conn.execute(sa.select(t.access_log.c.reason)).scalars().all()
    assert "why mails bounce" not in stored
