"""Read models are projections: rebuilt from the event store they equal the live ones."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import BACKENDS, fresh_store, login

from processor.readmodels import tables as t
from processor.readmodels.rebuild import rebuild


def _snapshot(proc) -> dict[str, list[tuple]]:
    with proc.engines.readmodels.connect() as conn:
        return {
            table.name: sorted(tuple(str(v) for v in row) for row in conn.execute(sa.select(table)))
            for table in t.PROJECTED_TABLES
        }


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(
            ["add", "import", "unsubscribe", "restrict", "object", "rectify", "erase", "deny"]
        ),
        st.integers(0, 9),
    ),
    min_size=1,
    max_size=14,
)


def _apply(proc, op: str, n: int) -> None:
    alice = login(proc, "alice")
    email = f"p{n}@example.dk"
    cid = alice.contacts.id_by_email("acme", email)
    try:
        if op == "add":
            alice.contacts.add("acme", f"list{n % 2}", email, "email:form:ev", first_name=f"P{n}")
        elif op == "import":
            alice.imports.import_csv(
                "acme",
                io.BytesIO(f"email\n{email}\np{n + 1}@example.dk\n".encode()),
                "news",
                "form",
            )
        elif op == "deny":
            login(proc, "nobody").controllers.show("acme")
        elif cid is None:
            return
        elif op == "unsubscribe":
            alice.contacts.unsubscribe(
                "acme", cid, next(iter(alice.contacts.load("acme", cid).lists))
            )
        elif op in {"restrict", "object"}:
            alice.contacts.set_state(op, "acme", cid, "why")
        elif op == "rectify":
            alice.contacts.update("acme", cid, {"city": f"City{n}"})
        elif op == "erase":
            alice.erasure.erase("acme", "request", contact=cid)
    except Exception as exc:
        from processor.kernel.errors import ProcessorError

        assert isinstance(exc, ProcessorError)


@pytest.mark.parametrize("backend_name", BACKENDS)
@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations=OPERATIONS)
def test_rebuilt_read_models_equal_the_live_ones(backend_name, operations):
    """Property: after any sequence of commands, replaying the event store rebuilds identical tables."""
    with fresh_store(backend_name) as proc:
        for op, n in operations:
            _apply(proc, op, n)
        live = _snapshot(proc)
        rebuild(proc.projector)
        assert _snapshot(proc) == live


def test_catch_up_is_idempotent(acme):
    """Catching up twice applies nothing the second time."""
    login(acme, "alice").contacts.add("acme", "news", "a@example.dk", "email:form")
    assert acme.projector.catch_up() == 0
    assert acme.projector.position() == acme.store.recorder.max_notification_id()
