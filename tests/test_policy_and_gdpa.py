"""The IT-security policy acknowledged at each change (ACC-15) and the GDPA's term (ACC-16)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from support import login

from processor.audit.report import build_report
from processor.audit.status import StatusService
from processor.kernel.errors import AccessDeniedError, InvalidInputError, RefusedError
from processor.services.security_policy import appointment

NEW_VERSION = "security-2027-01-15"


def _change_policy(proc, version: str = NEW_VERSION) -> None:
    """Deploy a new version of `policies/security.toml` (policies are data)."""
    security = proc.policies.security.model_copy(update={"version": version})
    proc.policies = proc.policies.model_copy(update={"security": security})


def test_a_new_store_and_new_staff_start_with_the_policy_acknowledged__ACC_15(acme):
    """`init` records the version in force; the first staff and staff added later have read it."""
    version = acme.policies.security.version
    assert acme.store_info().security_policy == version
    login(acme, "sam").users.add(
        "sven", "support", confidentiality_signed="2026-01-05", trained="2026-01-06"
    )
    for person in ("grete", "sam", "sven"):
        assert login(acme, person).policy.show()["acknowledged"] is True
    assert login(acme, "grete").staff.registry()


def test_staff_acknowledge_each_policy_change_before_acting_again__ACC_15(acme):
    """After a change staff may only read and acknowledge it; the refusal names the command."""
    _change_policy(acme)
    with pytest.raises(AccessDeniedError) as refused:
        login(acme, "sam").staff.registry()
    assert refused.value.rule == "SecurityPolicyMustBeAcknowledged"
    assert "`processor policy acknowledge`" in str(refused.value)
    assert "/v1/users/me/policy" in str(refused.value)
    assert "\n" not in str(refused.value)
    sam = login(acme, "sam")
    assert sam.policy.show() | {"points": []} == {
        "version": NEW_VERSION,
        "title": "IT-security policy",
        "points": [],
        "acknowledged": False,
    }
    assert sam.policy.acknowledge() == {"user": "sam", "version": NEW_VERSION, "acknowledged": True}
    assert login(acme, "sam").staff.registry()
    assert acme.store_info().security_policy == NEW_VERSION  # the change is recorded once
    with pytest.raises(AccessDeniedError, match="policy acknowledge"):
        login(acme, "grete").access.log()  # each person acknowledges for themself
    login(acme, "grete").policy.acknowledge()
    refused_entries = [e for e in login(acme, "grete").access.log() if e["kind"] == "refused"]
    assert {e["detail"]["rule"] for e in refused_entries} == {"SecurityPolicyMustBeAcknowledged"}
    # The controller's own users are not the processor's staff: its policy does not bind them.
    assert login(acme, "alice").controllers.show("acme")["controller"] == "acme"


def test_the_gdpa_is_appointed_at_init_for_at_least_two_years__ACC_16(acme, clock):
    """`init` records the GDPA's appointment with a term of the policy's two years."""
    recorded = appointment(acme)
    starts, ends = date.fromisoformat(recorded["starts"]), date.fromisoformat(recorded["ends"])
    assert recorded["gdpa"] == "grete"
    assert starts == clock.now().date()
    assert ends == starts.replace(year=starts.year + 2)
    assert recorded["expired"] is False
    assert recorded["renewals"] == 0


def test_an_expired_gdpa_appointment_is_a_deviation_until_renewed__ACC_16(acme, clock):
    """Past its term `status` and the report flag the appointment; a renewal clears both."""
    clock.advance(timedelta(days=2 * 366))
    grete = login(acme, "grete")
    attention = StatusService(grete.session).status()["attention"]
    assert any("GDPA's appointment expired" in line for line in attention)
    kinds = {d["kind"] for d in build_report(grete.session)["deviations"]}
    assert "gdpa-appointment-expired" in kinds
    with pytest.raises(InvalidInputError, match="--years"):
        login(acme, "sam").policy.renew_gdpa(1)
    with pytest.raises(AccessDeniedError):
        grete.policy.renew_gdpa()  # the GDPA does not appoint themself
    renewed = login(acme, "sam").policy.renew_gdpa()
    assert renewed["expired"] is False
    assert renewed["renewals"] == 1
    assert renewed["starts"] == clock.now().date().isoformat()
    attention = StatusService(login(acme, "grete").session).status()["attention"]
    assert not any("GDPA's appointment" in line for line in attention)
    kinds = {d["kind"] for d in build_report(login(acme, "grete").session)["deviations"]}
    assert "gdpa-appointment-expired" not in kinds


def test_a_new_gdpa_is_appointed_and_the_old_appointment_superseded__ACC_16(acme, clock):
    """`gdpa appoint NAME` records another active GDPA user's appointment from today for the
    minimum term; it refuses anyone else, and `renew` then extends the new person's term.
    """
    sam = login(acme, "sam")
    sam.users.add("gerda", "gdpa", confidentiality_signed="2026-01-01", trained="2026-01-01")
    with pytest.raises(RefusedError, match="GdpaMustBeAnActiveGdpaUser|gdpa role"):
        sam.policy.appoint_gdpa("alice")  # a controller's user
    with pytest.raises(RefusedError):
        sam.policy.appoint_gdpa("nobody")
    with pytest.raises(AccessDeniedError):
        login(acme, "grete").policy.appoint_gdpa("gerda")
    clock.advance(timedelta(days=30))
    appointed = sam.policy.appoint_gdpa("gerda")
    today = clock.now().date()
    assert (appointed["gdpa"], appointed["starts"]) == ("gerda", today.isoformat())
    assert appointed["ends"] == today.replace(year=today.year + 2).isoformat()
    assert appointed["renewals"] == 0 and appointment(acme)["gdpa"] == "gerda"
    renewed = sam.policy.renew_gdpa()
    assert renewed["gdpa"] == "gerda" and renewed["renewals"] == 1
