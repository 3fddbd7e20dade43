"""Hypothesis strategies for the sub-processor registry: details and command sequences.

The world is deliberately small (three names, three controllers, six countries, four
activities) so that random sequences often hit the interesting cases: an objection just
before the notice date, an engagement just after it, a transfer without its instruction.
The commands themselves live in `tests/subprocessor_model.py`, shared with the application's
stateful test.
"""

from __future__ import annotations

import hashlib
from datetime import date

from hypothesis import strategies as st
from subprocessor_model import (
    Add,
    Advance,
    Command,
    Engage,
    Instruct,
    InstructFor,
    Object,
    Propose,
    RecordAgreement,
    Retire,
)

from subprocessors import SubProcessor, SubProcessorDetails
from subprocessors.vocabulary import TRANSFER_BASES

NAMES = ("Alpha Hosting A/S", "Beta Mail Inc.", "Gamma SMS Ltd")
CONTROLLERS = ("c-1", "c-2", "c-3")
EDITIONS = ("scc", "dpa-2018")
COUNTRIES = ("DK", "SE", "US", "GB", "IL", "CN")
ACTIVITIES = ("hosting", "email", "sms", "backup")
BASES = tuple(sorted(TRANSFER_BASES))

sp_index = st.integers(min_value=0, max_value=len(NAMES) - 1)
controller_ids = st.sampled_from(CONTROLLERS)
countries = st.sampled_from(COUNTRIES)
bases = st.sampled_from(BASES)


@st.composite
def subprocessor_details(draw: st.DrawFn, name: str) -> SubProcessorDetails:
    """Details for `name`: anywhere, any basis, some activities, maybe a dated agreement."""
    agreed = draw(st.booleans())
    return SubProcessorDetails(
        name=name,
        address="Somewhere 1",
        country=draw(countries),
        activities=tuple(draw(st.sets(st.sampled_from(ACTIVITIES), min_size=1, max_size=2))),
        basis=draw(bases),
        data_locations=tuple(draw(st.sets(countries, max_size=1))),
        agreement_ref="SPA-1" if agreed else "",
        agreement_date=draw(st.sampled_from([None, date(2020, 1, 1), date(2025, 1, 1)]))
        if agreed
        else None,
        beneficiary_clause=True if agreed else None,
    )


# Steps that cross notice dates (1 to 40 days) often, and sometimes stay within a day.
advances = st.builds(Advance, st.sampled_from([0, 1, 6, 23, 24, 24 * 7, 24 * 15, 24 * 31, 24 * 41]))


@st.composite
def proposals(draw: st.DrawFn) -> Propose:
    """A proposal with 1 to 40 days' notice to a subset of controllers."""
    index = draw(sp_index)
    return Propose(
        sp=index,
        details=draw(subprocessor_details(NAMES[index])),
        notify=frozenset(draw(st.sets(controller_ids))),
        days=draw(st.integers(min_value=1, max_value=40)),
        editions=frozenset(draw(st.sets(st.sampled_from(EDITIONS)))),
    )


@st.composite
def additions(draw: st.DrawFn) -> Add:
    """A direct registration on one or two editions' lists."""
    index = draw(sp_index)
    return Add(
        sp=index,
        details=draw(subprocessor_details(NAMES[index])),
        editions=frozenset(draw(st.sets(st.sampled_from(EDITIONS), min_size=1))),
    )


def commands() -> st.SearchStrategy[list[Command]]:
    """Random sequences of registry commands and clock advances.

    Engagements, instructions and advances are drawn more often than retirements, so that
    sequences reach the states worth checking (engaged after notice, transfers instructed).
    """
    engage = st.builds(Engage, sp_index)
    instruct_for = st.builds(InstructFor, controller_ids, sp_index)
    objection = st.builds(Object, sp_index, controller_ids)
    one: st.SearchStrategy[Command] = st.one_of(
        *(proposals(), proposals(), additions()),
        *(objection, objection, engage, engage, engage),
        *(st.builds(Retire, sp_index), st.builds(RecordAgreement, sp_index)),
        *(st.builds(Instruct, controller_ids, countries, bases), instruct_for, instruct_for),
        *(advances, advances, advances),
    )
    return st.lists(one, min_size=8, max_size=40)


controller_editions = st.fixed_dictionaries({c: st.sampled_from(EDITIONS) for c in CONTROLLERS})


def make_details(name: str = "Delta Mail ApS", **overrides: object) -> SubProcessorDetails:
    """Plain details for example-based tests: a Danish e-mail sub-processor with an agreement."""
    fields: dict[str, object] = {
        "name": name,
        "address": "Gade 1, 8000 Aarhus C",
        "country": "DK",
        "activities": ("email",),
        "basis": "eea",
        "registration": "CVR 12345678",
        "agreement_ref": "SPA-2026-01",
        "agreement_date": date(2026, 1, 15),
        "beneficiary_clause": True,
    }
    fields.update(overrides)
    return SubProcessorDetails(**fields)


AGREEMENT_TEXT = b"Sub-processor agreement: the same obligations; SCC 7.6 third-party beneficiary."


def keep_agreement(sp: SubProcessor, actor: str = "dpo") -> None:
    """Keep the text of the agreement `sp` was proposed with, as engagement needs (SUB-5)."""
    sp.record_agreement(
        sp.details.agreement_ref,
        agreement_date=sp.details.agreement_date,
        beneficiary_clause=True,
        text_sha256=hashlib.sha256(AGREEMENT_TEXT).hexdigest(),
        actor=actor,
    )
