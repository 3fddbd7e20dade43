"""Chapter V (SUB-6): the seed lists judged at different dates, and the transfer rules."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from subprocessor_strategies import make_details

from subprocessors import (
    ControllerFacts,
    SubProcessor,
    TransferInstruction,
    add_edition_list,
    check,
    may_process,
    signature_instructions,
)

TODAY = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
BASIS_RULE = "TransferBasisMustBeInForce"
SIGNED_2018 = datetime(2018, 5, 25, tzinfo=UTC)


@pytest.fixture
def list_2018(sp_clock, editions):
    return [sp.facts() for sp in add_edition_list(editions["dpa-2018"], actor="dpo")]


def flagged(findings, rule=BASIS_RULE):
    return {f.subprocessor for f in findings if f.rule == rule}


def test_2018_list_today_flags_exactly_the_privacy_shield_entries__SUB_6(
    list_2018, transfer_policy, editions
):
    """Checked as of 2026-11-21, the basis rule flags the four Bilag 1 entries that rely on
    the EU-US Privacy Shield (invalid since Schrems II) and nothing else; the seed has no
    Safe Harbour entry. The message names the rule and the dates.
    """
    controller = ControllerFacts("kunde", "dpa-2018", SIGNED_2018)
    findings = check([controller], list_2018, TODAY, transfer_policy)
    shield = {sp.name for sp in list_2018 if sp.basis in {"privacy-shield", "safe-harbour"}}
    assert (
        flagged(findings)
        == shield
        == {
            "Facebook (og underliggende værktøjer)",
            "Slack",
            "Dropbox Inc.",
            "Microsoft",
        }
    )
    slack = next(f for f in findings if f.rule == BASIS_RULE and f.subprocessor == "Slack")
    assert slack.message.startswith("TransferBasisMustBeInForce: Slack: EU-US Privacy Shield")
    assert "2020-07-16" in slack.message
    assert "C-311/18" in slack.message
    assert slack.dates["invalid_from"] == date(2020, 7, 16)
    assert slack.obligation == "SUB-6"
    assert slack.blocking


def test_2018_list_on_2019_01_01_flags_no_basis__SUB_6(list_2018, transfer_policy):
    """As of 2019-01-01 Privacy Shield was valid: the basis rule flags none of the list."""
    controller = ControllerFacts("kunde", "dpa-2018", SIGNED_2018)
    findings = check([controller], list_2018, datetime(2019, 1, 1, tzinfo=UTC), transfer_policy)
    assert flagged(findings) == set()


def test_agreement_alone_is_no_transfer_basis__SUB_6(list_2018, transfer_policy):
    """Mailgun and Sendgrid in the USA on "Databehandleraftale" only have no Chapter V basis,
    then and now; that is its own finding, apart from the basis-validity rule.
    """
    controller = ControllerFacts("kunde", "dpa-2018", SIGNED_2018)
    for at in (datetime(2019, 1, 1, tzinfo=UTC), TODAY):
        findings = check([controller], list_2018, at, transfer_policy)
        assert flagged(findings, "ThirdCountryNeedsTransferBasis") == {
            "Mailgun Technologies Inc.",
            "Sendgrid",
        }


def test_third_country_without_instruction_is_flagged__SUB_6(list_2018, transfer_policy, editions):
    """Every entry outside the EEA needs the controller's documented instruction. Signing
    Bilag 1 gives it for the listed entries (DPA18 §4), but never revives Privacy Shield.
    """
    bare = ControllerFacts("kunde", "dpa-2018", SIGNED_2018)
    outside = {sp.name for sp in list_2018 if {sp.country, *sp.data_locations} & {"US", "IL"}}
    findings = check([bare], list_2018, TODAY, transfer_policy)
    assert flagged(findings, "ThirdCountryNeedsInstruction") == outside
    signed = signature_instructions(editions["dpa-2018"], SIGNED_2018, transfer_policy)
    instructed = ControllerFacts("kunde", "dpa-2018", SIGNED_2018, signed)
    findings = check([instructed], list_2018, TODAY, transfer_policy)
    assert flagged(findings, "ThirdCountryNeedsInstruction") == set()
    assert len(flagged(findings)) == 4
    zendesk = next(sp for sp in list_2018 if sp.name == "Zendesk Inc")
    assert may_process(instructed, zendesk, "helpdesk", TODAY, transfer_policy).allowed


def test_effecttracker_privacy_shield_entries_are_flagged_today__SUB_6(
    sp_clock, editions, transfer_policy
):
    """Effecttracker's Sendgrid, Google Maps and Dropbox ("Privacy Data Shield") are flagged
    today; its Amazon (Sweden) and FrontIT (Lithuania) stay in the EEA.
    """
    sps = add_edition_list(editions["effecttracker"], actor="dpo", listed_from=date(2018, 5, 25))
    controller = ControllerFacts("licens", "effecttracker", SIGNED_2018)
    findings = check([controller], [sp.facts() for sp in sps], TODAY, transfer_policy)
    assert flagged(findings) == {"Sendgrid", "Google LLC", "Dropbox, Inc."}


def _decide(sp_clock, transfer_policy, at, *, basis, country="US", instructed=True, **extra):
    sp = SubProcessor.add(
        make_details(country=country, basis=basis, **extra),
        editions=["scc"],
        listed_from=date(2000, 1, 1),
        actor="dpo",
    )
    given = (TransferInstruction(country, basis, datetime(2000, 1, 1, tzinfo=UTC), "ok"),)
    controller = ControllerFacts(
        "acme", "scc", datetime(2000, 1, 1, tzinfo=UTC), given if instructed else ()
    )
    return may_process(controller, sp.facts(), "email", at, transfer_policy)


def test_safe_harbour_is_flagged_from_schrems_i__SUB_6(sp_clock, transfer_policy):
    """Safe Harbour held until 2015-10-05 and not from the judgment day 2015-10-06."""
    before = _decide(
        sp_clock, transfer_policy, datetime(2015, 10, 5, tzinfo=UTC), basis="safe-harbour"
    )
    after = _decide(
        sp_clock, transfer_policy, datetime(2015, 10, 6, tzinfo=UTC), basis="safe-harbour"
    )
    assert before.allowed
    assert (after.allowed, after.rule) == (False, BASIS_RULE)
    assert "C-362/14" in after.reason


def test_dpf_covers_only_the_usa_from_2023_07_10__SUB_6(sp_clock, transfer_policy):
    """The Data Privacy Framework is a basis for US recipients from 2023-07-10 only; a US
    recipient under plain "adequacy" is refused, because that decision covers only DPF.
    """
    assert not _decide(
        sp_clock, transfer_policy, datetime(2023, 7, 9, tzinfo=UTC), basis="dpf"
    ).allowed
    assert _decide(sp_clock, transfer_policy, TODAY, basis="dpf").allowed
    in_china = _decide(sp_clock, transfer_policy, TODAY, basis="dpf", country="CN")
    assert "does not cover CN" in in_china.reason
    plain = _decide(sp_clock, transfer_policy, TODAY, basis="adequacy")
    assert plain.rule == BASIS_RULE
    assert "name basis 'dpf'" in plain.reason


def test_united_kingdom_after_brexit__SUB_6(sp_clock, transfer_policy):
    """A UK recipient recorded as "eea" is fine in 2020 and has no basis from 2021-01-01;
    under "adequacy" it is covered from the decision of 2021-06-28 on.
    """
    assert _decide(
        sp_clock, transfer_policy, datetime(2020, 12, 31, tzinfo=UTC), basis="eea", country="GB"
    ).allowed
    gap = _decide(
        sp_clock, transfer_policy, datetime(2021, 3, 1, tzinfo=UTC), basis="eea", country="GB"
    )
    assert gap.rule == "ThirdCountryNeedsTransferBasis"
    early = _decide(
        sp_clock, transfer_policy, datetime(2021, 3, 1, tzinfo=UTC), basis="adequacy", country="GB"
    )
    assert early.rule == BASIS_RULE
    assert _decide(sp_clock, transfer_policy, TODAY, basis="adequacy", country="GB").allowed


def test_old_standard_clauses_lapsed_on_2022_12_27__SUB_6(sp_clock, transfer_policy):
    """Clauses signed before 2021-06-27 (or undated) held until 2022-12-26; clauses signed
    later hold today, but not before the day they were signed.
    """
    old = {"basis": "scc", "country": "CN", "agreement_date": date(2019, 3, 1)}
    assert _decide(sp_clock, transfer_policy, datetime(2022, 12, 26, tzinfo=UTC), **old).allowed
    lapsed = _decide(sp_clock, transfer_policy, datetime(2022, 12, 27, tzinfo=UTC), **old)
    assert "lapsed on 2022-12-27" in lapsed.reason
    new = {"basis": "scc", "country": "CN", "agreement_date": date(2023, 2, 1)}
    assert _decide(sp_clock, transfer_policy, TODAY, **new).allowed
    assert (
        "signed only on 2023-02-01"
        in _decide(sp_clock, transfer_policy, datetime(2023, 1, 1, tzinfo=UTC), **new).reason
    )
    undated = _decide(
        sp_clock, transfer_policy, TODAY, basis="scc", country="CN", agreement_date=None
    )
    assert undated.rule == BASIS_RULE


def test_instruction_must_name_country_and_basis__SUB_6(sp_clock, transfer_policy):
    """An instruction for another basis or none at all leaves the transfer refused."""
    none = _decide(sp_clock, transfer_policy, TODAY, basis="bcr", instructed=False)
    assert (none.rule, none.obligation) == ("ThirdCountryNeedsInstruction", "SUB-6")
    sp = SubProcessor.add(
        make_details(country="US", basis="dpf"),
        editions=["scc"],
        listed_from=date(2024, 1, 1),
        actor="dpo",
    )
    shield_era = TransferInstruction(
        "US", "privacy-shield", datetime(2018, 6, 1, tzinfo=UTC), "2018 consent"
    )
    controller = ControllerFacts("acme", "scc", datetime(2018, 1, 1, tzinfo=UTC), (shield_era,))
    assert may_process(controller, sp.facts(), "email", TODAY, transfer_policy).rule == (
        "ThirdCountryNeedsInstruction"
    )


def test_eea_only_lists_have_no_transfer_findings__SUB_6(sp_clock, editions, transfer_policy):
    """The current SCC list keeps everything in Denmark: no Chapter V finding at all."""
    sps = add_edition_list(editions["scc"], actor="dpo", listed_from=date(2025, 1, 1))
    findings = check(
        [ControllerFacts("acme", "scc", TODAY)], [sp.facts() for sp in sps], TODAY, transfer_policy
    )
    assert {f.obligation for f in findings} == {"SUB-5"}
