"""`ledger` and `receipts` commands. Exit 3 means an integrity failure (AUD-4)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ledger import LedgerError, Verifier, verify_receipt
from processor.errors import IntegrityFailureError, InvalidInputError

from .output import emit
from .state import state


def _ledger(ctx: click.Context) -> Any:  # noqa: ANN401
    st = state(ctx)
    st.session(catch_up=False).authorize("ledger.read", command="ledger")
    return st.processor(catch_up=False).ledger


@click.group()
def ledger() -> None:
    """The tamper-evident ledger over the event log."""


@ledger.command("head")
@click.pass_context
def ledger_head(ctx: click.Context) -> None:
    """Print the latest signed checkpoint."""
    head = _ledger(ctx).head()
    emit(head, as_json=state(ctx).as_json, text=head["checkpoint"].rstrip("\n"))


@ledger.command("verify")
@click.pass_context
def ledger_verify(ctx: click.Context) -> None:
    """Recompute the tree from the stored records and check every checkpoint."""
    st = state(ctx)
    led = _ledger(ctx)
    total = led.size()
    show_bar = sys.stderr.isatty() and not st.as_json
    if show_bar:
        with click.progressbar(length=total, label="verifying", file=sys.stderr) as bar:
            report = led.verify(progress=lambda n: bar.update(n - bar.pos))
    else:
        report = led.verify()
    data = {
        "ok": report.ok,
        "records_checked": report.records_checked,
        "checkpoints_checked": report.checkpoints_checked,
        "first_bad_index": report.first_bad_index,
        "first_bad_position": report.first_bad_position,
        "reason": report.reason,
        "simulation": st.processor(catch_up=False).simulation,
    }
    if report.ok:
        emit(
            data,
            as_json=st.as_json,
            text=f"ledger verified: {report.records_checked} events, "
            f"{report.checkpoints_checked} signed checkpoints",
        )
        return
    if st.as_json:
        emit(data, as_json=True)
    if report.first_bad_position is None and report.first_bad_index is None:
        raise IntegrityFailureError(f"ledger verification failed: {report.reason}")
    raise IntegrityFailureError(
        f"ledger verification failed at position {report.first_bad_position} "
        f"(leaf {report.first_bad_index}): {report.reason}"
    )


@ledger.command("prove")
@click.argument("position", type=int)
@click.pass_context
def ledger_prove(ctx: click.Context, position: int) -> None:
    """Inclusion proof of the event at POSITION against the latest checkpoint."""
    emit(_ledger(ctx).prove(position), as_json=state(ctx).as_json)


@ledger.command("consistency")
@click.option("--from", "from_size", type=int, required=True)
@click.option("--to", "to_size", type=int)
@click.pass_context
def ledger_consistency(ctx: click.Context, from_size: int, to_size: int | None) -> None:
    """Consistency proof between two signed tree sizes (JSON, verifiable offline)."""
    data = _ledger(ctx).consistency(from_size, to_size)
    click.echo(json.dumps(data, indent=2))


@ledger.command("public-key")
@click.pass_context
def ledger_public_key(ctx: click.Context) -> None:
    """Print the verifier key of checkpoints and receipts."""
    vkey = _ledger(ctx).vkey()
    emit({"public_key": vkey}, as_json=state(ctx).as_json, text=vkey)


@click.group()
def receipts() -> None:
    """Receipts given to controllers."""


def _load_json(path: Path, what: str) -> Any:  # noqa: ANN401
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInputError(f"cannot read {what} {path}: {exc}") from None


@receipts.command("verify")
@click.argument("receipt", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--public-key",
    "public_key",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--consistency",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A consistency proof from the receipt's checkpoint to a later one.",
)
@click.pass_context
def receipts_verify(
    ctx: click.Context, receipt: Path, public_key: Path, consistency: Path | None
) -> None:
    """Verify a receipt offline, with only the processor's public key (no data directory)."""
    st = state(ctx)
    data = _load_json(receipt, "receipt")
    extension = _load_json(consistency, "consistency proof") if consistency else None
    try:
        verifier = Verifier.from_vkey(public_key.read_text(encoding="utf-8").strip())
    except (LedgerError, ValueError) as exc:
        raise InvalidInputError(f"invalid public key: {exc}") from None
    try:
        result = verify_receipt(data, verifier, extension)
    except LedgerError as exc:
        raise IntegrityFailureError(f"receipt does not verify: {exc}") from None
    metadata = data.get("metadata", {})
    out = {
        "ok": True,
        "kind": result.kind,
        "leaf_index": result.leaf_index,
        "tree_size": result.checkpoint.size,
        "simulation": bool(metadata.get("simulation")),
        "details": metadata.get("details", {}),
    }
    prefix = "SIMULATION " if out["simulation"] else ""
    emit(
        out,
        as_json=st.as_json,
        text=f"{prefix}receipt verified: {result.kind} at leaf {result.leaf_index} "
        f"of a signed tree of {result.checkpoint.size}",
    )


def register(cli: click.Group) -> None:
    """Attach these commands."""
    cli.add_command(ledger)
    cli.add_command(receipts)
