"""`backup`, `restore` and the body of `keys rotate-master` (RET-8, RET-5, AUD-4)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from processor.app import Processor
from processor.backup import backup_keys, backup_store
from processor.backup.restore import restore
from processor.backup.restoring import RestoreRequest
from processor.kernel.errors import ConfigurationError, RefusedError
from processor.keys import MasterKey, masterrotation
from processor.storage.engines import Engines

from .output import emit
from .state import CliState, cli_via, resolve_clock, state

if TYPE_CHECKING:
    from processor.backup.restoring import RestoreReport
    from processor.config import Settings

_DIR = click.Path(file_okay=False, path_type=Path)


@click.command("backup")
@click.option("--out", required=True, type=_DIR, help="A new or empty folder for the backup.")
@click.option(
    "--keys", "keys_only", is_flag=True, help="Back up the key store alone (never with events)."
)
@click.pass_context
def backup(ctx: click.Context, out: Path, keys_only: bool) -> None:
    """Copy events, read models and ledger (or, with --keys, the key store) while writers run."""
    st = state(ctx)
    session = st.session()
    data = backup_keys(session, out) if keys_only else backup_store(session, out)
    what = (
        "key store" if keys_only else f"events, read models and ledger (size {data['ledger_size']})"
    )
    emit(data, as_json=st.as_json, text=f"backed up the {what} to {out} ({data['method']})")


@click.command("restore")
@click.option("--from", "source", required=True, type=_DIR, help="An events backup folder.")
@click.option("--keys-from", type=_DIR, help="A key-store backup folder (taken separately).")
@click.option(
    "--public-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The ledger public key you trust (from `ledger public-key`); checked against the backup.",
)
@click.option(
    "--accept-loss",
    is_flag=True,
    help="Restore even though records signed after the backup, or keys, would be lost.",
)
@click.pass_context
def restore_command(
    ctx: click.Context,
    source: Path,
    keys_from: Path | None,
    public_key: Path | None,
    accept_loss: bool,
) -> None:
    """Restore a backup into an empty store; verify its ledger; destroy erased keys again."""
    st = state(ctx)
    request = RestoreRequest(
        source=source,
        keys_from=keys_from,
        public_key=public_key.read_text(encoding="utf-8").strip() if public_key else None,
        accept_loss=accept_loss,
    )

    def open_store() -> Processor:
        proc = Processor.open(st.settings, restoring=True)
        proc.clock = resolve_clock(proc.simulation, proc.last_event_time())
        return proc

    def authorize(proc: Processor) -> None:
        if not st.user:
            raise ConfigurationError("no user: give --as NAME (a GDPA or system manager)")
        from processor.desk import login

        session = login(proc, st.user, st.credential() or "", via=cli_via(), command="restore")
        session.authorize("store.restore", command="restore")

    report = restore(st.settings, request, open_store=open_store, authorize=authorize)
    emit(report.as_dict(), as_json=st.as_json, text=_restore_text(report))


def _restore_text(report: RestoreReport) -> str:
    lines = [f"restored {report.records} records; ledger verified (size {report.ledger_size})"]
    if report.keys_restored or report.destroyed_again:
        rotation = report.kek_rotation
        lines.append(
            f"destroyed again {len(report.destroyed_again)} keys of subjects erased after the "
            f"key backup ({report.tombstoned} tombstones added); key-encryption key rotated to "
            f"generation {rotation.get('generation', '-')}"
        )
    if report.keys_missing:
        lines.append(f"{len(report.keys_missing)} subjects have no key: their data is unreadable")
    if report.lost_records:
        lines.append(
            f"{report.lost_records} records signed after the backup are lost; the old checkpoint "
            f"log was kept as {report.archived_checkpoint_log}"
        )
    return "\n".join(lines)


def _current_master(settings: Settings, engines: Engines) -> tuple[MasterKey, Path | None]:
    """The key that wraps the store now, and its file (None: PROCESSOR_MASTER_KEY).

    With the file custodian that is the live generation's file (after a ratchet no longer
    `master.key`); a PKCS#11 key never leaves its token, so it is replaced by `keys ratchet`.
    """
    from processor.keys import FILE, PKCS11, FileCustodian, master_key, open_custodian

    kind = settings.custodian_kind()
    if kind == PKCS11:
        raise RefusedError(
            "the PKCS#11 custodian's wrapping key never leaves its token: replace it with "
            "`processor keys ratchet`",
            rule="MasterKeyMustBeAFile",
        )
    if kind != FILE:
        return master_key(settings, create=False), (
            None if settings.master_key_hex else settings.master_key_path()
        )
    custodian = open_custodian(settings, create=False)
    assert isinstance(custodian, FileCustodian)  # noqa: S101 - kind FILE makes one
    generation = masterrotation.wrap_generation(engines.keys)
    path = custodian.path(generation)
    if not path.exists():  # the store is mid-way; the newest file is the candidate
        path = custodian.path(custodian.generation)
    return MasterKey.from_hex(path.read_text(encoding="ascii")), path


def rotate_master_command(st: CliState, new_file: Path) -> dict[str, Any]:
    """`keys rotate-master`: authorise, re-wrap, install the new key, forget the rotation.

    When a run died after the key store was re-wrapped, the old key no longer opens the store
    and nobody can log in; holding the new key (it opens the check value) is then the proof.
    """
    settings = st.settings
    new_hex, made = masterrotation.read_or_create_key_file(new_file)
    new = MasterKey.from_hex(new_hex)
    engines = Engines(settings)
    try:
        old, current = _current_master(settings, engines)
        if masterrotation.key_opens(engines.keys, old):
            st.session().authorize("keys.rotate", command="keys rotate-master")
            st.close()
        result = masterrotation.rotate_master(engines.keys, old, new, datetime.now(tz=UTC))
        installed = None
        if current is not None:
            installed = current
            masterrotation.install_key_file(installed, new_hex)
            masterrotation.finish(engines.keys)
        elif masterrotation.key_opens(engines.keys, old):
            masterrotation.finish(engines.keys)  # PROCESSOR_MASTER_KEY already holds the new key
    finally:
        engines.dispose()
    where = (
        f"installed at {installed}"
        if installed
        else "set PROCESSOR_MASTER_KEY to it, then run this again to finish"
    )
    message = (
        f"master key rotated ({result.state}): {result.keks} KEKs and {result.system_keys} "
        f"system keys re-wrapped; new key {where}. Destroy every copy of the old master key: "
        "key-store backups taken before now can then no longer be opened."
    )
    return {
        "state": result.state,
        "keks_rewrapped": result.keks,
        "system_keys_rewrapped": result.system_keys,
        "legacy_keys_moved": result.legacy_keys_moved,
        "new_key_file": str(new_file),
        "new_key_generated": made,
        "installed_at": str(installed) if installed else None,
        "message": message,
    }


def register(cli: click.Group) -> None:
    """Attach these commands."""
    cli.add_command(backup)
    cli.add_command(restore_command)
