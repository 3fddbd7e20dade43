"""The impact of a sub-processor breach equals a brute-force replay of the history (BR-2).

Random histories (contacts added and erased, a sub-processor proposed, objected to, engaged and
retired, at random hours) are replayed by hand: at every moment where anything could change, a
subject counts when its own events say it existed and was not yet erased, and `decide()` (the
registry's one question) says the sub-processor could process its controller's data. The
impact computed by `processor.breaches.impact` must name the same subjects per controller.
SQLite only for the property; the concrete cases in test_breaches.py run on both backends.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from support import fresh_store, keep_subprocessor_agreement, login, sign_agreement

from processor.breaches import impact
from processor.kernel.errors import ProcessorError
from processor.services.subprocessor_facts import SubprocessorRegistry
from subprocessors import SubProcessorDetails, subprocessor_id
from subprocessors.facts import start_of

NAME = "Delta Mail ApS"
DETAILS = SubProcessorDetails(
    name=NAME, address="Østergade 1, 5000 Odense C", country="DK", activities=("email",),
    basis="eea", registration="CVR 11223344", agreement_ref="SPA-1",
    agreement_date=date(2026, 2, 1), beneficiary_clause=True,
)  # fmt: skip
ACTIONS = st.sampled_from(
    [
        "add-acme", "add-acme", "add-beta", "add-beta", "erase", "erase", "erase",
        "object-acme", "object-beta", "engage", "retire", "propose",
    ]
)  # fmt: skip
STEPS = st.lists(st.tuples(st.integers(1, 200), ACTIONS), min_size=2, max_size=12)
# Every history proposes the sub-processor early and engages it once its notice has run
# (31 days later, at a random point of the history), so most examples have someone to find.
PREFIX = [(1, "add-acme"), (1, "add-beta"), (1, "propose")]
ENGAGE = (248, "engage")


def _apply(proc, action: str, contacts: list[tuple[str, str]], n: int) -> None:
    grete = login(proc, "grete")
    try:
        if action.startswith("add-"):
            ref = action[4:]
            admin = "alice" if ref == "acme" else "bob"
            out = login(proc, admin).contacts.add(ref, "news", f"p{n}@example.dk", "email:form:x")
            contacts.append((ref, str(out["contact_id"])))
        elif action == "erase" and contacts:
            ref, cid = contacts.pop(n % len(contacts))
            admin = "alice" if ref == "acme" else "bob"
            login(proc, admin).erasure.erase(ref, "asked", contact=cid)
        elif action == "propose":
            grete.subprocessors.propose(DETAILS)
            keep_subprocessor_agreement(proc, NAME)
        elif action.startswith("object-"):
            ref = action[7:]
            login(proc, "alice" if ref == "acme" else "bob").subprocessors.object_to(
                NAME, ref, "no"
            )
        elif action == "engage":
            grete.subprocessors.engage(NAME)
        elif action == "retire":
            grete.subprocessors.retire(NAME, "ended")
    except ProcessorError:
        pass  # refused by a rule (too early, twice, unknown): the history just goes on


def _brute_force(proc, start: datetime, end: datetime) -> dict[str, set[str]]:
    """Subjects per controller, by checking every moment at which anything may change."""
    session = login(proc, "grete")
    registry = SubprocessorRegistry(session)
    lives: dict[str, tuple[str, datetime, datetime | None]] = {}
    moments = {start, end}
    for ref in ("acme", "beta"):
        for cid in _contact_ids(proc, ref):
            events = list(proc.store.events.get(cid))
            erased = next(
                (e.timestamp for e in events if type(e).__name__ == "ContactErased"), None
            )
            lives[str(cid)] = (ref, events[0].timestamp, erased)
            moments.update(e.timestamp for e in events)
    if proc.find(subprocessor_id(NAME)) is not None:
        moments.update(e.timestamp for e in proc.store.events.get(subprocessor_id(NAME)))
    day = start_of(start.date())
    while day <= end:
        moments.add(day)
        day += timedelta(days=1)
    found: dict[str, set[str]] = {"acme": set(), "beta": set()}
    for at in sorted(m for m in moments if start <= m <= end):
        for ref in ("acme", "beta"):
            try:
                allowed = registry.decide(ref, NAME, "email", at=at).allowed
            except ProcessorError:
                allowed = False  # not in the registry at all
            if not allowed:
                continue
            for cid, (owner, added, erased) in lives.items():
                if owner == ref and added <= at and (erased is None or at < erased):
                    found[ref].add(cid)
    return found


def _contact_ids(proc, ref: str):
    import sqlalchemy as sa

    from processor.readmodels import tables as t

    with proc.engines.readmodels.connect() as conn:
        rows = conn.execute(
            sa.select(t.contacts.c.contact_id).where(t.contacts.c.controller == ref)
        )
        import uuid

        return [uuid.UUID(r[0]) for r in rows]


@pytest.mark.slow
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    middle=STEPS,
    at=st.integers(0, 12),
    window=st.tuples(st.integers(0, 100), st.integers(60, 100)),
)
def test_impact_equals_a_brute_force_replay__BR_2(middle, at, window):
    """For random histories and windows, the impact names exactly the replayed subjects."""
    with fresh_store("sqlite") as proc:
        login(proc, "sam").controllers.register(
            "beta", "Beta ApS", "DK", "freemium", "dpa-2018", admin="bob"
        )
        sign_agreement(proc, "beta")
        contacts: list[tuple[str, str]] = []
        steps = [*PREFIX, *middle[:at], ENGAGE, *middle[at:]]
        began = proc.now()
        for n, (hours, action) in enumerate(steps):
            proc.clock.advance(timedelta(hours=hours * 3))  # up to 25 days a step
            _apply(proc, action, contacts, n)
        span = (proc.now() - began).total_seconds()
        lo, hi = sorted(window)
        start = began + timedelta(seconds=span * lo / 100)
        end = began + timedelta(seconds=span * hi / 100)
        expected = _brute_force(proc, start, end)
        if proc.find(subprocessor_id(NAME)) is None:
            return
        event(f"affected controllers: {sum(1 for ids in expected.values() if ids)}")
        registry = SubprocessorRegistry(login(proc, "grete"))
        got = impact.assess(registry, [f"subprocessor:{NAME}"], start, end)
        assert {r: set(ids) for r, ids in got["subject_ids"].items()} == {
            r: ids for r, ids in expected.items() if ids
        }
        assert {c["controller"]: c["subjects"] for c in got["controllers"]} == {
            r: len(ids) for r, ids in expected.items() if ids
        }
