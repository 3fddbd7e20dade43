"""`processor witness`: a small C2SP tlog-witness a controller or an auditor runs themselves.

It needs no store: only a folder for its own state and key, and the log's public key. It keeps
the latest checkpoint it cosigned per log and cosigns only consistent successors, so a
processor that rolled its store back, or rewrote it, cannot get a cosignature for the new story.
`serve` speaks the HTTP protocol (`POST /add-checkpoint`); `cosign` does the same from files,
for a witness that is never online.
"""

from __future__ import annotations

import json
import os
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import click

from ledger import (
    CosignatureSigner,
    LedgerError,
    Verifier,
    Witness,
    format_add_checkpoint,
)
from processor.kernel.errors import IntegrityFailureError, InvalidInputError

from .output import emit
from .state import state

KEY_FILE = "witness.key"
MAX_REQUEST = 64 * 1024  # a checkpoint, 63 proof lines and a few signatures fit easily
_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
_DIR = click.Path(file_okay=False, path_type=Path)


def load_witness(state_dir: Path, log_keys: list[Path], name: str | None = None) -> Witness:
    """The witness in `state_dir`, its key created (0600) on first use, trusting `log_keys`."""
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    key_path = state_dir / KEY_FILE
    if not key_path.exists():
        signer = CosignatureSigner.generate(name or f"witness.local/{socket.gethostname()}")
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"name": signer.name, "seed": signer.private_bytes().hex()}, handle)
    try:
        data = json.loads(key_path.read_text(encoding="utf-8"))
        signer = CosignatureSigner.from_private_bytes(data["name"], bytes.fromhex(data["seed"]))
    except (OSError, ValueError, KeyError, LedgerError) as exc:
        raise InvalidInputError(f"cannot read the witness key {key_path}: {exc}") from None
    logs = []
    for path in log_keys:
        try:
            logs.append(Verifier.from_vkey(path.read_text(encoding="utf-8").strip()))
        except (OSError, LedgerError, ValueError) as exc:
            raise InvalidInputError(f"invalid log key {path}: {exc}") from None
    return Witness(signer, logs, state_dir)


def make_server(witness: Witness, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """An HTTP server for `witness` (call `serve_forever`; port 0 picks a free port)."""

    class Handler(BaseHTTPRequestHandler):
        """POST /add-checkpoint, as C2SP tlog-witness specifies."""

        def do_POST(self) -> None:
            """Decide one add-checkpoint request."""
            if self.path.rstrip("/").rsplit("/", 1)[-1] != "add-checkpoint":
                self._answer(404, "text/plain", "not found\n")
                return
            length = int(self.headers.get("Content-Length") or 0)
            if not 0 < length <= MAX_REQUEST:
                self._answer(400, "text/plain", "bad request: body size\n")
                return
            answer = witness.add_checkpoint(self.rfile.read(length))
            self._answer(answer.status, answer.content_type, answer.body)

        def _answer(self, status: int, content_type: str, body: str) -> None:
            raw = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002, ANN401
            """Quiet: the CLI's output is its own."""

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


@click.group()
def witness() -> None:
    """A C2SP tlog-witness: cosigns only checkpoints consistent with what it saw before."""


def _state_options(func: Any) -> Any:  # noqa: ANN401
    func = click.option(
        "--log-key", "log_keys", type=_FILE, multiple=True, required=True,
        help="The log's public key (`ledger public-key`); repeat for several logs.",
    )(func)  # fmt: skip
    func = click.option("--name", help="The witness's key name (first use only).")(func)
    return click.option("--state-dir", type=_DIR, required=True, help="The witness's folder.")(func)


@witness.command("serve")
@_state_options
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=7380, show_default=True)
def witness_serve(
    state_dir: Path, log_keys: tuple[Path, ...], name: str | None, host: str, port: int
) -> None:
    """Serve POST /add-checkpoint until interrupted."""
    server = make_server(load_witness(state_dir, list(log_keys), name), host, port)
    click.echo(f"witness listening on http://{host}:{server.server_address[1]}", err=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


@witness.command("public-key")
@_state_options
@click.pass_context
def witness_public_key(
    ctx: click.Context, state_dir: Path, log_keys: tuple[Path, ...], name: str | None
) -> None:
    """Print the witness's verifier key (give it to whoever relies on its cosignatures)."""
    vkey = load_witness(state_dir, list(log_keys), name).signer.vkey()
    emit({"public_key": vkey}, as_json=state(ctx).as_json, text=vkey)


@witness.command("cosign")
@_state_options
@click.option("--checkpoint", type=_FILE, required=True, help="The signed checkpoint note.")
@click.option(
    "--proof",
    type=_FILE,
    help="`ledger consistency --from SIZE --json` from the witness's last size (none at first).",
)
def witness_cosign(
    state_dir: Path,
    log_keys: tuple[Path, ...],
    name: str | None,
    checkpoint: Path,
    proof: Path | None,
) -> None:
    """Offline: cosign a checkpoint from files; print the cosigned checkpoint."""
    note = checkpoint.read_text(encoding="utf-8")
    old, hashes = 0, []
    if proof is not None:
        try:
            data = json.loads(proof.read_text(encoding="utf-8"))
            old = int(data["from_size"])
            hashes = [bytes.fromhex(h) for h in data["proof"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InvalidInputError(f"cannot read consistency proof {proof}: {exc}") from None
    try:
        body = format_add_checkpoint(old, hashes, note)
    except LedgerError as exc:
        raise InvalidInputError(str(exc)) from None
    answer = load_witness(state_dir, list(log_keys), name).add_checkpoint(body)
    if answer.status != 200:  # noqa: PLR2004
        message = f"witness refused ({answer.status}): {answer.body.strip()}"
        if answer.status in (409, 422):
            raise IntegrityFailureError(message + ": not consistent with what it cosigned")
        raise InvalidInputError(message)
    click.echo(note + answer.body, nl=False)


def register(cli: click.Group) -> None:
    """Attach these commands."""
    cli.add_command(witness)
