"""Status callbacks: signed, sent in order per URL, retried with back-off, every attempt recorded.

Each callback origin (scheme, host and port) has its own bounded queue and its own worker
thread, so a dead or slow controller endpoint delays only the callbacks to itself: the others
keep flowing. Within one URL the statuses go in the order they changed. A callback goes only
to a URL the controller's administrator registered (checked when the request is received, and
again here), and only to a public address unless the operator allowed the range: the name is
resolved once per attempt and the connection pinned to the checked address
(`destinations`). Each attempt, delivered or not (refused, dropped from a full queue), is an
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
from urllib.parse import urlsplit

import httpx

from processor.api.opengdpr.destinations import CallbackDestinationError, pinned_post
from processor.api.opengdpr.domain import OpenGdprRegister, OpenGdprRequest, register_id
from processor.api.runtime import HTTP
from processor.kernel import context
from processor.kernel.errors import ProcessorError
from processor.logs import get_logger

if TYPE_CHECKING:
    from uuid import UUID

    from processor.api.opengdpr.destinations import Destinations
    from processor.api.opengdpr.signing import BodySigner
    from processor.api.runtime import Runtime

ACTOR: Final = "opengdpr-callbacks"
QUEUE_SIZE: Final = 100  # callbacks waiting per origin; more are dropped (and recorded)
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
    """Sends callbacks from one bounded queue per origin, each drained by its own worker."""

    def __init__(
        self,
        rt: Runtime,
        signer: BodySigner,
        backoff: tuple[float, ...],
        timeout: float,
        destinations: Destinations,
        queue_size: int = QUEUE_SIZE,
    ) -> None:
        self.rt = rt
        self.signer = signer
        self.backoff = backoff
        self.timeout = timeout
        self.destinations = destinations
        self.queue_size = queue_size
        self.stopping = threading.Event()
        self._lock = threading.Condition()
        self._queues: dict[str, queue.Queue[Callback]] = {}
        self._workers: dict[str, threading.Thread] = {}
        self._busy = 0  # callbacks queued or in hand, for `idle`

    def send(self, callback: Callback) -> None:
        """Queue a callback on its origin's queue (a full queue drops it, recorded)."""
        if self.stopping.is_set():
            return
        origin = origin_of(callback.url)
        with self._lock:
            found = self._queues.get(origin)
            if found is None:
                found = self._queues[origin] = queue.Queue(maxsize=self.queue_size)
            try:
                found.put_nowait(callback)
            except queue.Full:
                full = True
            else:
                full = False
                self._busy += 1
                if origin not in self._workers:
                    worker = threading.Thread(
                        target=self._drain, args=(origin,), name="opengdpr-callbacks", daemon=True
                    )
                    self._workers[origin] = worker
                    worker.start()
        if full:
            dropped = f"dropped: {self.queue_size} callbacks already wait for this URL"
            self._record(callback, 0, delivered=False, status=None, error=dropped)

    def stop(self) -> None:
        """Stop after the callbacks in hand (waiting ones are not sent)."""
        self.stopping.set()
        with self._lock:
            workers = list(self._workers.values())
            self._lock.notify_all()
        for worker in workers:
            worker.join(timeout=10)

    def idle(self, timeout: float = 30.0) -> bool:
        """Wait until every queued callback was tried to the end (tests)."""
        with self._lock:
            return self._lock.wait_for(lambda: self._busy == 0, timeout)

    def _drain(self, origin: str) -> None:
        """One origin's worker: send its queue in order; end when it is empty."""
        while True:
            with self._lock:
                pending = self._queues[origin]
                if pending.empty() or self.stopping.is_set():
                    # Empty, or stopping: what still waits is not sent (the attempts say so).
                    del self._workers[origin], self._queues[origin]
                    self._busy -= pending.qsize()
                    self._lock.notify_all()
                    return
                item = pending.get_nowait()
            try:
                self._deliver(item)
            except Exception as exc:  # noqa: BLE001 - the worker must outlive any one failure
                _log.error("callback_failed", error_type=type(exc).__name__, **_about(item))
            finally:
                with self._lock:
                    self._busy -= 1
                    self._lock.notify_all()

    def _deliver(self, callback: Callback) -> None:
        body = encoded(callback.body)
        headers = {
            "Content-Type": "application/json",
            **self.signer.headers(body, "opengdpr", "opendsr"),
        }
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
            try:
                address = self.destinations.pin(callback.url)
            except CallbackDestinationError as exc:
                # A refusal, not a failure: the DNS answer would not change by retrying now.
                self._record(callback, attempt, delivered=False, status=None, error=str(exc))
                return
            status: int | None = None
            error = ""
            try:
                response = pinned_post(callback.url, address, body, headers, self.timeout)
                status = response.status_code
                delivered = 200 <= status < 300  # noqa: PLR2004
                error = "" if delivered else f"HTTP {status}"
                if response.is_redirect:
                    error += " (redirects are not followed)"
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
        _log.info(
            "callback_attempt",
            attempt=attempt,
            delivered=delivered,
            http_status=status,
            error=error,
            **_about(callback),
        )
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
            _log.error("callback_not_recorded", error_type=type(exc).__name__, **_about(callback))


def _about(callback: Callback) -> dict[str, str]:
    """What a delivery's log line names: the URL, controller, request and status it reports.

    The URL is logged without its query, which may hold the controller's token.
    """
    parts = urlsplit(callback.url)
    return {
        "callback_url": f"{parts.scheme}://{parts.netloc}{parts.path}",
        "controller": callback.controller,
        "opengdpr_request": str(callback.request),
        "request_status": callback.status,
    }


def origin_of(url: str) -> str:
    """The scheme, host and port of `url`: callbacks to one origin share one queue."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"
