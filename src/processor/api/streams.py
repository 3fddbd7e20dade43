"""Streaming bodies both ways, between async HTTP and the synchronous services.

An export is written by the service in a worker thread into a bounded queue, and the response
sends each chunk as it comes, so a large export never sits in memory, nor on disk in plaintext.
An import reads the request body chunk by chunk as the service asks for lines, so a large CSV
upload is never held whole either. The status line goes out only after the first chunk (or
the error) is known, so authentication, refusals and unknown ids still get their own status.
"""

from __future__ import annotations

import io
import queue
import threading
from typing import TYPE_CHECKING, Any, Final

import anyio
import anyio.from_thread
import anyio.to_thread
from fastapi.responses import StreamingResponse

from processor.kernel.errors import ConflictError
from processor.logs import get_logger

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable
    from typing import TextIO

CHUNK: Final = 64 * 1024
DEPTH: Final = 16


class _CancelledError(Exception):
    """The client went away: stop writing."""


class _End:
    """The writer finished."""


class _QueueWriter(io.TextIOBase):
    """A text stream that hands UTF-8 chunks of about `CHUNK` bytes to a bounded queue."""

    def __init__(self, out: queue.Queue[Any], cancelled: threading.Event) -> None:
        super().__init__()
        self.out = out
        self.cancelled = cancelled
        self.buffer: list[bytes] = []
        self.size = 0

    def write(self, text: str) -> int:
        data = text.encode("utf-8")
        self.buffer.append(data)
        self.size += len(data)
        if self.size >= CHUNK:
            self.flush()
        return len(text)

    def flush(self) -> None:
        if not self.buffer:
            return
        chunk = b"".join(self.buffer)
        self.buffer, self.size = [], 0
        while True:
            if self.cancelled.is_set():
                raise _CancelledError
            try:
                self.out.put(chunk, timeout=0.5)
            except queue.Full:
                continue
            return


def _start(write: Callable[[TextIO], Any]) -> tuple[queue.Queue[Any], threading.Event]:
    """Run `write` in a worker thread; its chunks, then `_End` or the exception, go to a queue."""
    chunks: queue.Queue[Any] = queue.Queue(maxsize=DEPTH)
    cancelled = threading.Event()

    def work() -> None:
        writer = _QueueWriter(chunks, cancelled)
        try:
            write(writer)  # type: ignore[arg-type] # a text stream, as the services need
            writer.flush()
        except _CancelledError:
            return
        except BaseException as exc:  # noqa: BLE001 - handed to the response side
            _put(chunks, exc, cancelled)
            return
        _put(chunks, _End(), cancelled)

    threading.Thread(target=work, name="stream-writer", daemon=True).start()
    return chunks, cancelled


def _put(chunks: queue.Queue[Any], item: object, cancelled: threading.Event) -> None:
    while not cancelled.is_set():
        try:
            chunks.put(item, timeout=0.5)
        except queue.Full:
            continue
        return


class StreamCutShortError(Exception):
    """The writer failed after the response began: the connection is dropped, not ended."""


async def streamed(
    write: Callable[[TextIO], Any], media_type: str, attempts: int = 3
) -> StreamingResponse:
    """Run `write(stream)` in a worker thread and stream what it writes.

    The last chunk is held back until `write` returns: an export is recorded (`DataExported`)
    after it is written, so the client never receives a complete export that was not recorded.
    The status is decided once two chunks (or the end) are known, so a refusal, an unknown id
    or a concurrent-writer conflict (retried here, up to `attempts` times, while nothing was
    sent) gets its own status; a failure later drops the connection, so the client sees a
    truncated transfer and not a short file.
    """
    for attempt in range(1, attempts + 1):
        chunks, cancelled = _start(write)
        first = await anyio.to_thread.run_sync(chunks.get)
        second = _End() if isinstance(first, _End | BaseException) else None
        if second is None:
            second = await anyio.to_thread.run_sync(chunks.get)
        failed = first if isinstance(first, BaseException) else second
        if isinstance(failed, BaseException):
            cancelled.set()
            if isinstance(failed, ConflictError) and attempt < attempts:
                continue
            raise failed
        break

    async def body() -> AsyncIterator[bytes]:
        held, item = first, second
        try:
            while True:
                if isinstance(item, BaseException):
                    get_logger("processor.api").error(
                        "stream_cut_short", error_type=type(item).__name__
                    )
                    raise StreamCutShortError(type(item).__name__)
                if not isinstance(held, _End):
                    yield held
                if isinstance(item, _End):
                    return
                held, item = item, await anyio.to_thread.run_sync(chunks.get)
        finally:
            cancelled.set()

    return StreamingResponse(body(), media_type=media_type)


class BodyReader(io.RawIOBase):
    """A blocking binary reader over an async request body, for use in a worker thread."""

    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self.chunks = chunks
        self.pending = b""
        self.done = False

    def readable(self) -> bool:
        """Always: it is a reader."""
        return True

    def _next(self) -> bytes | None:
        async def pull() -> bytes | None:
            try:
                return await self.chunks.__anext__()
            except StopAsyncIteration:
                return None

        return anyio.from_thread.run(pull)

    def readinto(self, target: Any) -> int:  # noqa: ANN401 - a writable buffer
        """Fill `target` from the body, pulling the next chunk when needed (0 at the end)."""
        while not self.pending and not self.done:
            chunk = self._next()
            if chunk is None:
                self.done = True
            else:
                self.pending = chunk
        size = min(len(target), len(self.pending))
        target[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        return size


async def reading(
    chunks: AsyncIterator[bytes],
    work: Callable[[io.BufferedReader[Any]], Any],
) -> Any:  # noqa: ANN401 - whatever `work` returns
    """Run `work(reader)` in a worker thread, the reader pulling the body as it goes."""

    def run() -> Any:  # noqa: ANN401
        with io.BufferedReader(BodyReader(chunks), CHUNK) as reader:
            return work(reader)

    return await anyio.to_thread.run_sync(run)
