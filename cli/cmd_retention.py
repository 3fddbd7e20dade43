"""`controllers terminate` / `withdraw-termination`, `retention` and `messages` commands."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from processor.kernel.errors import CannotWriteError, InvalidInputError
from processor.services.validation import iso_datetime

from . import outfile
from .outfile import FORCE
from .output import emit
from .state import state

if TYPE_CHECKING:
    from processor.desk import Desk

    from .state import CliState


@click.command("terminate")
@click.argument("controller_id")
@click.option("--effective", required=True, metavar="DATE", help="The day the collaboration ends.")
@click.option(
    "--instruction",
    type=click.Choice(["delete", "return", "retain"]),
    help="The controller's instruction for its data (default: deleted after 120 days, RET-1).",
)
@click.option("--return-to", metavar="TEXT", help="Who receives the returned data (RET-2).")
@click.option("--legal-ground", metavar="TEXT", help="The law requiring retention (RET-6).")
@click.option("--retain-until", metavar="DATE", help="Until when the law requires retention.")
@click.pass_context
def terminate(
    ctx: click.Context,
    controller_id: str,
    effective: str,
    instruction: str | None,
    return_to: str | None,
    legal_ground: str | None,
    retain_until: str | None,
) -> None:
    """Record the end of the collaboration and the instruction for the data (RET-1/2/6)."""
    st = state(ctx)
    result = st.desk().lifecycle.terminate(
        controller_id, effective, instruction, return_to, legal_ground, retain_until
    )
    data = result["data"]
    emit(
        result,
        as_json=st.as_json,
        text=f"terminated {controller_id} effective {result['effective']}: data "
        f"{data['status']} ({data['rule']}) from {data['due_at']}: {data['why']}",
    )


@click.command("withdraw-termination")
@click.argument("controller_id")
@click.option("--reason", required=True)
@click.pass_context
def withdraw_termination(ctx: click.Context, controller_id: str, reason: str) -> None:
    """Withdraw a termination: the collaboration continues, nothing is due."""
    st = state(ctx)
    result = st.desk().lifecycle.withdraw(controller_id, reason)
    emit(result, as_json=st.as_json, text=f"withdrew the termination of {controller_id}")


@click.group()
def retention() -> None:
    """Retention: what is due, the sweep, deletion certificates (GDPA)."""


def _at(value: str | None) -> Any:  # noqa: ANN401
    return iso_datetime(value, "--at") if value else None


def _due_text(data: dict[str, Any]) -> str:
    lines = [f"at {data['at']}: {data['subjects_due']} subjects due"]
    lines += [
        f"  {title:<9} {d['controller']:<20} {d['rule']:<6} {d['due_at'] or '-':<26} "
        f"{d['contacts']} contacts, {d['messages']} messages: {d['why']}"
        for title in ("due", "held", "scheduled")
        for d in data[title]
    ]
    lines += [
        f"  trial     {ref:<20} RET-4  the demo trial ended (recorded by the sweep)"
        for ref in data["demo_trials_ended"]
    ]
    lines += [
        f"  messages  {count} message contents due under {rule}"
        for rule, count in data["message_content_due"].items()
    ]
    return "\n".join(lines)


@retention.command("due")
@click.option("--at", "at", metavar="DATE", help="Show what is due at this time (default now).")
@click.pass_context
def retention_due(ctx: click.Context, at: str | None) -> None:
    """List what is due for deletion and why (rule, dates, counts)."""
    st = state(ctx)
    data = st.desk().retention.due(_at(at))
    emit(data, as_json=st.as_json, text=_due_text(data))


@retention.command("sweep")
@click.option("--at", "at", metavar="DATE", help="Sweep what is due at this time (not ahead).")
@click.option("--dry-run", is_flag=True, help="Show what would be swept; record nothing.")
@click.pass_context
def retention_sweep(ctx: click.Context, at: str | None, dry_run: bool) -> None:
    """Crypto-shred everything due, in batches; safe to interrupt and rerun."""
    st = state(ctx)
    session = st.desk()
    show_bar = sys.stderr.isatty() and not st.as_json
    bar: Any = None

    def on_plan(plan: Any) -> None:  # noqa: ANN401
        nonlocal bar
        if show_bar and plan.work:
            bar = click.progressbar(length=plan.work, label="sweeping", file=sys.stderr)
            bar.__enter__()

    def progress(done: int) -> None:
        if bar is not None:
            bar.update(done)

    try:
        data = session.retention.sweep(_at(at), dry_run=dry_run, progress=progress, on_plan=on_plan)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    if data["nothing_due"]:
        text = f"nothing due at {data['at']}"
    elif dry_run:
        text = "dry run, nothing recorded\n" + _due_text(data)
    else:
        text = (
            f"sweep {data['run']}: data of {', '.join(data['swept']) or 'no controller'} "
            f"deleted; contacts erased: {data['contacts_erased']}, message contents shredded: "
            f"{data['message_contents_shredded']}"
        )
    emit(data, as_json=st.as_json, text=text)


@retention.command("certificate")
@click.argument("controller_id")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the certificate (JSON)."
)
@FORCE
@click.pass_context
def retention_certificate(
    ctx: click.Context, controller_id: str, out: Path | None, force: bool
) -> None:
    """The deletion certificate (RET-3), verifiable offline with `receipts verify`."""
    st = state(ctx)
    target = outfile.plan(out, force=force, what="certificate") if out else None
    cert = st.desk().retention.certificate(controller_id)
    if out is None or target is None:
        click.echo(json.dumps(cert, indent=2))
        return
    with outfile.writing(target, what="certificate", private=True) as handle:
        handle.write(json.dumps(cert, indent=2) + "\n")
    details = cert["metadata"]["details"]
    emit(
        {"out": str(out), **details},
        as_json=st.as_json,
        text=f"deletion certificate of {controller_id} ({details['rule']}, "
        f"{details['subjects_made_unreadable']['total']} subjects) written to {out}",
    )


@click.group()
def messages() -> None:
    """Messages sent on a controller's lists (INSTR-1, INSTR-7, SUBJ-7, SUBJ-8, RET-7)."""


VIA = click.option(
    "--via", help="The sub-processor that carries it (default: the policy's choice, SUB-4)."
)
INSTRUCTION = click.option(
    "--instruction",
    type=click.IntRange(min=1),
    help="The number of the controller's instruction it relies on (INSTR-1).",
)
SUBJECT = click.option("--subject", help="The subject line (sealed with the message's own key).")
BODY_FILE = click.option(
    "--body-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A UTF-8 file with the message body (sealed with the message's own key).",
)


def _body(body_file: Path | None) -> str | None:
    if body_file is None:
        return None
    try:
        return body_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"cannot read {body_file}: {exc}") from None


@messages.command("send")
@click.argument("controller_id")
@click.option("--list", "list_name", required=True, help="The list it is sent on.")
@click.option("--channel", required=True, type=click.Choice(["email", "sms"]))
@click.option("--campaign", help="A name for this campaign of the list.")
@VIA
@INSTRUCTION
@SUBJECT
@BODY_FILE
@click.pass_context
def messages_send(
    ctx: click.Context,
    controller_id: str,
    list_name: str,
    channel: str,
    campaign: str | None,
    via: str | None,
    instruction: int | None,
    subject: str | None,
    body_file: Path | None,
) -> None:
    """Send on a list: only to subscribed contacts whose consent covers the channel."""
    st = state(ctx)
    result = st.desk().messages.send(
        controller_id, list_name, channel, subject, _body(body_file),
        campaign=campaign, via=via, instruction=instruction,
    )  # fmt: skip
    skipped = ", ".join(f"{n} {rule}" for rule, n in result["skipped"].items()) or "none"
    emit(
        result,
        as_json=st.as_json,
        text=f"sent {result['sent']} {channel} message{'' if result['sent'] == 1 else 's'} on "
        f"{result['list']} via "
        f"{result['subprocessor']} ({result['instruction']}); skipped: {skipped}",
    )


@messages.command("record")
@click.argument("controller_id")
@click.option("--contact", required=True, help="The recipient's contact id (or e-mail).")
@click.option("--channel", required=True, type=click.Choice(["email", "sms"]))
@click.option("--list", "list_name", help="The list it is sent on (default: one with consent).")
@click.option("--test", is_flag=True, help="A test message: it counts like any other (SUBJ-7).")
@VIA
@INSTRUCTION
@SUBJECT
@BODY_FILE
@click.pass_context
def messages_record(
    ctx: click.Context,
    controller_id: str,
    contact: str,
    channel: str,
    list_name: str | None,
    test: bool,
    via: str | None,
    instruction: int | None,
    subject: str | None,
    body_file: Path | None,
) -> None:
    """Record one message to one contact, under the same rules as a send."""
    st = state(ctx)
    result = st.desk().messages.record(
        controller_id, contact, channel, subject, _body(body_file),
        list_name=list_name, via=via, instruction=instruction, test=test,
    )  # fmt: skip
    emit(
        result,
        as_json=st.as_json,
        text=f"recorded {channel} message {result['message_id']} via {result['subprocessor']}",
    )


@messages.command("bounce")
@click.argument("controller_id")
@click.argument("message_id")
@click.pass_context
def messages_bounce(ctx: click.Context, controller_id: str, message_id: str) -> None:
    """Record that a message bounced; it still counts as sent (SUBJ-7)."""
    st = state(ctx)
    result = st.desk().messages.bounce(controller_id, message_id)
    emit(result, as_json=st.as_json, text=f"message {message_id} bounced (still counted)")


@messages.command("usage")
@click.argument("controller_id")
@click.pass_context
def messages_usage(ctx: click.Context, controller_id: str) -> None:
    """The account's usage as the terms count it (SUBJ-7)."""
    st = state(ctx)
    emit(st.desk().messages.usage(controller_id), as_json=st.as_json)


@messages.command("show")
@click.argument("controller_id")
@click.argument("message_id")
@click.pass_context
def messages_show(ctx: click.Context, controller_id: str, message_id: str) -> None:
    """Show a message; shredded content shows as erased."""
    st = state(ctx)
    emit(st.desk().messages.show(controller_id, message_id), as_json=st.as_json)


@messages.command("handoff")
@click.argument("controller_id")
@click.option("--via", required=True, help="The sub-processor the messages were recorded for.")
@click.option(
    "--after",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Continue after this message number (the last handoff's next_after).",
)
@click.option("--limit", type=click.IntRange(min=1, max=1000), default=500, show_default=True)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A JSON Lines file for the delivery system (created 0600).",
)
@FORCE
@click.pass_context
def messages_handoff(
    ctx: click.Context,
    controller_id: str,
    via: str,
    after: int,
    limit: int,
    out: Path,
    force: bool,
) -> None:
    """Hand recorded messages to their carrier: address and content only (SUB-9, logged)."""
    st = state(ctx)
    target = outfile.plan(out, force=force, what="handoff")
    result = st.desk().handoff.handoff(controller_id, via, after=after, limit=limit)
    items = result.pop("messages")
    with outfile.writing(target, what="handoff", private=True) as handle:
        handle.writelines(json.dumps(item, ensure_ascii=False) + "\n" for item in items)
    withheld = ", ".join(f"{n} {rule}" for rule, n in result["withheld"].items()) or "none"
    emit(
        {**result, "out": str(out)},
        as_json=st.as_json,
        text=f"handed {result['handed_over']} messages for {via} to {out} "
        f"({', '.join(result['fields']) or 'nothing'}); withheld: {withheld}; "
        f"next: --after {result['next_after']}",
    )


def register(cli: click.Group) -> None:
    """Attach these commands (the controllers group is cmd_admin's)."""
    group = cli.commands["controllers"]
    assert isinstance(group, click.Group)  # noqa: S101 - registered by cmd_admin first
    group.add_command(terminate)
    group.add_command(withdraw_termination)
    cli.add_command(retention)
    cli.add_command(messages)


def write_return(
    st: CliState,
    session: Desk,
    controller: str,
    out: Path | None,
    *,
    everything: bool,
    force: bool = False,
) -> bool:
    """`export --all --out DIR`: write the standard-format return; False for other exports."""
    if not everything or out is None or not (out.is_dir() or not out.suffix):
        return False
    try:
        manifest = session.returns.write(controller, out, force=force)
    except OSError as exc:
        raise CannotWriteError(
            f"cannot write the return to {out}: {exc.strerror or type(exc).__name__}"
        ) from None
    counts = ", ".join(f"{n} {name}" for name, n in manifest["counts"].items())
    emit(
        manifest,
        as_json=st.as_json,
        text=f"returned all data of {controller} to {out} ({counts}); see {out}/manifest.json",
    )
    return True
