"""The policy files: seed lists, notice rules and Chapter V facts, validated by pydantic."""

from __future__ import annotations

from datetime import date

import pytest

from processor.kernel.errors import ConfigurationError, InvalidInputError, NotFoundError
from subprocessors import EditionList, TransferPolicy, edition_names, load_edition_list
from subprocessors.loader import parse_policy

EU27 = {
    "AT",
    "BE",
    "BG",
    "HR",
    "CY",
    "CZ",
    "DK",
    "EE",
    "FI",
    "FR",
    "DE",
    "GR",
    "HU",
    "IE",
    "IT",
    "LV",
    "LT",
    "LU",
    "MT",
    "NL",
    "PL",
    "PT",
    "RO",
    "SK",
    "SI",
    "ES",
    "SE",
}


def test_every_policy_file_validates_and_has_a_version__SUB_1(transfer_policy, editions):
    """All three editions' lists and the transfer policy load through their pydantic models,
    each with a version that decisions can record.
    """
    assert set(edition_names()) == {"scc", "dpa-2018", "effecttracker"}
    assert transfer_policy.version
    counts = {name: len(edition.subprocessors) for name, edition in editions.items()}
    assert counts == {"scc": 3, "dpa-2018": 15, "effecttracker": 5}
    assert all(edition.version for edition in editions.values())


def test_scc_list_is_appendix_b_as_written__SUB_1(editions):
    """Appendix B.1 of the current DPA: name, CVR, address, activity, all in Denmark."""
    rows = {
        (e.name, e.registration, e.country, e.activities) for e in editions["scc"].subprocessors
    }
    assert rows == {
        ("Team.Blue Denmark A/S", "CVR 29412006", "DK", ("hosting",)),
        ("Ubivox Technologies ApS", "CVR 27379494", "DK", ("email",)),
        ("InMobile", "CVR 31426472", "DK", ("sms",)),
    }
    inmobile = next(e for e in editions["scc"].subprocessors if e.name == "InMobile")
    assert inmobile.address == "Axel Kiers Vej 18L, 8270 Højbjerg, Denmark"


def test_2018_list_keeps_the_seeds_legal_bases__SUB_1__SUB_6(editions):
    """Bilag 1's "Lovgrundlag" is kept verbatim; Privacy Shield rows are transcribed as such,
    and a bare data processing agreement for the USA becomes basis `none`.
    """
    rows = {e.name: e for e in editions["dpa-2018"].subprocessors}
    shield = {name for name, e in rows.items() if e.basis == "privacy-shield"}
    assert shield == {"Facebook (og underliggende værktøjer)", "Slack", "Dropbox Inc.", "Microsoft"}
    assert rows["Mailgun Technologies Inc."].basis == "none"
    assert rows["Mailgun Technologies Inc."].basis_as_stated == "Databehandleraftale"
    assert rows["Microsoft"].data_locations == ("US",)
    assert rows["LinkMobility"].country == "NO"
    assert all(e.source.startswith("001 Bilag 1") for e in rows.values())


def test_notice_rules_say_whether_the_agreement_fixes_them__SUB_2(editions):
    """SCC 7.3 fixes 30 days; the 2018 DPA says only "in advance", so its 30 days are a
    policy choice and reported as such, with the agreement's own words.
    """
    scc, dpa18 = editions["scc"].notice, editions["dpa-2018"].notice
    assert (scc.days, scc.fixed_by_agreement) == (30, True)
    assert (dpa18.days, dpa18.fixed_by_agreement) == (30, False)
    assert "forud for et sådant skifte" in dpa18.wording
    assert scc.engage_not_before(date(2026, 11, 21)) == date(2026, 12, 21)


def test_eea_and_adequacy_follow_the_calendar__SUB_6(transfer_policy):
    """EU 27 plus Iceland, Liechtenstein and Norway are the EEA today; the United Kingdom
    left it on 2021-01-01 and has an adequacy decision from 2021-06-28.
    """
    today = date(2026, 11, 21)
    members = {m.country for m in transfer_policy.eea if m.member_on(today)}
    assert members == EU27 | {"IS", "LI", "NO"}
    assert transfer_policy.in_eea("GB", date(2020, 12, 31))
    assert not transfer_policy.in_eea("GB", date(2021, 1, 1))
    assert transfer_policy.adequacy_on("GB", date(2021, 6, 27)) is None
    assert transfer_policy.adequacy_on("GB", date(2021, 6, 28)) is not None
    assert transfer_policy.adequacy_on("GB", today) is not None
    assert transfer_policy.adequacy_on("US", date(2023, 7, 9)) is None
    assert transfer_policy.adequacy_on("US", today).only_with_basis == "dpf"


def test_transfer_bases_carry_their_validity_windows__SUB_6(transfer_policy):
    """Safe Harbour ended with Schrems I, Privacy Shield with Schrems II, DPF began in 2023."""
    shield = transfer_policy.basis("privacy-shield")
    assert shield.valid_on(date(2020, 7, 15))
    assert not shield.valid_on(date(2020, 7, 16))
    assert "C-311/18" in shield.invalidated_by
    harbour = transfer_policy.basis("safe-harbour")
    assert harbour.valid_on(date(2015, 10, 5))
    assert not harbour.valid_on(date(2015, 10, 6))
    assert not transfer_policy.basis("dpf").valid_on(date(2023, 7, 9))
    assert transfer_policy.basis("dpf").valid_on(date(2023, 7, 10))


def test_broken_transfer_policy_is_refused_with_the_field_named__SUB_6():
    """A policy missing a basis, or with a bad country code, is refused in one line that
    names the file and the offending fields, before any rule can rely on it.
    """
    text = """
version = "x"
[[eea]]
country = "dk"
name = "Denmark"
since = 1994-01-01
adequacy = []
[bases.eea]
kind = "eea"
title = "EEA"
source = "Art. 44"
"""
    with pytest.raises(ConfigurationError) as caught:
        parse_policy(TransferPolicy, text, "policies/transfers.toml")
    message = str(caught.value)
    assert message.startswith("policies/transfers.toml: ")
    assert "eea.0.country" in message


def test_broken_edition_list_is_refused__SUB_1():
    """Not TOML, an unknown activity or a repeated name: each is a clear refusal."""
    with pytest.raises(ConfigurationError, match="not valid TOML"):
        parse_policy(EditionList, "version = ", "x.toml")
    row = """
[[subprocessors]]
name = "A"
address = "B"
country = "DK"
activities = ["{activity}"]
activity_as_stated = "x"
basis = "eea"
basis_as_stated = "x"
source = "s"
"""
    head = """
version = "1"
edition = "t"
title = "t"
source = "s"
requires_beneficiary_clause = true
[notice]
days = 30
fixed_by_agreement = true
wording = "w"
reference = "r"
"""
    with pytest.raises(ConfigurationError, match=r"subprocessors\.0\.activities\.0"):
        parse_policy(EditionList, head + row.format(activity="telepathy"), "t.toml")
    with pytest.raises(ConfigurationError, match="must be unique"):
        parse_policy(EditionList, head + row.format(activity="sms") * 2, "t.toml")


def test_unknown_edition_is_not_found__SUB_1():
    """Only editions with a file exist; a name that could escape the folder is bad input."""
    with pytest.raises(NotFoundError):
        load_edition_list("dpa-1999")
    with pytest.raises(InvalidInputError):
        load_edition_list("../transfers")
