"""One open store per server process, and the per-request path: authenticate, act, forget.

A worker process opens the store once and runs one request at a time against it (a lock):
the store's sealer, ledger and projector are not made for concurrent use inside one process,
and SQLite has one writer anyway. Several processes (PostgreSQL) run requests side by side;
the store's optimistic concurrency and the controller write lock (`processor.services.writelock`)
keep them apart, and every request first catches up with what the others committed.

Signing is done in groups (`processor.kernel.groupcommit`): a request saves and projects its
events under the lock, releases it, and waits until one checkpoint covers them; the first to
wait signs for all that finished meanwhile. A request answers only after that, so what it
returns is stored, signed and visible, as a single command's would be.
"""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING, Final

import sqlalchemy as sa

from processor import refusals
from processor.api.grouping import grouping
from processor.api.problems import NotAuthenticatedError
from processor.app import Processor
from processor.credentials.secrets import credential_id_of, matches
from processor.credentials.service import AUTH_RULE
from processor.desk import Desk, login
from processor.domain.ids import user_id
from processor.domain.users import User
from processor.kernel import clock as clocks
from processor.kernel.context import Via
from processor.kernel.errors import AccessDeniedError, ConflictError, NotFoundError, RefusedError
from processor.kernel.groupcommit import GroupCommit
from processor.readmodels import tables as t

if TYPE_CHECKING:
    from collections.abc import Iterator

    from processor.config import Settings

HTTP: Final = Via("http")
UNKNOWN_HOLDER: Final = "(unknown credential)"
NOT_AUTHENTICATED: Final = "no credential: send `Authorization: Bearer <credential>`"
INVALID_CREDENTIAL: Final = f"refused: no valid credential ({AUTH_RULE})"
# A controller's user asking for another controller's ids gets 404 (nothing leaks, ACC-9).
OTHER_CONTROLLER_RULE: Final = "ControllerUsersSeeOnlyTheirOwn"


class Runtime:
    """The store a server process serves, and the lock its requests take turns on."""

    def __init__(self, settings: Settings, clock: clocks.Clock | None = None) -> None:
        self.settings = settings
        self._clock = clock
        self.lock = threading.RLock()
        self.proc = Processor.open(settings, clock)
        config = grouping()
        self.proc.defer_signing(config.max_pending)
        # Recorded at `init` and never changed: read once, not once per request.
        self._simulation = self.proc.simulation
        self.group = GroupCommit(
            self._sign,
            lambda: self.proc.ledger.last_signed,
            self.proc.unsigned_count,
            window=config.window,
            max_pending=config.max_pending,
        )
        # Credential id -> user name: only a locator; the credential is checked on the user's
        # own events by `processor.desk.login` every time.
        self._holders: dict[str, str] = {}

    def close(self) -> None:
        """Sign what waits, then release the store's connections."""
        with self.lock:
            try:
                self.proc.settle()
            finally:
                self.proc.close()

    def _sign(self) -> int:
        """The group's signature: everything saved and not yet signed, in one checkpoint."""
        with self.lock, self.proc.using_clock():
            return self.proc.sign_pending()

    def _resolve_clock(self) -> None:
        """Injected clock (tests), else the wall clock, never behind a simulation's last event."""
        if self._clock is not None:
            self.proc.clock = self._clock
            return
        wall = clocks.SystemClock()
        last = self.proc.last_event_time() if self._simulation else None
        self.proc.clock = clocks.FixedClock(last) if last and last > wall.now() else wall

    @contextlib.contextmanager
    def store(self) -> Iterator[Processor]:
        """The store, caught up and signed, for a request that needs no person (ledger reads)."""
        with self.lock:
            self._resolve_clock()
            with self.proc.using_clock():
                try:
                    self.proc.settle()
                    yield self.proc
                finally:
                    self.proc.end_command()

    @contextlib.contextmanager
    def acting(self, credential: str | None, command: str) -> Iterator[Desk]:
        """The desk of the credential's holder, for one request (ACC-12, ACC-8).

        Business-rule refusals are recorded (as the CLI records them); a controller user's
        attempt on another controller's data is recorded and counted, and answered 404. The
        request returns (or raises) only once what it and the requests before it saved is
        signed: the group commit's wait, outside the lock.
        """
        target = 0
        self.group.started()
        try:
            with self.lock:
                self._resolve_clock()
                with self.proc.using_clock():
                    session: Desk | None = None
                    try:
                        self.proc.catch_up()
                        session = self.authenticate(credential, command)
                        yield session
                    except AccessDeniedError as exc:
                        if exc.rule == OTHER_CONTROLLER_RULE:
                            raise NotFoundError(
                                "unknown id: no such resource for this user"
                            ) from None
                        raise
                    except RefusedError as exc:
                        if session is not None:
                            with contextlib.suppress(RefusedError, ConflictError):
                                session.record_refusal(command, exc.rule, str(exc))
                        raise
                    finally:
                        self.proc.end_command()
                        target = self.proc.unsigned_top()
        finally:
            self.group.finished()
            if target:
                self.group.wait(target)

    def authenticate(self, credential: str | None, command: str) -> Desk:
        """Log the holder of `credential` in; a wrong one is recorded and counts (ACC-8)."""
        if not credential:
            raise NotAuthenticatedError(NOT_AUTHENTICATED)
        holder = self.holder_of(credential)
        if holder is None:
            try:
                refusals.refuse(
                    self.proc, actor=UNKNOWN_HOLDER, via=HTTP, command=command, controller=None,
                    rule=AUTH_RULE, reason="no valid credential", counts=True,
                )  # fmt: skip
            except AccessDeniedError:
                raise AccessDeniedError(INVALID_CREDENTIAL, rule=AUTH_RULE) from None
        try:
            return login(self.proc, holder or "", credential, HTTP, command=command)
        except AccessDeniedError as exc:
            if exc.rule == AUTH_RULE:
                # Same words whoever holds the id: a guess learns nothing about user names.
                raise AccessDeniedError(INVALID_CREDENTIAL, rule=AUTH_RULE) from None
            raise

    def holder_of(self, credential: str) -> str | None:
        """The name of the user a credential was issued to (current or revoked), or None."""
        cid = credential_id_of(credential)
        if cid is None:
            return None
        known = self._holders.get(cid)
        if known is not None:
            return known
        revoked_holder = None
        with self.proc.engines.readmodels.connect() as conn:
            names = [r[0] for r in conn.execute(sa.select(t.users.c.name))]
        for name in names:
            user = self.proc.find(user_id(name))
            if not isinstance(user, User):
                continue
            if user.credential_id:
                self._holders[user.credential_id] = name
            if user.revoked and matches(credential, user.revoked_credential_digest):
                revoked_holder = name
        return self._holders.get(cid) or revoked_holder
