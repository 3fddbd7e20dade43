"""A real `processor serve` process over a test store, for the serve, concurrency and load tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
from cli_helpers import PROCESSOR
from support import UNDERTAKING, login, sign_agreement

from processor.config import Settings
from processor.services.setup import initialise


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def new_store(settings: Settings) -> dict[str, str]:
    """Initialise a store with acme (admin alice); the credentials of the people in it."""
    proc = initialise(settings, gdpa_undertaking=UNDERTAKING, manager_undertaking=UNDERTAKING,
                          gdpa="grete", system_manager="sam")  # fmt: skip
    try:
        login(proc, "sam").controllers.register("acme", "Acme A/S", "DK", "paying", "scc",
                                                 admin="alice")  # fmt: skip
        sign_agreement(proc, "acme")  # processing needs the signed agreement (INSTR-5)
        login(proc, "alice")
        return dict(proc.issued)
    finally:
        proc.close()


def store_args(settings: Settings) -> list[str]:
    """The global options naming the store."""
    args = ["--data-dir", str(settings.data_dir)]
    if settings.database_url:
        args += [
            "--database-url",
            settings.database_url,
            "--keystore-url",
            str(settings.keystore_url),
        ]
    return args


class Server:
    """`processor serve` in a subprocess, waited for until it answers."""

    def __init__(
        self,
        settings: Settings,
        workers: int = 1,
        log: Path | None = None,
        *,
        extra: tuple[str, ...] = (),
        scheme: str = "http",
        verify: Any = True,  # httpx's own type: a context, a path or a flag
    ) -> None:
        self.port = free_port()
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self.log_path = log
        self._log: Any = log.open("wb") if log else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [str(PROCESSOR), *store_args(settings), "serve", "--port", str(self.port),
             "--workers", str(workers), *extra],
            stdout=subprocess.DEVNULL, stderr=self._log, env={**os.environ},
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited with {self.process.returncode}")
            try:
                answer = httpx.get(f"{self.url}/v1/ledger/head", timeout=2, verify=verify)
                if answer.status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        raise AssertionError("serve did not answer within 60 s")

    def wait_for_workers(self, workers: int, timeout: float = 60) -> None:
        """Ask on new connections until `workers` processes have answered (their request logs).

        The constructor returns once the first worker answers; under load the others may still
        be importing the application, and a short burst of requests would then all go to one.
        """
        assert self.log_path is not None, "give the server a log to count its workers"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            httpx.get(f"{self.url}/v1/ledger/head", timeout=5, headers={"Connection": "close"})
            pids = {
                record["pid"]
                for record in log_records(self.log_path.read_text())
                if record.get("event") == "request"
            }
            if len(pids) >= workers:
                return
            time.sleep(0.1)
        raise AssertionError(f"fewer than {workers} workers answered within {timeout:.0f} s")

    def terminate(self) -> None:
        """Send SIGTERM (what a service manager sends)."""
        self.process.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = 40) -> int:
        """SIGTERM, then wait; the exit code."""
        if self.process.poll() is None:
            self.terminate()
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        if self._log is not subprocess.DEVNULL:
            self._log.close()
        return code

    def __enter__(self) -> Server:  # noqa: PYI034 - not subclassed
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def log_records(text: str) -> list[dict[str, Any]]:
    """The JSON log records in a server's log, even where two workers' lines ran together.

    Several worker processes write to one file; a line can hold two records (one worker's
    write landed before the other's newline). Each record is decoded where it starts.
    """
    decoder = json.JSONDecoder()
    found: list[dict[str, Any]] = []
    for line in text.splitlines():
        at = line.find("{")
        while at != -1:
            try:
                record, end = decoder.raw_decode(line, at)
            except json.JSONDecodeError:
                at = line.find("{", at + 1)
                continue
            if isinstance(record, dict):
                found.append(record)
            at = line.find("{", end)
    return found
