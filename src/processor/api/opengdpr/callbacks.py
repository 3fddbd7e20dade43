"""Status callbacks: signed, sent in order, retried with back-off, every attempt recorded.

One dispatcher thread per server process sends callbacks in the order the statuses changed.
A callback goes only to a URL the controller's administrator registered (checked when the
request is received, and again here). Each attempt, delivered or not, is an
`OpenGdprCallbackAttempted` event on the request, so the controller and an auditor can see
what was tried and when. A callback still waiting when the server stops is not sent; the
recorded attempts show that, and the status endpoint always has the current state.
"""

from __future__ import annotations

import json
import queue
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import httpx

from processor import context
from processor.api.opengdpr.domain import OpenGdprRegister, OpenGdprRequest, register_id
from processor.api.runtime import HTTP
from processor.errors import ProcessorError
from processor.logs import get_logger

if TYPE_CHECKING:
    from collections.abc import Callable
    from uuid import UUID

    from processor.api.opengdpr.signing import BodySigner
    from processor.api.runtime import Runtime

ACTOR: Final = "opengdpr-callbacks"
_log = get_logger("processor.api.opengdpr")


@dataclass(frozen=True)
class Callback:
    """One status callback to one URL."""

    request: UUID
    controller: str
    url: str
    status: str
    body: dict[str, Any]


def encoded(body: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed)."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class Dispatcher:
    """Sends callbacks from a queue, in order, with retries."""

    def __init__(
        self,
        rt: Runtime,
        signer: BodySigner,
        backoff: tuple[float, ...],
        timeout: float,
    ) -> None:
        self.rt = rt
        self.signer = signer
        self.backoff = backoff
        self.timeout = timeout
        self.queue: queue.Queue[Callback | _Marker | None] = queue.Queue()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="opengdpr-callbacks", daemon=True)
        self.thread.start()

    def send(self, callback: Callback) -> None:
        """Queue a callback."""
        self.queue.put(callback)

    def stop(self) -> None:
        """Stop after the callback in hand (waiting ones are not sent)."""
        self.stopping.set()
        self.queue.put(None)
        self.thread.join(timeout=10)

    def idle(self, timeout: float = 30.0) -> bool:
        """Wait until every queued callback was tried to the end (tests)."""
        done = threading.Event()

        def mark() -> None:
            done.set()

        self.queue.put(_Marker(mark))
        return done.wait(timeout)

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            if item is None or self.stopping.is_set():
                return
            if isinstance(item, _Marker):
                item.fire()
                continue
            try:
                self._deliver(item)
            except Exception as exc:  # noqa: BLE001 - the dispatcher must outlive any one failure
                _log.error("callback_failed", error_type=type(exc).__name__)

    def _deliver(self, callback: Callback) -> None:
        body = encoded(callback.body)
        headers = {"Content-Type": "application/json", **self.signer.headers(body)}
        delays = (0.0, *self.backoff)
        for attempt, delay in enumerate(delays, start=1):
            if self.stopping.wait(delay):
                return
            if not self._still_registered(callback):
                self._record(
                    callback,
                    attempt,
                    delivered=False,
                    status=None,
                    error="URL no longer registered",
                )
                return
            status: int | None = None
            error = ""
            try:
                response = httpx.post(
                    callback.url, content=body, headers=headers, timeout=self.timeout
                )
                status = response.status_code
                delivered = 200 <= status < 300  # noqa: PLR2004
                error = "" if delivered else f"HTTP {status}"
            except httpx.HTTPError as exc:
                delivered = False
                error = type(exc).__name__
            self._record(callback, attempt, delivered=delivered, status=status, error=error)
            if delivered:
                return

    def _still_registered(self, callback: Callback) -> bool:
        with self.rt.store() as proc:
            register = proc.find(register_id(callback.controller))
            return isinstance(register, OpenGdprRegister) and callback.url in register.callback_urls

    def _record(
        self, callback: Callback, attempt: int, *, delivered: bool, status: int | None, error: str
    ) -> None:
        _log.info("callback_attempt", attempt=attempt, delivered=delivered, http_status=status)
        try:
            with self.rt.store() as proc, context.using(HTTP):
                request = proc.find(callback.request)
                if not isinstance(request, OpenGdprRequest):
                    return
                request.record_callback(
                    actor=ACTOR, url=callback.url, request_status=callback.status,
                    attempt=attempt, delivered=delivered, http_status=status, error=error,
                )  # fmt: skip
                proc.commit(request)
        except ProcessorError as exc:
            _log.error("callback_not_recorded", error_type=type(exc).__name__)


class _Marker:
    """A point in the queue (tests wait for it)."""

    def __init__(self, fire: Callable[[], None]) -> None:
        self.fire = fire
