"""The Effecttracker profile is a whole profile: the seed's story (seeds/004) on both backends.

`init --profile effecttracker` selects its own sub-processor list (Bilag A and B), no staff
access, and 24-hour retention of sent message content (SUB-1, SUB-6, ACC-11, RET-7).
"""

from __future__ import annotations

import pytest
from support import UNDERTAKING, login, sign_agreement

from processor.kernel.errors import ProcessorError
from processor.retention_policy import load_retention_policy
from processor.services.setup import initialise

US_ON_PRIVACY_SHIELD = ("Sendgrid", "Google LLC", "Dropbox, Inc.")


@pytest.fixture
def effecttracker(settings, clock):
    """A store initialised with the Effecttracker profile and one customer, `kunde`."""
    proc = initialise(
        settings,
        gdpa_undertaking=UNDERTAKING,
        manager_undertaking=UNDERTAKING,
        gdpa="grete",
        system_manager="sam",
        clock=clock,
        profile="effecttracker",
    )
    login(proc, "sam").controllers.register(
        "kunde", "Kunde ApS", "DK", "paying", "scc", admin="kim"
    )
    sign_agreement(proc, "kunde")
    yield proc
    proc.close()


def test_effecttracker_uses_its_own_subprocessor_list__SUB_1(effecttracker):
    """The registry holds Effecttracker's Bilag A/B, not the SCC edition's list."""
    listing = login(effecttracker, "grete").subprocessors.listing("kunde")
    names = {row["name"] for row in listing["subprocessors"]}
    assert {"Amazon Web Services (Sweden)", "FrontIT", *US_ON_PRIVACY_SHIELD} <= names
    scc_only = {"Zendesk Inc"}
    assert not names & scc_only


def test_us_entries_on_privacy_shield_are_refused_after_schrems_ii__SUB_6(effecttracker):
    """Sendgrid and the other US entries rest on the Privacy Shield, invalid from 2020-07-16."""
    grete = login(effecttracker, "grete")
    sendgrid = grete.subprocessors.decide("kunde", "Sendgrid", "email")
    assert not sendgrid.allowed
    assert sendgrid.obligation == "SUB-6"
    assert "2020-07-16" in sendgrid.reason
    hosting = grete.subprocessors.decide("kunde", "Amazon Web Services (Sweden)", "hosting")
    assert hosting.allowed
    findings = grete.subprocessors.check("kunde")
    flagged = {f["subprocessor"] for f in findings["findings"]}
    assert set(US_ON_PRIVACY_SHIELD) <= flagged


def test_effecttracker_staff_never_access_customer_data__ACC_11(effecttracker):
    """No grant can be opened under the Effecttracker profile."""
    login(effecttracker, "sam").users.add(
        "sue", "support", confidentiality_signed=UNDERTAKING[0], trained=UNDERTAKING[1]
    )
    with pytest.raises(ProcessorError):
        login(effecttracker, "sue").access.request("kunde", "ticket")


def test_effecttracker_keeps_sent_content_24_hours__RET_7(effecttracker):
    """Sent e-mails' content is kept 24 hours (seeds/004 item 3)."""
    profile = effecttracker.store_info().profile
    assert profile == "effecttracker"
    assert load_retention_policy().message_content.hours(profile) == 24
