"""Random command sequences through the application, on SQLite and PostgreSQL (hypothesis).

Propose, object, engage, retire, instruct and clock advances run through the services and
the store; after every step the application's answer for each controller, sub-processor and
activity must be exactly what an independent model of the obligations says. The commands
are the sub-processor model's (`tests/subprocessor_model.py`), shared with the registry's test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from subprocessor_model import Advance, Engage, Instruct, Object, Propose, Retire
from support import fresh_store, keep_subprocessor_agreement, login, sign_agreement

from processor.kernel.errors import InvalidInputError, RefusedError
from subprocessors import SubProcessorDetails, may_process

NAMES = ("Alpha Hosting A/S", "Bravo Mail Inc.")
ADMINS = {"acme": "alice", "beta": "bob"}
ACTIVITIES = ("hosting", "email")
IN_EEA = {"DK"}
# Which basis makes a transfer lawful in 2026, per destination (independent of transfers.toml;
# the agreements are dated 2026-02-01, so the 2021 clauses apply).
LAWFUL = {"US": {"dpf", "scc"}, "GB": {"adequacy", "scc"}}
# Beta signed the 2018 list: its signature instructs these transfers (their bases are invalid).
SIGNED_2018 = {("US", "none"), ("US", "privacy-shield"), ("IL", "adequacy")}


def _proposal(
    sp: int, country: str, basis: str, activities: tuple[str, ...], agreed: bool
) -> Propose:
    """Propose `NAMES[sp]` in `country` under `basis`, with a dated agreement if `agreed`."""
    details = SubProcessorDetails(
        name=NAMES[sp],
        address="Street 1",
        country=country,
        activities=activities,
        basis=basis,
        agreement_ref="SPA-1" if agreed else "",
        agreement_date=date(2026, 2, 1) if agreed else None,
        beneficiary_clause=True if agreed else None,
    )
    return Propose(sp, details)


sp_index = st.integers(min_value=0, max_value=len(NAMES) - 1)
controllers = st.sampled_from(sorted(ADMINS))
countries = st.sampled_from(["DK", "US", "GB"])
bases = st.sampled_from(["eea", "dpf", "scc", "adequacy", "privacy-shield", "none"])
command = st.one_of(
    st.builds(
        _proposal,
        sp_index,
        countries,
        bases,
        st.sets(st.sampled_from(ACTIVITIES), min_size=1).map(lambda s: tuple(sorted(s))),
        st.booleans(),
    ),
    st.builds(Object, sp_index, controllers),
    st.builds(Engage, sp_index),
    st.builds(Retire, sp_index),
    st.builds(Instruct, controllers, countries, bases),
    st.sampled_from([1, 10, 29, 30]).map(lambda days: Advance(hours=24 * days)),
)


@dataclass
class Entry:
    """What the model knows about one proposal."""

    details: SubProcessorDetails
    notices: dict[str, date]
    objections: set[str] = field(default_factory=set)
    agreement_kept: bool = False
    engaged: bool = False
    retired: bool = False


@dataclass
class Model:
    """The independent record of what happened."""

    entries: dict[int, Entry] = field(default_factory=dict)
    instructions: dict[str, set[tuple[str, str]]] = field(
        default_factory=lambda: {"acme": set(), "beta": set(SIGNED_2018)}
    )

    def allowed(self, cid: str, index: int, activity: str, today: date) -> bool:
        entry = self.entries[index]
        d = entry.details
        if entry.retired or not entry.engaged or cid in entry.objections:
            return False
        if today < entry.notices[cid] or activity not in d.activities:
            return False
        if d.country in IN_EEA:
            return True
        lawful = d.basis in LAWFUL[d.country]
        return lawful and (d.country, d.basis) in self.instructions[cid]


def _step(proc, model: Model, cmd: object) -> None:
    grete = login(proc, "grete")
    today = proc.now().date()
    match cmd:
        case Propose(sp=i, details=details):
            if i in model.entries:
                return
            out = grete.subprocessors.propose(details)
            notices = {
                n["controller"]: date.fromisoformat(n["engage_not_before"]) for n in out["notices"]
            }
            assert notices == {"acme": today + timedelta(30), "beta": today + timedelta(30)}
            model.entries[i] = Entry(details, notices)
            if details.agreement_ref:
                # Its text is kept at once (SUB-5): the notice dates decide the engagement.
                keep_subprocessor_agreement(proc, details.name)
                model.entries[i].agreement_kept = True
        case Object(sp=i, controller=cid) if i in model.entries:
            entry = model.entries[i]
            may = not entry.retired and cid not in entry.objections and today < entry.notices[cid]
            try:
                login(proc, ADMINS[cid]).subprocessors.object_to(NAMES[i], cid, "no thanks")
                entry.objections.add(cid)
            except RefusedError:
                assert not may, "a timely objection was refused"
            else:
                assert may, "a late or repeated objection was accepted"
        case Engage(sp=i) if i in model.entries:
            entry = model.entries[i]
            waiting = [d for c, d in entry.notices.items() if c not in entry.objections]
            may = not entry.retired and not entry.engaged and entry.agreement_kept
            may = may and all(today >= d for d in waiting)
            try:
                grete.subprocessors.engage(NAMES[i])
                entry.engaged = True
            except RefusedError:
                assert not may, "engagement after every notice date was refused"
            else:
                assert may, "engagement before a notice date was accepted"
        case Retire(sp=i) if i in model.entries:
            try:
                grete.subprocessors.retire(NAMES[i], "replaced")
                model.entries[i].retired = True
            except RefusedError:
                assert model.entries[i].retired
        case Instruct(controller=cid, country=country, basis=basis):
            session = login(proc, ADMINS[cid])
            details = {"country": country, "basis": basis}
            session.controllers.instruct(cid, "transfer", "documented transfer", details)
            model.instructions[cid].add((country, basis))
        case Advance(hours=hours):
            proc.clock.advance(timedelta(hours=hours))


def _run(backend: str, script: list[object]) -> None:
    with fresh_store(backend) as proc:
        sam = login(proc, "sam")
        sam.controllers.register("beta", "Beta", "DK", "paying", "dpa-2018", admin="bob")
        sign_agreement(proc, "beta")
        model = Model()
        service = login(proc, "grete").subprocessors
        for cmd in script:
            proc.clock.advance(timedelta(minutes=1))
            try:
                _step(proc, model, cmd)
            except InvalidInputError:
                pass
            now: datetime = proc.now()
            facts = {sp.name: sp for sp in service.facts()}
            for cid in ADMINS:
                controller = service.controller_facts(login(proc, "grete").controllers.get(cid))
                for index in model.entries:
                    for activity in ACTIVITIES:
                        decision = may_process(
                            controller, facts[NAMES[index]], activity, now, service.policy
                        )
                        expected = model.allowed(cid, index, activity, now.date())
                        assert decision.allowed == expected, (cid, NAMES[index], activity, decision)


def test_processing_only_as_the_obligations_allow__SUB_2__SUB_3__SUB_4__SUB_6(backend):
    """For random propose/object/engage/retire/instruct/advance sequences run through the
    application and stored, no controller's data is ever processable by a sub-processor it
    objected to (SUB-3), before its notice date or engagement (SUB-2), outside the approved
    activities (SUB-4), or in a third country without a basis valid that day and its
    documented instruction (SUB-6); and whenever all of that holds, processing is allowed.
    PostgreSQL runs fewer examples: a fresh store per example costs more there.
    """

    @settings(
        max_examples=10 if backend == "sqlite" else 4,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(script=st.lists(command, min_size=3, max_size=9))
    def sequences(script: list[object]) -> None:
        _run(backend, script)

    sequences()
