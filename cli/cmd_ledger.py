"""`ledger` and `receipts` commands. Exit 3 means an integrity failure (AUD-4)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ledger import (
    CosignatureVerifier,
    LedgerError,
    Verifier,
    parse_checkpoint,
    verify_receipt,
)
from processor.kernel.errors import IntegrityFailureError, InvalidInputError
from processor.link.service import read_note_file
from processor.verifications import record_check

from . import outfile
from .outfile import FORCE
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


def _witness_key(path: Path) -> CosignatureVerifier:
    """A witness's verifier key (cosignature/v1, type 0x04) from a file."""
    try:
        return CosignatureVerifier.from_vkey(path.read_text(encoding="utf-8").strip())
    except (OSError, LedgerError, ValueError) as exc:
        raise InvalidInputError(f"invalid witness key {path}: {exc}") from None


_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _checkpoint_of(path: Path) -> str:
    """A signed checkpoint file, or the checkpoint a receipt or certificate (JSON) carries.

    The controller's receipt is the checkpoint it most likely holds, so `--since receipt.json`
    works as the documentation says.
    """
    text = read_note_file(path, "checkpoint")
    if not text.lstrip().startswith("{"):
        return text
    try:
        document = json.loads(text)
    except ValueError:
        return text
    note = document.get("checkpoint") if isinstance(document, dict) else None
    return note if isinstance(note, str) else text


@ledger.command("verify")
@click.option(
    "--since",
    type=_FILE,
    help="A signed checkpoint held elsewhere, or a receipt carrying one: the store must still "
    "extend it (rollback check).",
)
@click.option(
    "--witness",
    "witness_key",
    type=_FILE,
    help="A witness's key: the newest checkpoint must carry its valid cosignature.",
)
@click.pass_context
def ledger_verify(ctx: click.Context, since: Path | None, witness_key: Path | None) -> None:
    """Recompute the tree from the stored records and check every checkpoint seen anywhere."""
    st = state(ctx)
    witness = _witness_key(witness_key) if witness_key else None
    since_note = _checkpoint_of(since) if since else None
    led = _ledger(ctx)
    total = led.size()
    show_bar = sys.stderr.isatty() and not st.as_json
    if show_bar:
        with click.progressbar(length=total, label="verifying", file=sys.stderr) as bar:
            report = led.verify(
                progress=lambda n: bar.update(n - bar.pos), since=since_note, witness=witness
            )
    else:
        report = led.verify(since=since_note, witness=witness)
    data = {
        "ok": report.ok,
        "records_checked": report.records_checked,
        "checkpoints_checked": report.checkpoints_checked,
        "first_bad_index": report.first_bad_index,
        "first_bad_position": report.first_bad_position,
        "reason": report.reason,
        "checkpoint_log": str(led.checkpoint_log().path),
        "simulation": st.processor(catch_up=False).simulation,
    }
    # For `processor status`; a file in the config folder, so verifying never writes the store.
    record_check(st.processor(catch_up=False), report)
    if report.ok:
        witnessed = f", cosigned by {witness.name}" if witness else ""
        emit(
            data,
            as_json=st.as_json,
            text=f"ledger verified: {report.records_checked} events, "
            f"{report.checkpoints_checked} signed checkpoints{witnessed}",
        )
        return
    if st.as_json:
        emit(data, as_json=True)
    if report.first_bad_position is not None:
        where = f" at position {report.first_bad_position} (leaf {report.first_bad_index})"
    elif report.first_bad_index is not None:
        where = f" at leaf {report.first_bad_index}"
    else:
        where = ""
    raise IntegrityFailureError(f"ledger verification failed{where}: {report.reason}")


@ledger.command("witness")
@click.option("--url", help="The witness's submission prefix (POST <url>/add-checkpoint).")
@click.option(
    "--witness-key", type=_FILE, help="The witness's key: check the cosignature it returns."
)
@click.option(
    "--import",
    "imported",
    type=_FILE,
    help="A cosigned checkpoint from `witness cosign` (offline): keep its cosignature.",
)
@click.pass_context
def ledger_witness(
    ctx: click.Context, url: str | None, witness_key: Path | None, imported: Path | None
) -> None:
    """Get the newest checkpoint cosigned by a witness (C2SP tlog-witness) and keep it."""
    if (url is None) == (imported is None):
        raise InvalidInputError("give exactly one of --url and --import")
    witness = _witness_key(witness_key) if witness_key else None
    led = _ledger(ctx)
    if url is not None:
        out = led.submit_to_witness(url, witness)
    else:
        assert imported is not None  # noqa: S101 - checked above
        note = read_note_file(imported, "cosigned checkpoint")
        try:
            size = parse_checkpoint(note).size
            lines = note[note.rfind("\n\n") + 2 :]
            led.store_cosignature(size, lines, witness)
        except LedgerError as exc:
            raise IntegrityFailureError(f"cosignature does not verify: {exc}") from None
        out = {"size": size, "cosignature": lines}
    emit(out, as_json=state(ctx).as_json, text=f"checkpoint of size {out['size']} cosigned")


@ledger.command("reanchor")
@click.option(
    "--reason",
    required=True,
    help="Why the checkpoint log is started again (kept sealed in the recorded event).",
)
@click.pass_context
def ledger_reanchor(ctx: click.Context, reason: str) -> None:
    """Start a lost or cut checkpoint log again from the current checkpoint (GDPA, recorded)."""
    from processor.services.ledger import reanchor

    st = state(ctx)
    out = reanchor(st.session(catch_up=False), reason)
    kept = out["old_log_kept_as"]
    emit(
        out,
        as_json=st.as_json,
        text=f"checkpoint log {out['checkpoint_log']} started again at tree size "
        f"{out['restarted_at_size']} (the store had published {out['published_before']})"
        + (f"; the old log was kept as {kept}" if kept else ""),
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
@click.option(
    "--witness-key",
    type=_FILE,
    help="Require this witness's cosignature on the checkpoint relied on (the later one, if any).",
)
@click.pass_context
def receipts_verify(
    ctx: click.Context,
    receipt: Path,
    public_key: Path,
    consistency: Path | None,
    witness_key: Path | None,
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
        raise IntegrityFailureError(f"receipt does not verify: {_reason(exc)}") from None
    if witness_key is not None:
        witness = _witness_key(witness_key)
        relied_on = extension["checkpoint"] if extension else data["checkpoint"]
        try:
            witness.verify_note(relied_on)
        except LedgerError as exc:
            raise IntegrityFailureError(f"receipt does not verify: {_reason(exc)}") from None
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


def _reason(exc: Exception) -> str:
    """The library's reason without its own "receipt does not verify:" prefix (said once)."""
    text = str(exc)
    prefix = "receipt does not verify: "
    while text.startswith(prefix):
        text = text[len(prefix) :]
    return text


@receipts.command("issue")
@click.option("--erasure", "contact", metavar="CONTACT", help="The erased contact's id.")
@click.option("--controller", help="The erased contact's controller (checked when given).")
@click.option(
    "--certificate", "certificate_of", metavar="CONTROLLER", help="A deletion certificate."
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write it (JSON).")
@FORCE
@click.pass_context
def receipts_issue(
    ctx: click.Context,
    contact: str | None,
    controller: str | None,
    certificate_of: str | None,
    out: Path | None,
    force: bool,
) -> None:
    """Issue an erasure receipt or deletion certificate again, from the ledger, at any time."""
    st = state(ctx)
    if (contact is None) == (certificate_of is None):
        raise InvalidInputError("give exactly one of --erasure CONTACT or --certificate CONTROLLER")
    if certificate_of is not None and controller is not None:
        raise InvalidInputError("--controller goes with --erasure; --certificate names its own")
    target = outfile.plan(out, force=force, what="receipt") if out else None
    session = st.desk()
    if contact is not None:
        receipt = session.erasure.reissue(contact, controller)
    else:
        receipt = session.retention.certificate(certificate_of or "")
    document = json.dumps(receipt, indent=2) + "\n"
    if target is None:
        click.echo(document, nl=False)
        return
    with outfile.writing(target, what="receipt", private=True) as handle:
        handle.write(document)
    emit(
        {"out": str(out), "kind": receipt["kind"], **receipt["metadata"]},
        as_json=st.as_json,
        text=f"{receipt['kind']} receipt written to {out}",
    )


def register(cli: click.Group) -> None:
    """Attach these commands."""
    cli.add_command(ledger)
    cli.add_command(receipts)
