"""What every command shares: settings, the acting user, output mode and the open store."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from processor.app import Processor
from processor.credentials import keeper
from processor.kernel import clock as clocks
from processor.kernel.context import Via
from processor.kernel.errors import InvalidInputError, RefusedError
from processor.services.validation import iso_datetime

MAX_SIMULATED_YEARS = 100

if TYPE_CHECKING:
    from processor.config import Settings
    from processor.desk import Desk
    from processor.session import Session


@dataclass
class CliState:
    """Per-invocation state, kept on the click context."""

    settings: Settings
    user: str | None
    as_json: bool
    credential_file: str | None = None
    command: str = "cli"
    _proc: Processor | None = field(default=None, repr=False)
    _desk: Desk | None = field(default=None, repr=False)

    def processor(self, *, catch_up: bool = True) -> Processor:
        """Open the store once per invocation, with the clock resolved for it.

        Normal commands first bring the ledger and read models up to date (finishing any command
        that died half-way). Ledger inspection does not: it must judge the store as it is, and
        must never sign records it has not checked.
        """
        if self._proc is None:
            proc = Processor.open(self.settings)
            try:
                # Only a simulation store's clock depends on its last event (as in the HTTP API):
                # reading and opening that event is skipped by every other store's commands.
                last = proc.last_event_time() if proc.simulation else None
                proc.clock = resolve_clock(proc.simulation, last)
                if catch_up:
                    with proc.using_clock():
                        proc.catch_up()
            except BaseException:
                proc.close()
                raise
            self._proc = proc
        return self._proc

    def credential(self) -> str | None:
        """The acting user's credential: --credential-file, PROCESSOR_CREDENTIAL, or kept."""
        if self.credential_file:
            return keeper.read_secret_file(Path(self.credential_file))
        given = os.environ.get("PROCESSOR_CREDENTIAL")
        if given:
            return given.strip()
        if not self.user:
            return None
        return keeper.kept(self.settings, self.user)

    def desk(self, *, catch_up: bool = True) -> Desk:
        """The desk of the acting user (`--as` or PROCESSOR_USER, ACC-12), logged in once.

        Without a valid credential the command is refused, and the failure is recorded and
        counts towards the user's lockout (ACC-8).
        """
        if self._desk is not None:
            return self._desk
        if not self.user:
            raise InvalidInputError("no user: give --as NAME or set PROCESSOR_USER")
        text = self.credential()
        proc = self.processor(catch_up=catch_up)
        ctx = click.get_current_context(silent=True)
        command = ctx.command_path.partition(" ")[2] if ctx is not None else "cli"
        self.command = command or "cli"
        from processor.desk import login

        self._desk = login(proc, self.user, text or "", via=cli_via(), command=command or "cli")
        return self._desk

    def session(self, *, catch_up: bool = True) -> Session:
        """The authenticated session of the acting user: who acts, and may they (`desk`)."""
        return self.desk(catch_up=catch_up).session

    def current_session(self) -> Session | None:
        """The session if one was authenticated in this invocation."""
        return self._desk.session if self._desk is not None else None

    def close(self) -> None:
        """Close the store if it was opened."""
        self._desk = None
        if self._proc is not None:
            self._proc.close()
            self._proc = None


def cli_via() -> Via:
    """The command line as a channel, with the operating-system account running it."""
    try:
        account = getpass.getuser()
    except (KeyError, OSError):
        account = str(os.getuid())
    return Via("cli", account)


def requested_now() -> datetime | None:
    """PROCESSOR_NOW as a time, if set."""
    text = os.environ.get("PROCESSOR_NOW")
    return iso_datetime(text, "PROCESSOR_NOW") if text else None


def resolve_clock(simulation: bool, last_event: datetime | None) -> clocks.Clock:
    """The clock for this invocation.

    Only a simulation store honours PROCESSOR_NOW, and never backwards: a time before the store's
    last event is refused. Without PROCESSOR_NOW a simulation store stays at its last event's
    time when that is ahead of the wall clock, so its history stays in order.
    """
    at = requested_now()
    if at is not None:
        if not simulation:
            raise RefusedError(
                "PROCESSOR_NOW is honoured only by a simulation store "
                "(processor init --simulation)",
                rule="SimulatedTimeOnlyInSimulation",
            )
        # Simulated time never goes back, so one far-future time would hold the store there for
        # good: refused before the store records anything at it (issue 12 item 5).
        horizon = clocks.SystemClock().now() + timedelta(days=366 * MAX_SIMULATED_YEARS)
        if at > horizon:
            raise InvalidInputError(
                f"PROCESSOR_NOW is more than {MAX_SIMULATED_YEARS} years ahead; simulated time "
                "never goes back, so the store would be stuck there"
            )
        if last_event is not None and at < last_event:
            raise RefusedError(
                f"PROCESSOR_NOW {at.isoformat()} is before the store's last event "
                f"{last_event.isoformat()}: simulated time never goes backwards",
                rule="TimeNeverGoesBackwards",
            )
        return clocks.FixedClock(at)
    wall = clocks.SystemClock()
    if simulation and last_event is not None and last_event > wall.now():
        return clocks.FixedClock(last_event)
    return wall


def state(ctx: click.Context) -> CliState:
    """The CliState of the root context."""
    obj = ctx.find_root().obj
    assert isinstance(obj, CliState)  # noqa: S101 - set by the root group, always
    return obj
