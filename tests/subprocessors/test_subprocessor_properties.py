"""Stateful properties of the registry, driven by random command sequences (hypothesis).

A small independent model (`Model`) records what the commands did; after every step the
registry's own answer (`may_process`) must agree with what the obligations demand, and at
the end every live answer must be reproduced "as of" its moment from the event history.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from subprocessor_model import (
    Add,
    Advance,
    Engage,
    Instruct,
    InstructFor,
    Object,
    Propose,
    RecordAgreement,
    Retire,
)
from subprocessor_strategies import (
    ACTIVITIES,
    CONTROLLERS,
    commands,
    controller_editions,
    keep_agreement,
)

from processor.kernel import clock
from processor.kernel.errors import InvalidInputError, RefusedError
from subprocessors import (
    ControllerFacts,
    Decision,
    SubProcessor,
    TransferInstruction,
    facts_as_of,
    load_transfer_policy,
    may_process,
)

START = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
REGISTERED = datetime(2026, 1, 1, tzinfo=UTC)
POLICY = load_transfer_policy()
# Independent of transfers.toml: the world from 2026 on, for the six countries in play.
IN_EEA = {"DK", "SE"}
COVERS = {
    "US": {"dpf", "scc", "bcr", "derogation"},
    "GB": {"adequacy", "scc", "bcr", "derogation"},
    "IL": {"adequacy", "scc", "bcr", "derogation"},
    "CN": {"scc", "bcr", "derogation"},
}


@dataclass
class Entry:
    """What the model knows about one sub-processor."""

    aggregate: SubProcessor
    listed: bool
    editions: frozenset[str]
    notices: dict[str, date]
    events: list[object] = field(default_factory=list)
    engaged_at: datetime | None = None
    retired_at: datetime | None = None
    objections: dict[str, datetime] = field(default_factory=dict)
    agreement_recorded_at: datetime | None = None


@dataclass
class Model:
    """The independent record of what happened, and the live decisions taken."""

    editions: dict[str, str]
    entries: dict[int, Entry] = field(default_factory=dict)
    instructions: dict[str, list[TransferInstruction]] = field(default_factory=dict)
    decisions: list[tuple[str, int, str, datetime, Decision]] = field(default_factory=list)

    def controller(self, cid: str) -> ControllerFacts:
        """The controller's facts now: registered in January, with its instructions so far."""
        return ControllerFacts(
            cid, self.editions[cid], REGISTERED, tuple(self.instructions.get(cid, ()))
        )

    def expected(self, cid: str, entry: Entry, activity: str, now: datetime) -> bool:
        """Whether the obligations allow processing, judged by the model alone."""
        details = entry.aggregate.details
        if entry.retired_at is not None or cid in entry.objections:
            return False
        if entry.listed:
            approved = self.editions[cid] in entry.editions
        else:
            notice = entry.notices.get(cid)
            engaged = entry.engaged_at is not None and entry.engaged_at <= now
            approved = notice is not None and engaged and now.date() >= notice
        if not approved or activity not in details.activities:
            return False
        scc_current = details.agreement_date is not None and details.agreement_date >= date(
            2021, 6, 27
        )
        for country in {details.country, *details.data_locations} - IN_EEA:
            allowed = COVERS[country] - (set() if scc_current else {"scc"})
            if details.basis not in allowed:
                return False
            given = self.instructions.get(cid, ())
            if not any(i.country == country and i.basis == details.basis for i in given):
                return False
        return True


def _apply(model: Model, command: object, now: datetime) -> None:
    match command:
        case Advance(hours=hours):
            return
        case Instruct(controller=cid, country=country, basis=basis):
            instruction = TransferInstruction(country, basis, now, "documented instruction")
            model.instructions.setdefault(cid, []).append(instruction)
        case InstructFor(controller=cid, sp=index) if index in model.entries:
            details = model.entries[index].aggregate.details
            for country in {details.country, *details.data_locations}:
                instruction = TransferInstruction(country, details.basis, now, "for this one")
                model.instructions.setdefault(cid, []).append(instruction)
        case Add(sp=index, details=details, editions=editions) if index not in model.entries:
            aggregate = SubProcessor.add(
                details, editions=editions, listed_from=now.date(), actor="dpo"
            )
            model.entries[index] = Entry(aggregate, True, editions, {}, engaged_at=now)
        case Propose(sp=index, details=details, notify=notify, days=days, editions=editions) if (
            index not in model.entries
        ):
            notices = {cid: now.date() + timedelta(days=days) for cid in notify}
            aggregate = SubProcessor.propose(
                details, notices=notices, editions=editions, actor="dpo"
            )
            model.entries[index] = Entry(aggregate, False, editions, notices)
            if details.agreement_ref:
                # A proposal that names its agreement keeps the text at once (SUB-5), so
                # engagement still turns on the notice dates; one without waits for
                # `RecordAgreement`.
                keep_agreement(aggregate)
                model.entries[index].agreement_recorded_at = now
        case Object(sp=index, controller=cid) if index in model.entries:
            entry = model.entries[index]
            notice = entry.notices.get(cid)
            may = entry.retired_at is None and cid not in entry.objections
            may = may and notice is not None and now.date() < notice
            try:
                entry.aggregate.object_to(cid, "not acceptable to us", actor=cid)
                entry.objections[cid] = now
            except RefusedError:
                assert not may, "a timely objection was refused"
            else:
                assert may, "a late or repeated objection was accepted"
        case Engage(sp=index) if index in model.entries:
            entry = model.entries[index]
            waiting = [d for c, d in entry.notices.items() if c not in entry.objections]
            may = entry.retired_at is None and entry.engaged_at is None
            may = may and entry.agreement_recorded_at is not None
            may = may and all(now.date() >= d for d in waiting)
            try:
                entry.aggregate.engage(actor="dpo")
                entry.engaged_at = now
            except RefusedError:
                assert not may, "engagement after every notice date was refused"
            else:
                assert may, "engagement before a notice date was accepted"
        case Retire(sp=index) if index in model.entries:
            entry = model.entries[index]
            try:
                entry.aggregate.retire("replaced", actor="dpo")
                entry.retired_at = now
            except RefusedError:
                assert entry.retired_at is not None
        case RecordAgreement(sp=index) if index in model.entries:
            model.entries[index].aggregate.record_agreement(
                "SPA-2",
                agreement_date=date(2025, 6, 1),
                beneficiary_clause=True,
                text_sha256=SPA_SHA256,
                actor="dpo",
            )
            model.entries[index].agreement_recorded_at = now
        case _:
            return


SPA_SHA256 = hashlib.sha256(b"SPA-2").hexdigest()


def _run(model: Model, script: list[object]) -> None:
    fixed = clock.FixedClock(START)
    with clock.using(fixed):
        for command in script:
            # A real clock never stands still: each command happens strictly after the last
            # decision, so "as of" a decision's moment excludes the next command's events.
            fixed.advance(timedelta(seconds=1))
            if isinstance(command, Advance):
                fixed.advance(timedelta(hours=command.hours))
            now = fixed.now()
            try:
                _apply(model, command, now)
            except InvalidInputError:
                pass
            for entry in model.entries.values():
                entry.events.extend(entry.aggregate.collect_events())
            for index, entry in model.entries.items():
                facts = entry.aggregate.facts()
                for cid in CONTROLLERS:
                    for activity in ACTIVITIES:
                        decision = may_process(model.controller(cid), facts, activity, now, POLICY)
                        model.decisions.append((cid, index, activity, now, decision))
                        expected = model.expected(cid, entry, activity, now)
                        assert decision.allowed == expected, (decision, expected)


@settings(max_examples=120, deadline=None)
@given(editions=controller_editions, script=commands())
def test_processing_only_as_the_obligations_allow__SUB_2__SUB_3__SUB_4__SUB_6(editions, script):
    """Random propose/object/engage/retire/instruct/advance sequences: a controller's data is
    never processable by a sub-processor it objected to (SUB-3), before its notice date or
    engagement (SUB-2), outside the approved activities (SUB-4), or in a third country
    without a basis valid that day and the controller's instruction (SUB-6); and whenever
    all of that holds, processing is allowed (the rules are not stricter than the duty).
    Engagement and objection commands succeed exactly when the notice dates allow.
    """
    _run(Model(editions), script)


@settings(max_examples=60, deadline=None)
@given(editions=controller_editions, script=commands())
def test_as_of_decisions_equal_live_decisions__SUB_1__SUB_6(editions, script):
    """Every decision taken live is reproduced exactly from the event history "as of" its
    moment, and its verdict also from today's full facts evaluated at that moment: later
    events (objections, engagements, retirements, instructions) never leak into an earlier
    answer.
    """
    model = Model(editions)
    _run(model, script)
    final = {index: entry.aggregate.facts() for index, entry in model.entries.items()}
    replayed: dict[tuple[int, datetime], object] = {}
    for cid, index, activity, at, live in model.decisions:
        key = (index, at)
        if key not in replayed:
            replayed[key] = facts_as_of(model.entries[index].events, at)
        as_of = replayed[key]
        assert as_of is not None
        controller = model.controller(cid)
        assert may_process(controller, as_of, activity, at, POLICY) == live
        # Today's facts may explain more (when engagement came), never decide otherwise; an
        # agreement recorded later is the exception: it documents a signature made earlier.
        recorded = model.entries[index].agreement_recorded_at
        if recorded is None or recorded <= at:
            later = may_process(controller, final[index], activity, at, POLICY)
            assert (later.allowed, later.rule) == (live.allowed, live.rule)
