"""`contacts`, `lists`, `export` and `erase` commands."""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path
from typing import Any

import click

from processor.errors import InvalidInputError
from processor.services.validation import key_values

from .cmd_retention import write_return
from .output import emit
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
    "--field", "fields", multiple=True, metavar="KEY=VALUE", help="Any vocabulary or custom field."
)
@click.option("--consent", required=True, metavar="CHANNEL:METHOD[:EVIDENCE]")
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
) -> None:
    """Add a contact with consent (an existing e-mail gets the list and consent added)."""
    st = state(ctx)
    result = st.session().contacts.add(
        controller, list_name, email, consent, phone, first_name, last_name, key_values(fields)
    )
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
    help="CSV file for rejected rows and their reasons.",
)
@click.pass_context
def contacts_import(
    ctx: click.Context,
    controller: str,
    file: Path,
    list_name: str,
    consent_method: str,
    consent_channel: str,
    rejects: Path | None,
) -> None:
    """Import contacts from a CSV file (header uses the field vocabulary)."""
    st = state(ctx)
    if rejects is not None:
        if not rejects.parent.is_dir():
            raise InvalidInputError(f"no such directory for the rejects file: {rejects.parent}")
        if rejects.exists() and rejects.resolve() == file.resolve():
            raise InvalidInputError("the rejects file must not be the file being imported")
    session = st.session()
    size = file.stat().st_size
    show_bar = sys.stderr.isatty() and not st.as_json
    with contextlib.ExitStack() as stack:
        counting = stack.enter_context(_CountingReader(io.FileIO(file, "r")))
        reject_out = stack.enter_context(rejects.open("w", encoding="utf-8")) if rejects else None
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
@click.option("--set", "sets", multiple=True, required=True, metavar="KEY=VALUE")
@click.pass_context
def contacts_update(
    ctx: click.Context, controller: str, contact: str, sets: tuple[str, ...]
) -> None:
    """Rectify a contact's fields (an empty value removes the field)."""
    st = state(ctx)
    result = st.session().contacts.update(controller, contact, key_values(sets))
    emit(result, as_json=st.as_json, text=f"rectified {', '.join(result['changed'])}")


@contacts.command("unsubscribe")
@click.argument("controller")
@click.argument("contact")
@click.option("--list", "list_name", required=True)
@click.pass_context
def contacts_unsubscribe(ctx: click.Context, controller: str, contact: str, list_name: str) -> None:
    """Unsubscribe from a list: sending stops, the data stays (SUBJ-3)."""
    st = state(ctx)
    result = st.session().contacts.unsubscribe(controller, contact, list_name)
    emit(result, as_json=st.as_json, text=f"unsubscribed from {list_name}")


def _state_command(action: str, doc: str) -> click.Command:
    @click.command(action, help=doc)
    @click.argument("controller")
    @click.argument("contact")
    @click.option("--reason", default="", help="Why (sealed with the subject's key).")
    @click.pass_context
    def command(ctx: click.Context, controller: str, contact: str, reason: str) -> None:
        st = state(ctx)
        result = st.session().contacts.set_state(action, controller, contact, reason)
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
    emit(st.session().contacts.find(controller, email), as_json=st.as_json)


@contacts.command("show")
@click.argument("controller")
@click.argument("contact")
@click.pass_context
def contacts_show(ctx: click.Context, controller: str, contact: str) -> None:
    """Show everything held about one contact."""
    st = state(ctx)
    emit(st.session().contacts.show(controller, contact), as_json=st.as_json)


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
    data = st.session().contacts.list_members(controller, list_name, limit)
    lines = [f"{data['list']}: {data['count']} current members"]
    for m in data["members"]:
        name = f"{m['first_name'] or ''} {m['last_name'] or ''}".strip()
        lines.append(f"  {m['contact_id']}  {m['email'] or ''}  {name}".rstrip())
    emit(data, as_json=st.as_json, text="\n".join(lines))


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
@click.pass_context
def export(
    ctx: click.Context,
    controller: str,
    contact: str | None,
    email: str | None,
    everything: bool,
    data_format: str,
    out: Path | None,
) -> None:
    """Export one subject or all contacts (SUBJ-4, SUBJ-6), or return all data (RET-2)."""
    st = state(ctx)
    session = st.session()
    whole = everything and not contact and not email
    if write_return(st, session, controller, out, everything=whole):
        return
    if out is None:
        summary = session.exports.export(
            controller,
            sys.stdout,
            contact=contact,
            email=email,
            everything=everything,
            data_format=data_format,
        )
        return
    if not out.parent.is_dir():
        raise InvalidInputError(f"no such directory for the export: {out.parent}")
    partial = out.with_name(out.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8", newline="") as handle:
            summary = session.exports.export(
                controller,
                handle,
                contact=contact,
                email=email,
                everything=everything,
                data_format=data_format,
            )
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
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
    help="Write the deletion receipt (JSON).",
)
@click.pass_context
def erase(
    ctx: click.Context,
    controller: str,
    contact: str | None,
    email: str | None,
    reason: str,
    receipt: Path | None,
) -> None:
    """Erase one subject by destroying its key (crypto-shredding, RET-5)."""
    st = state(ctx)
    if receipt is not None and not receipt.parent.exists():
        raise InvalidInputError(f"no such directory for the receipt: {receipt.parent}")
    result = st.session().erasure.erase(controller, reason, contact, email, receipt)
    details = result["metadata"]["details"]
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
