"""Group commit: one signature for the commands that finished while the last one was signed.

A server process runs its commands one at a time against its store (`processor.api.runtime`),
and used to sign one ledger checkpoint per command. Signing is the part of a commit that does
not grow with the command's size (a head lock, the tree's frontier, the anchors' checks, an
Ed25519 signature, a line appended to the checkpoint log), so under load the store spent most
of its time signing. Databases solve the same problem for their log flush (PostgreSQL's group
commit, Trillian's sequencer): the command's own work stays in order, and one flush covers every
command that is waiting.

Here each command saves and projects its events, then waits (outside the store's lock) until a
signature covers them. The first waiter becomes the leader: it lets the commands already under
way finish, for at most `window` seconds or until `max_pending` records wait, then signs
everything waiting in one checkpoint and wakes the others. A leader whose signing fails fails
every command that was waiting for it, with the same error; their events stay saved, unsigned,
and the next command's catch-up signs them or refuses as a single command would.

Nothing here knows what a store is: `sign` signs what waits and returns the newest signed
position, `signed` reads that position without signing, `pending` tells how many records wait.
"""

from __future__ import annotations

import copy
import threading
import time
from typing import TYPE_CHECKING

from processor.kernel.errors import IntegrityFailureError

if TYPE_CHECKING:
    from collections.abc import Callable


class GroupCommit:
    """Leader/follower signing of the positions that waiting commands need covered."""

    def __init__(
        self,
        sign: Callable[[], int],
        signed: Callable[[], int],
        pending: Callable[[], int],
        *,
        window: float,
        max_pending: int,
    ) -> None:
        self._sign = sign
        self._signed = signed
        self._pending = pending
        self.window = window
        self.max_pending = max_pending
        self._cond = threading.Condition()
        self._leading = False
        self._running = 0  # commands between `started` and `finished`
        self._waiting = 0  # commands waiting for the leader's signature
        self._rounds = 0  # signing rounds completed (or failed)
        self._failure: tuple[int, BaseException] | None = None  # (round, error) of the last
        self.batches = 0  # signatures made by leaders (figures for the bench and the log)
        self.covered = 0  # commands their signatures covered

    def started(self) -> None:
        """A command is under way (holding, or waiting for, the store)."""
        with self._cond:
            self._running += 1

    def finished(self) -> None:
        """A command has done its own work (its events, if any, wait for a signature)."""
        with self._cond:
            self._running -= 1
            self._cond.notify_all()

    def wait(self, target: int) -> None:
        """Return once position `target` is signed; raise the leader's error if signing failed."""
        with self._cond:
            joined = self._rounds
            while True:
                if self._signed() >= target:
                    return
                failure = self._failure
                if failure is not None and failure[0] > joined:
                    raise copy.copy(failure[1])
                if not self._leading:
                    self._leading = True
                    break
                self._waiting += 1
                try:
                    self._cond.wait()
                finally:
                    self._waiting -= 1
            # The leader: let the commands under way finish, so one signature covers them.
            deadline = time.monotonic() + self.window
            while self._running and self._pending() < self.max_pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            waiting = self._waiting + 1
        error: BaseException | None = None
        try:
            self._sign_through(target)
        except BaseException as exc:  # noqa: BLE001 - handed to every waiter, then re-raised
            error = exc
        with self._cond:
            self._rounds += 1
            self._leading = False
            if error is not None:
                self._failure = (self._rounds, error)
            else:
                self.batches += 1
                self.covered += waiting
            self._cond.notify_all()
        if error is not None:
            raise error

    def _sign_through(self, target: int) -> None:
        """Sign, and make sure the signature reached the leader's own position.

        Everything the leader waited for was saved before it signed: a signature that stops
        short of it is a fault to report, never a reason to sign again.
        """
        signed = self._sign()
        if signed < target:
            raise IntegrityFailureError(
                f"the group's signature reached position {signed}, not position {target}"
            )
