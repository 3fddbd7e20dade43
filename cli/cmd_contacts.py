"""`contacts`, `lists`, `export` and `erase` commands."""

from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path
from typing import Any

import click

from processor.kernel.errors import CannotWriteError, InvalidInputError
from processor.services.validation import key_values

from . import outfile
from .cmd_retention import write_return
from .outfile import FORCE
from .output import emit, printable
from .state import state


@click.group()
def contacts() -> None:
    """A controller's contacts (data subjects)."""


@contacts.command("add")
@click.argument("controller")
@click.option("--list", "list_name", required=True)
@click.option("--email", required=True)
@click.option("--phone")
@click.option("--first-name")
@click.option("--last-name")
@click.option(
    "--field",
    "fields",
    multiple=True,
    metavar="KEY=VALUE",
    help="A vocabulary field (any case), or a custom field as custom.NAME=VALUE.",
)
@click.option("--consent", required=True, metavar="CHANNEL:METHOD[:EVIDENCE]")
@click.option(
    "--consent-at",
    metavar="ISO-8601",
    help="When the person consented, if before now (SUBJ-2); default: now.",
)
@click.pass_context
def contacts_add(
    ctx: click.Context,
    controller: str,
    list_name: str,
    email: str,
    phone: str | None,
    first_name: str | None,
    last_name: str | None,
    fields: tuple[str, ...],
    consent: str,
    consent_at: str | None,
) -> None:
    """Add a contact with consent (an existing e-mail gets the list and consent added)."""
    # Imported here: its agreements and notices modules are not needed by `contacts find`.
    from processor.services.profile import typed_fields

    st = state(ctx)
    session = st.desk()
    extra = typed_fields(session.proc.policies.fields, key_values(fields), "--field")
    options = {"email": email, "phone": phone, "first_name": first_name, "last_name": last_name}
    both = [k for k, val in options.items() if val is not None and k in extra]
    if both:
        raise InvalidInputError(
            f"--{both[0].replace('_', '-')} and --field {both[0]} both give {both[0]}; give it once"
        )
    result = session.contacts.add(
        controller, list_name, email, consent, phone, first_name, last_name, extra,
        consent_at=consent_at,
    )  # fmt: skip
    verb = "added" if result["created"] else "updated existing"
    emit(result, as_json=st.as_json, text=f"{verb} contact {result['contact_id']}")


class _CountingReader(io.BufferedReader):
    """Counts bytes read, to drive a progress bar by position in the file."""

    read_bytes = 0

    def __next__(self) -> bytes:
        line = super().__next__()
        self.read_bytes += len(line)
        return line


@contacts.command("import")
@click.argument("controller")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--list", "list_name", required=True)
@click.option(
    "--consent-method", required=True, help="How consent was collected, e.g. double-opt-in."
)
@click.option(
    "--consent-channel", type=click.Choice(["email", "sms"]), default="email", show_default=True
)
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV file of rejected rows: line, reason and the row's own cells, ready to fix and "
    "import again.",
)
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="SOURCE=FIELD",
    help="Map another platform's column to a field, e.g. 'Email Address=email' (repeatable).",
)
@click.option(
    "--map-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='A .toml ("SOURCE" = "FIELD") or .csv (SOURCE,FIELD) file of column mappings.',
)
@click.option(
    "--preset",
    type=click.Choice(["mailchimp", "brevo", "hubspot"]),
    help="Another platform's export: its columns mapped, its bookkeeping left out (--map wins).",
)
@FORCE
@click.pass_context
def contacts_import(
    ctx: click.Context,
    controller: str,
    file: Path,
    list_name: str,
    consent_method: str,
    consent_channel: str,
    rejects: Path | None,
    maps: tuple[str, ...],
    map_file: Path | None,
    preset: str | None,
    force: bool,
) -> None:
    """Import contacts from a CSV file (header uses the field vocabulary, --map or --preset)."""
    st = state(ctx)
    target = None
    if rejects is not None:
        if rejects.exists() and rejects.resolve() == file.resolve():
            raise InvalidInputError("the rejects file must not be the file being imported")
        target = outfile.plan(rejects, force=force, what="rejects file")
    session = st.desk()
    # Imported here: the other contact commands (a one-shot `find`) never map a column.
    from processor.services.columnmap import load_map_file, parse_maps

    standard = session.proc.policies.fields.standard
    columns = {
        **(load_map_file(map_file, standard) if map_file is not None else {}),
        **parse_maps(maps, standard),
    }
    size = file.stat().st_size
    show_bar = sys.stderr.isatty() and not st.as_json
    with contextlib.ExitStack() as stack:
        counting = stack.enter_context(_CountingReader(io.FileIO(file, "r")))
        reject_out = (
            stack.enter_context(outfile.writing(target, what="rejects file", private=True))
            if target
            else None
        )
        bar: Any = None
        if show_bar:
            bar = stack.enter_context(
                click.progressbar(length=size, label="importing", file=sys.stderr)
            )

        def progress(_rows: int) -> None:
            if bar is not None:
                bar.update(counting.read_bytes - bar.pos)

        result = session.imports.import_csv(
            controller,
            counting,
            list_name,
            consent_method,
            consent_channel,
            reject_out,
            progress,
            source=f"import:{file.name}",
            columns=columns,
            preset=preset,
        )
    data = result.as_dict()
    text = (
        f"{result.rows} rows: {result.added} added, {result.subscribed} subscribed, "
        f"{result.unchanged} unchanged, {result.rejected} rejected"
        + (f" (see {rejects})" if rejects and result.rejected else "")
    )
    emit(data, as_json=st.as_json, text=text)


@contacts.command("update")
@click.argument("controller")
@click.argument("contact")
@click.option(
    "--set",
    "sets",
    multiple=True,
    required=True,
    metavar="KEY=VALUE",
    help="A vocabulary field (any case), or a custom field as custom.NAME=VALUE.",
)
@click.pass_context
def contacts_update(
    ctx: click.Context, controller: str, contact: str, sets: tuple[str, ...]
) -> None:
    """Rectify a contact's fields (an empty value removes the field)."""
    st = state(ctx)
    session = st.desk()
    from processor.services.profile import typed_fields

    given = typed_fields(session.proc.policies.fields, key_values(sets), "--set")
    result = session.contacts.update(controller, contact, given)
    emit(result, as_json=st.as_json, text=f"rectified {', '.join(result['changed'])}")


@contacts.command("unsubscribe")
@click.argument("controller")
@click.argument("contact")
@click.option("--list", "list_name", required=True)
@click.pass_context
def contacts_unsubscribe(ctx: click.Context, controller: str, contact: str, list_name: str) -> None:
    """Unsubscribe from a list: sending stops, the data stays (SUBJ-3)."""
    st = state(ctx)
    result = st.desk().contacts.unsubscribe(controller, contact, list_name)
    emit(result, as_json=st.as_json, text=f"unsubscribed from {list_name}")


def _state_command(action: str, doc: str) -> click.Command:
    @click.command(action, help=doc)
    @click.argument("controller")
    @click.argument("contact")
    @click.option("--reason", default="", help="Why (sealed with the subject's key).")
    @click.pass_context
    def command(ctx: click.Context, controller: str, contact: str, reason: str) -> None:
        st = state(ctx)
        result = st.desk().contacts.set_state(action, controller, contact, reason)
        emit(result, as_json=st.as_json)

    return command


for _action, _doc in (
    ("restrict", "Restrict processing of a contact (Art. 18)."),
    ("unrestrict", "Lift a restriction."),
    ("object", "Record an objection to processing (Art. 21)."),
):
    contacts.add_command(_state_command(_action, _doc))


@contacts.command("find")
@click.argument("controller")
@click.option("--email", required=True)
@click.pass_context
def contacts_find(ctx: click.Context, controller: str, email: str) -> None:
    """Find a contact by e-mail (through the blind index)."""
    st = state(ctx)
    emit(st.desk().contacts.find(controller, email), as_json=st.as_json)


@contacts.command("show")
@click.argument("controller")
@click.argument("contact")
@click.pass_context
def contacts_show(ctx: click.Context, controller: str, contact: str) -> None:
    """Show everything held about one contact."""
    st = state(ctx)
    emit(st.desk().contacts.show(controller, contact), as_json=st.as_json)


@click.group()
def lists() -> None:
    """Lists of a controller."""


@lists.command("show")
@click.argument("controller")
@click.argument("list_name")
@click.option("--limit", type=click.IntRange(min=0), default=None, help="Show at most N members.")
@click.pass_context
def lists_show(ctx: click.Context, controller: str, list_name: str, limit: int | None) -> None:
    """The current members: subscribed, not restricted, not objected, not erased."""
    st = state(ctx)
    data = st.desk().contacts.list_members(controller, list_name, limit)
    lines = [printable(f"{data['list']}: {data['count']} current members")]
    for m in data["members"]:
        name = f"{m['first_name'] or ''} {m['last_name'] or ''}".strip()
        shown = f"  {m['contact_id']}  {m['email'] or ''}  {name}".rstrip()
        lines.append(printable(shown))
    emit(data, as_json=st.as_json, text="\n".join(lines))


def _export_bar(stack: contextlib.ExitStack) -> Any:  # noqa: ANN401 - a progress callback
    """A progress bar on stderr for a long export, drawn only when stderr is a terminal."""
    if not sys.stderr.isatty():
        return None
    bar: list[Any] = []

    def progress(done: int, total: int) -> None:
        if not bar:
            bar.append(
                stack.enter_context(
                    click.progressbar(length=total, label="exporting", file=sys.stderr)
                )
            )
        bar[0].update(done - bar[0].pos)

    return progress


@click.command("export")
@click.argument("controller")
@click.option("--contact")
@click.option("--email")
@click.option("--all", "everything", is_flag=True)
@click.option(
    "--format", "data_format", type=click.Choice(["json", "csv"]), default="json", show_default=True
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Write to a file instead of stdout; with --all, a directory (an existing one, or a "
    "name without extension) gets the complete standard-format return (RET-2).",
)
@FORCE
@click.pass_context
def export(
    ctx: click.Context,
    controller: str,
    contact: str | None,
    email: str | None,
    everything: bool,
    data_format: str,
    out: Path | None,
    force: bool,
) -> None:
    """Export one subject or all contacts (SUBJ-4, SUBJ-6), or return all data (RET-2)."""
    st = state(ctx)
    session = st.desk()
    whole = everything and not contact and not email
    if write_return(st, session, controller, out, everything=whole, force=force):
        return
    with contextlib.ExitStack() as stack:
        progress = _export_bar(stack) if everything else None
        if out is None:
            summary = session.exports.export(
                controller,
                sys.stdout,
                contact=contact,
                email=email,
                everything=everything,
                data_format=data_format,
                progress=progress,
            )
            return
        target = outfile.plan(out, force=force, what="export")
        handle = stack.enter_context(outfile.writing(target, what="export", private=True))
        summary = session.exports.export(
            controller,
            handle,
            contact=contact,
            email=email,
            everything=everything,
            data_format=data_format,
            progress=progress,
        )
    emit(
        {**summary, "out": str(out)},
        as_json=st.as_json,
        text=f"exported {summary['contacts']} contacts to {out} (sha256 {summary['sha256'][:16]}…)",
    )


@click.command("erase")
@click.argument("controller")
@click.option("--contact")
@click.option("--email")
@click.option("--reason", required=True)
@click.option(
    "--receipt",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the deletion receipt (JSON); `receipts issue --erasure` issues it again.",
)
@FORCE
@click.pass_context
def erase(
    ctx: click.Context,
    controller: str,
    contact: str | None,
    email: str | None,
    reason: str,
    receipt: Path | None,
    force: bool,
) -> None:
    """Erase one subject by destroying its key (crypto-shredding, RET-5)."""
    st = state(ctx)
    # Checked before erasing, so a path that can never take the receipt costs nothing.
    target = outfile.plan(receipt, force=force, what="receipt") if receipt else None
    result = st.desk().erasure.erase(controller, reason, contact, email)
    details = result["metadata"]["details"]
    if target is not None:
        try:
            with outfile.writing(target, what="receipt", private=True) as handle:
                handle.write(json.dumps(result, indent=2) + "\n")
        except CannotWriteError as exc:
            # The erasure stands; only the copy on disk is missing, and the ledger can reissue it.
            raise CannotWriteError(
                f"contact {details['contact_id']} is erased, but {exc}; issue the receipt again "
                f"with: processor receipts issue --erasure {details['contact_id']}"
            ) from None
    emit(
        result,
        as_json=st.as_json,
        text=f"erased contact {details['contact_id']} at {details['erased_at']}"
        + (f"; receipt written to {receipt}" if receipt else ""),
    )


def register(cli: click.Group) -> None:
    """Attach these commands."""
    for command in (contacts, lists, export, erase):
        cli.add_command(command)
