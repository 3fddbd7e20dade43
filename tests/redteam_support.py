"""The red-team tests' shared set-up: a simulation store per backend, its people, and the faults.

`tests/test_redteam_*.py` and `tests/http/test_http_redteam.py` attack a store with the actors
of the security model (a support user with a shell, another controller's administrator, a
database administrator without keys, two writers at once, a command that dies mid-transaction).
What they all need is here once: the store under a simulated clock and the command line on it
(`simulation_store`, `Story`), the two controllers and the support user (`two_controllers`),
a refusal that lets time pass so refusals never add up to a lockout (`refused`), events written
around the record MAC key (`insert_unkeyed`), a trigger that kills a command mid-transaction
(`kill_on_notice_insert`), and work run at once in threads (`together`).
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cli_helpers import Cli
from eventsourcing.persistence import Mapper
from support import UNDERTAKING, drop_schemas, login, make_settings, sign_agreement

from processor.app import Processor
from processor.kernel.clock import FixedClock
from processor.kernel.errors import AccessDeniedError
from processor.services.setup import initialise

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
CONSENT = "email:double-opt-in:signup form"
# Control characters and a line break: no error line may echo them (a terminal would obey).
BAD = "\x1b[31mred\x07\r\nnext"


@dataclass
class Story:
    """A red-team store, its clock and the command line on it, at the same simulated time."""

    proc: Processor
    clock: FixedClock
    cli: Cli

    def env(self) -> dict[str, str | None]:
        """The command line's environment at the story's simulated time."""
        return {"PROCESSOR_NOW": self.clock.now().isoformat()}

    def tick(self, minutes: int = 1) -> None:
        """Let simulated time pass."""
        self.clock.advance(timedelta(minutes=minutes))


def cli_on(proc: Processor) -> Cli:
    """The command line on `proc`'s store, with the same people's credentials."""
    cli = Cli(proc.settings)
    cli.credentials = proc.issued
    return cli


@contextlib.contextmanager
def simulation_store(
    backend: str, clock: FixedClock, tmp_path: Path | None = None, *, prefix: str = "redteam-"
) -> Iterator[Processor]:
    """A fresh simulation store with GDPA `grete` and system manager `sam`, closed (and its
    PostgreSQL schemas dropped) afterwards; in `tmp_path`, or in a temporary directory.
    """
    with contextlib.ExitStack() as stack:
        where = tmp_path or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=prefix)))
        settings, schemas = make_settings(backend, where)
        proc = initialise(
            settings, gdpa="grete", system_manager="sam", simulation=True, clock=clock,
            gdpa_undertaking=UNDERTAKING, manager_undertaking=UNDERTAKING,
        )  # fmt: skip
        try:
            yield proc
        finally:
            proc.close()
            if schemas:
                drop_schemas(*schemas)


def two_controllers(proc: Processor) -> None:
    """Acme (SCC, administrator alice) and beta (2018 DPA, bob), and support user sven."""
    sam = login(proc, "sam")
    sam.controllers.register("acme", "Acme A/S", "DK", "paying", "scc", admin="alice")
    sign_agreement(proc, "acme")
    sam.controllers.register("beta", "Beta ApS", "DK", "paying", "dpa-2018", admin="bob")
    sign_agreement(proc, "beta")
    sam.users.add("sven", "support", confidentiality_signed=UNDERTAKING[0],
                  trained=UNDERTAKING[1])  # fmt: skip


def one_controller(proc: Processor) -> None:
    """Acme (administrator alice) with one contact: enough for a store one test may ruin."""
    login(proc, "sam").controllers.register("acme", "Acme A/S", "DK", "paying", "scc",
                                            admin="alice")  # fmt: skip
    sign_agreement(proc, "acme")
    login(proc, "alice").contacts.add("acme", "news", "a@example.dk", CONSENT)


def refused(
    story: Story, call: Callable[[], Any], *errors: type[Exception], minutes: int = 5
) -> Exception:
    """Expect a refusal; then let time pass, so the refusals do not add up to a lockout."""
    with pytest.raises(errors or (AccessDeniedError,)) as caught:
        call()
    story.tick(minutes)
    return caught.value


def stored(proc: Processor) -> int:
    """How many events the store holds (its last notification id)."""
    return int(proc.store.recorder.max_notification_id() or 0)


def insert_unkeyed(proc: Processor, aggregate: Any) -> None:
    """Write an aggregate's pending events straight into the store, without the record MAC key."""
    plain = Mapper(transcoder=proc.store.mapper.transcoder)
    rows = [plain.to_stored_event(e) for e in aggregate.collect_events()]
    proc.store.recorder.insert_events(rows)


def kill_on_notice_insert(proc: Processor, enable: bool) -> None:
    """A trigger that aborts the transaction when a notice's first event is inserted: the
    command dies after its own event was written and before its notice was.
    """
    settings = proc.settings
    if settings.backend == "postgres":
        loc = settings.events_location()
        engine = sa.create_engine(loc.sqlalchemy_url(), poolclass=sa.NullPool)
        table = f'"{loc.schema}"."processor_events"'
        fn = f'"{loc.schema}".redteam_kill'
        statements = (
            [
                (
                    f"CREATE FUNCTION {fn}() RETURNS trigger AS $$ BEGIN "
                    "RAISE EXCEPTION 'killed mid-command'; END $$ LANGUAGE plpgsql"
                ),
                (
                    f"CREATE TRIGGER redteam_kill BEFORE INSERT ON {table} FOR EACH ROW "
                    f"WHEN (NEW.topic LIKE '%Notice.ControllerNotified%') EXECUTE FUNCTION {fn}()"
                ),
            ]
            if enable
            else [f"DROP TRIGGER redteam_kill ON {table}", f"DROP FUNCTION {fn}()"]
        )
    else:
        engine = sa.create_engine(
            f"sqlite:///{settings.data_dir / 'events.sqlite'}", poolclass=sa.NullPool
        )
        statements = (
            [
                (
                    "CREATE TRIGGER redteam_kill BEFORE INSERT ON stored_events "
                    "WHEN NEW.topic LIKE '%Notice.ControllerNotified%' "
                    "BEGIN SELECT RAISE(ABORT, 'killed mid-command'); END"
                )
            ]
            if enable
            else ["DROP TRIGGER redteam_kill"]
        )
    with engine.begin() as conn:
        for sql in statements:
            conn.execute(sa.text(sql))
    engine.dispose()


def together(work: list[Callable[[], Any]]) -> list[Any]:
    """Run each callable in its own thread, all released at once; each result or exception."""
    barrier = threading.Barrier(len(work))
    results: list[Any] = [None] * len(work)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work[i]()
        except Exception as exc:  # the caller judges each outcome
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results
