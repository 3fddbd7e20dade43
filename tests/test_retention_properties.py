"""Property: for any terminations, withdrawals, instructions, returns and clock advances, the sweep
erases exactly the subjects the retention rules make due (RET-1, RET-2, RET-4, RET-6).

The expected set comes from a model written from OBLIGATIONS.md and the agreements, not from the
implementation: 120 days after the effective date without instruction; the effective date itself
for `delete`, and for `return` once a return was made after the termination; `retain` until its
date; demo accounts 30 + 90 days after registration, whichever comes first.
"""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from support import BACKENDS, fresh_store, login, sign_agreement

from processor.kernel.errors import RefusedError
from processor.readmodels import tables as t

DAY = timedelta(days=1)
TERMINATE = st.tuples(
    st.just("terminate"),
    st.integers(0, 2),
    st.integers(-5, 60),
    st.sampled_from([None, "delete", "return", "retain"]),
    st.integers(1, 300),
)
STEPS = st.one_of(
    st.tuples(st.just("advance"), st.integers(0, 150)),
    TERMINATE,
    TERMINATE,  # twice: terminations are what makes a run interesting
    st.tuples(st.just("withdraw"), st.integers(0, 2)),
    st.tuples(st.just("return"), st.integers(0, 2)),
    st.tuples(st.just("sweep")),
)


@dataclass
class Model:
    """What the rules know about one controller."""

    account: str
    registered: datetime
    effective: date | None = None
    instruction: str | None = None
    until: date | None = None
    recorded: datetime | None = None
    returned: datetime | None = None
    deleted: bool = False

    def due(self, at: datetime) -> bool:
        """Whether the obligations make this controller's data due at `at`."""
        if self.deleted:
            return False
        demo = self.registered + 120 * DAY if self.account == "demo" else None
        if self.effective is None:
            return demo is not None and at >= demo
        end = datetime.combine(self.effective, time(0), tzinfo=UTC)
        if self.instruction == "retain":
            assert self.until is not None
            return at >= datetime.combine(self.until, time(0), tzinfo=UTC)
        if self.instruction == "return":
            returned = self.returned is not None and self.returned >= (self.recorded or at)
            return at >= end and returned
        deadline = end + (0 if self.instruction == "delete" else 120) * DAY
        return at >= (min(deadline, demo) if demo else deadline)


def _erased(proc) -> set[str]:
    c = t.contacts.c
    with proc.engines.readmodels.connect() as conn:
        return {r[0] for r in conn.execute(sa.select(c.contact_id).where(c.erased.is_(True)))}


def _add(proc, ref: str, admin: str, n: int) -> set[str]:
    data = "email\n" + "".join(f"{ref}-{i}@example.dk\n" for i in range(n))
    session = login(proc, admin)
    session.imports.import_csv(ref, io.BytesIO(data.encode()), "news", "double-opt-in")
    return {session.contacts.id_by_email(ref, f"{ref}-{i}@example.dk") for i in range(n)}


def _apply(proc, models: dict[str, Model], step: tuple, out: Path) -> None:
    """Run one step against the store and the model alike."""
    kind, *args = step
    clock = proc.clock
    now = clock.now()
    if kind == "advance":
        clock.advance(args[0] * DAY)
        return
    ref = f"c{args[0]}" if kind != "sweep" else ""
    if ref and ref not in models:
        return
    model = models.get(ref)
    admin = login(proc, f"{ref}-admin") if ref else None
    if kind == "terminate":
        assert model is not None and admin is not None
        offset, instruction, keep = args[1:]
        effective = max(model.registered.date(), (now + offset * DAY).date())
        until = effective + keep * DAY if instruction == "retain" else None
        extra = (
            {"legal_ground": "Bookkeeping Act", "retain_until": until.isoformat()} if until else {}
        )
        if model.effective is not None or model.deleted:
            with pytest.raises(RefusedError):
                admin.lifecycle.terminate(ref, effective.isoformat(), instruction, **extra)
            return
        admin.lifecycle.terminate(ref, effective.isoformat(), instruction, **extra)
        model.effective, model.instruction, model.until, model.recorded = (
            effective,
            instruction,
            until,
            now,
        )
    elif kind == "withdraw":
        assert model is not None and admin is not None
        if model.effective is None or model.deleted:
            with pytest.raises(RefusedError):
                admin.lifecycle.withdraw(ref, "changed mind")
            return
        admin.lifecycle.withdraw(ref, "changed mind")
        model.effective = model.instruction = model.until = model.recorded = None
    elif kind == "return":
        assert model is not None and admin is not None
        target = out / f"return-{len(list(out.iterdir()))}"
        if model.deleted:
            # Nothing is left to return, and no new record can be sealed for the controller.
            with pytest.raises(RefusedError):
                admin.returns.write(ref, target)
            return
        admin.returns.write(ref, target)
        model.returned = now
    else:
        login(proc, "grete").retention.sweep()
        for m in models.values():
            if m.due(now):
                m.deleted = True


@pytest.mark.parametrize("backend_name", BACKENDS)
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    accounts=st.lists(st.sampled_from(["paying", "demo", "freemium"]), min_size=1, max_size=3),
    steps=st.lists(STEPS, min_size=1, max_size=8),
    final_days=st.integers(0, 400),
)
def test_the_sweep_erases_exactly_what_the_rules_make_due__RET_1__RET_2__RET_4__RET_6(
    backend_name, accounts, steps, final_days
):
    """After every sweep, the erased subjects are exactly those of the controllers due so far."""
    with fresh_store(backend_name) as proc, tempfile.TemporaryDirectory() as tmp:
        sam = login(proc, "sam")
        bystanders = _add(proc, "acme", "alice", 1)
        models: dict[str, Model] = {}
        subjects: dict[str, set[str]] = {}
        for i, account in enumerate(accounts):
            ref = f"c{i}"
            sam.controllers.register(ref, ref, "DK", account, "scc", admin=f"{ref}-admin")
            sign_agreement(proc, ref)
            models[ref] = Model(account, proc.clock.now())
            subjects[ref] = _add(proc, ref, f"{ref}-admin", 2)
        for step in [*steps, ("advance", final_days), ("sweep",)]:
            _apply(proc, models, step, Path(tmp))
            expected = set().union(*(subjects[r] for r, m in models.items() if m.deleted))
            assert _erased(proc) == expected, step
        event(f"controllers deleted: {sum(m.deleted for m in models.values())}")
        assert not bystanders & _erased(proc)
        assert all(proc.keys.subject_keys(bystanders).values())
