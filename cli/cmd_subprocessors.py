"""`subprocessors` commands: the registry, its change workflow, `check` and the outbox.

Refusals exit 1 with one line naming the rule and its dates; unknown names and invalid input
exit 2. `check` exits 1 when it reports findings, so it can run from cron.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import click

from processor.kernel.errors import FindingsError, InvalidInputError
from processor.services.validation import iso_date, iso_datetime
from subprocessors import SubProcessorDetails

from .cmd_audit_parties import challenge
from .options import AS_OF, CONTROLLER_FILTER
from .output import emit
from .state import state

_DAY_ONLY = 10


def _day(value: str | None, what: str) -> date | None:
    return date.fromisoformat(iso_date(value, what)) if value is not None else None


def _as_of(value: str | None) -> datetime | None:
    """`--at`: a time, or a date meaning the end of that day (everything recorded on it)."""
    if value is None:
        return None
    if len(value.strip()) == _DAY_ONLY:
        day = date.fromisoformat(iso_date(value, "--at date"))
        return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC) - timedelta(
            microseconds=1
        )
    return iso_datetime(value, "--at time")


def _activities(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


def _details(
    name: str,
    country: str,
    activity: tuple[str, ...],
    basis: str,
    registration: str | None,
    address: str | None,
    data_location: tuple[str, ...],
    agreement_ref: str | None,
    agreement_date: str | None,
    beneficiary_clause: bool | None,
) -> SubProcessorDetails:
    return SubProcessorDetails(
        name=name,
        address=address or "",
        country=country,
        activities=_activities(activity),
        basis=basis,
        registration=registration or "",
        data_locations=data_location,
        agreement_ref=agreement_ref or "",
        agreement_date=_day(agreement_date, "--agreement-date"),
        beneficiary_clause=beneficiary_clause,
    )


def _entry_options(func: Any) -> Any:  # noqa: ANN401 - a click decorator stack
    """The registry fields shared by `add` and `propose` (SUB-1, SUB-5)."""
    options = [
        click.option("--country", required=True, help="ISO country code of the sub-processor."),
        click.option(
            "--activity",
            "activity",
            multiple=True,
            required=True,
            help="Approved activity (repeat or comma-separate): hosting, email, sms, ...",
        ),
        click.option(
            "--basis",
            required=True,
            help="Transfer basis: eea, adequacy, scc, bcr, dpf, derogation, privacy-shield, "
            "safe-harbour, none.",
        ),
        click.option("--registration", help="Registration number, e.g. CVR 12345678."),
        click.option("--address", help="Postal address (required by SUB-1)."),
        click.option(
            "--data-location",
            "data_location",
            multiple=True,
            help="Another country the data goes to (repeatable).",
        ),
        click.option("--agreement-ref", help="Reference of the sub-processor agreement."),
        click.option("--agreement-date", metavar="DATE", help="Date the agreement was signed."),
        click.option(
            "--beneficiary-clause/--no-beneficiary-clause",
            default=None,
            help="Whether the agreement names the controller third-party beneficiary.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _yes_no(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


def _entry_text(row: dict[str, Any]) -> list[str]:
    agreement = row["agreement"]
    where = ", ".join([row["country"], *row["data_locations"]])
    head = f"{row['name']} ({row['registration'] or 'no registration no.'}): {where}; "
    head += f"{', '.join(row['activities'])}; basis {row['basis']}"
    lines = [head]
    if "status" in row:
        since = f" from {row['approved_from']}" if row["approved_from"] else ""
        lines.append(f"  status: {row['status']}{since}")
        if row["notice"]:
            notice = row["notice"]
            lines.append(
                f"  notice of {notice['notified_on']}: may be engaged from "
                f"{notice['engage_not_before']}, objections until {notice['objections_until']} "
                f"({notice['period']})"
            )
        if row["objection"]:
            lines.append(f"  objected {row['objection']['at']}: {row['objection']['reason']}")
        if row["third_countries"]:
            lines.append(
                f"  transfer to {', '.join(row['third_countries'])}: instructed "
                f"{_yes_no(row['transfer_instructed'])}"
            )
    else:
        for controller, day in row["notices"].items():
            objected = any(o["controller"] == controller for o in row["objections"])
            lines.append(
                f"  notice to {controller}: engage from {day}{' (objected)' if objected else ''}"
            )
        state_ = (
            "retired" if row["retired_at"] else ("engaged" if row["engaged_at"] else "proposed")
        )
        lines.append(f"  {state_} (editions: {', '.join(row['editions']) or '-'})")
    lines.append(f"  address: {row['address']}")
    lines.append(
        f"  agreement: {agreement['ref'] or 'not recorded'}"
        f"{' of ' + agreement['date'] if agreement['date'] else ''}; "
        f"beneficiary clause {_yes_no(agreement['beneficiary_clause'])}"
    )
    lines.extend(
        f"  supervised {s['on']} ({s['method']}): {s['finding']}" for s in row["supervisions"]
    )
    return lines


@click.group()
def subprocessors() -> None:
    """Sub-processors: approved lists, change notices, objections, transfers (SUB-1..SUB-7)."""


subprocessors.add_command(challenge)  # SUB-7 (cmd_audit_parties)


@subprocessors.command("list")
@click.option("--controller", help="One controller's view (a controller's users: always theirs).")
@AS_OF
@click.pass_context
def list_(ctx: click.Context, controller: str | None, at: str | None) -> None:
    """List sub-processors with agreement, notices, objections and supervision results."""
    st = state(ctx)
    result = st.desk().subprocessors.listing(controller, _as_of(at))
    lines = [
        f"as of {result['at']}"
        + (f", controller {result['controller']}" if result["controller"] else "")
    ]
    for row in result["subprocessors"]:
        lines.extend(_entry_text(row))
    emit(result, as_json=st.as_json, text="\n".join(lines))


@subprocessors.command("add")
@click.argument("name")
@_entry_options
@click.option(
    "--edition",
    "editions",
    multiple=True,
    help="Edition whose list it joins (repeatable; default: every edition).",
)
@click.option("--listed-from", metavar="DATE", help="On the list from this date (default: now).")
@click.pass_context
def add(
    ctx: click.Context,
    /,
    name: str,
    editions: tuple[str, ...],
    listed_from: str | None,
    **fields: Any,  # noqa: ANN401
) -> None:
    """Enter a sub-processor on approved lists, for controllers who sign from now on (SUB-1)."""
    st = state(ctx)
    result = st.desk().subprocessors.add(
        _details(name, **fields), editions=editions, listed_from=_day(listed_from, "--listed-from")
    )
    text = "\n".join([f"added {result['name']}", *_entry_text(result)])
    emit(result, as_json=st.as_json, text=text)


@subprocessors.command("propose")
@click.argument("name")
@_entry_options
@click.option("--replaces", metavar="OLD", help="The sub-processor it replaces.")
@click.pass_context
def propose(
    ctx: click.Context,
    /,
    name: str,
    replaces: str | None,
    **fields: Any,  # noqa: ANN401
) -> None:
    """Propose an added or replacing sub-processor: written notice to every affected controller."""
    st = state(ctx)
    result = st.desk().subprocessors.propose(_details(name, **fields), replaces=replaces)
    head = f"proposed {result['subprocessor']}"
    if result["replaces"]:
        head += f" to replace {result['replaces']}"
    lines = [f"{head}; written notice to {len(result['notices'])} controller(s):"]
    lines += [
        f"  {n['controller']} ({n['edition']}): may be engaged from {n['engage_not_before']}, "
        f"objections until {n['objections_until']} ({n['period']})"
        for n in result["notices"]
    ]
    lines.append(f"may be engaged from {result['may_be_engaged_from']}")
    emit(result, as_json=st.as_json, text="\n".join(lines))


@subprocessors.command("object")
@click.argument("name")
@click.option("--controller", required=True)
@click.option("--reason", required=True)
@click.pass_context
def object_(ctx: click.Context, name: str, controller: str, reason: str) -> None:
    """Object, for a controller, to a proposed sub-processor during its notice period (SUB-3)."""
    st = state(ctx)
    result = st.desk().subprocessors.object_to(name, controller, reason)
    emit(result, as_json=st.as_json, text=f"recorded objection: {result['effect']}")


@subprocessors.command("engage")
@click.argument("name")
@click.pass_context
def engage(ctx: click.Context, name: str) -> None:
    """Engage a proposed sub-processor after notice, with its agreement kept (SUB-2, SUB-5)."""
    st = state(ctx)
    result = st.desk().subprocessors.engage(name)
    text = f"engaged {result['subprocessor']} at {result['engaged_at']}"
    if result["blocked_by_objection"]:
        text += f"; never for {', '.join(result['blocked_by_objection'])} (objected)"
    emit(result, as_json=st.as_json, text=text)


@subprocessors.command("retire")
@click.argument("name")
@click.option("--reason", default="withdrawn from the registry", show_default=True)
@click.pass_context
def retire(ctx: click.Context, name: str, reason: str) -> None:
    """Take a sub-processor off every list."""
    st = state(ctx)
    result = st.desk().subprocessors.retire(name, reason)
    emit(result, as_json=st.as_json, text=f"retired {result['subprocessor']}")


TEXT_FILE = click.option(
    "--text-file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The signed text; only its SHA-256 is kept.",
)


def _text(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"cannot read --text-file: {exc.strerror}") from None


@subprocessors.command("agreement")
@click.argument("name")
@click.option("--ref", "agreement_ref", required=True, help="Reference of the signed agreement.")
@click.option("--date", "agreement_date", metavar="DATE", help="Date it was signed.")
@click.option(
    "--beneficiary-clause/--no-beneficiary-clause",
    default=False,
    help="Whether it names the controller third-party beneficiary (SCC 7.6); required.",
)
@TEXT_FILE
@click.pass_context
def agreement(
    ctx: click.Context,
    name: str,
    agreement_ref: str,
    agreement_date: str | None,
    beneficiary_clause: bool,
    text_file: Path,
) -> None:
    """Keep the sub-processor agreement and its text's hash, for a copy on request (SUB-5)."""
    st = state(ctx)
    result = st.desk().subprocessors.record_agreement(
        name,
        agreement_ref,
        agreement_date=_day(agreement_date, "--date"),
        beneficiary_clause=beneficiary_clause,
        text=_text(text_file),
    )
    emit(result, as_json=st.as_json, text=f"recorded the agreement with {result['subprocessor']}")


@subprocessors.command("amend-agreement")
@click.argument("name")
@click.option("--ref", "amendment_ref", required=True, help="Reference of the amendment.")
@click.option("--signed-on", required=True, metavar="DATE", help="Date it was signed.")
@TEXT_FILE
@click.pass_context
def amend_agreement(
    ctx: click.Context, name: str, amendment_ref: str, signed_on: str, text_file: Path
) -> None:
    """Keep an amendment of the sub-processor agreement with its text's hash (SUB-5, SUB-9)."""
    st = state(ctx)
    day = _day(signed_on, "--signed-on")
    assert day is not None  # noqa: S101 - a required option
    result = st.desk().subprocessors.amend_agreement(
        name, amendment_ref, signed_on=day, text=_text(text_file)
    )
    emit(result, as_json=st.as_json, text=f"recorded the amendment {amendment_ref}")


@subprocessors.command("agreement-copy")
@click.argument("name")
@CONTROLLER_FILTER
@click.pass_context
def agreement_copy(ctx: click.Context, name: str, controller: str | None) -> None:
    """Show a sub-processor's agreement and amendments as kept, to its controllers (SUB-9)."""
    st = state(ctx)
    result = st.desk().subprocessors.agreement_copy(name, controller)
    kept = result["agreement"]
    lines = [
        (
            f"{result['subprocessor']}: agreement {kept['ref'] or 'not recorded'}"
            f"{' of ' + kept['date'] if kept['date'] else ''}; beneficiary clause "
            f"{_yes_no(kept['beneficiary_clause'])}; sha256 {kept['text_sha256'] or '-'}"
        ),
        *(
            f"  amendment {a['ref']} of {a['signed_on']}: sha256 {a['text_sha256']}"
            for a in kept["amendments"]
        ),
    ]
    emit(result, as_json=st.as_json, text="\n".join(lines))


@subprocessors.command("check")
@CONTROLLER_FILTER
@AS_OF
@click.pass_context
def check(ctx: click.Context, controller: str | None, at: str | None) -> None:
    """Flag every broken rule; exit 0 when none, 1 when there are findings (for cron)."""
    st = state(ctx)
    result = st.desk().subprocessors.check(controller, _as_of(at))
    findings = result["findings"]
    text = "\n".join(
        f"{f['controller']}  {f['subprocessor']}  {f['rule']} ({f['obligation']}"
        f"{'' if f['blocking'] else ', documentation'}): {f['message']}\n"
        f"    resolve: {f['resolve']}"
        for f in findings
    )
    emit(result, as_json=st.as_json, text=text or "no findings")
    if findings:
        rules = Counter(f["rule"] for f in findings)
        blocking = sum(1 for f in findings if f["blocking"])
        summary = ", ".join(f"{rule} {n}" for rule, n in sorted(rules.items()))
        raise FindingsError(
            f"CheckFoundFindings: {len(findings)} findings ({blocking} blocking) as of "
            f"{findings[0]['at']}: {summary}",
            rule="CheckFoundFindings",
        )


@subprocessors.command("supervise")
@click.argument("name")
@click.option(
    "--method",
    required=True,
    help="on-site-audit, questionnaire, documentation-review, written-statement, "
    "isae-3000-report or certification-review.",
)
@click.option("--finding", required=True, help="What the supervision found.")
@click.option("--date", "on", metavar="DATE", help="When it took place (default today).")
@click.pass_context
def supervise(ctx: click.Context, name: str, method: str, finding: str, on: str | None) -> None:
    """Document a supervision of a sub-processor and its finding (SUB-7)."""
    st = state(ctx)
    result = st.desk().subprocessors.supervise(name, method, finding, _day(on, "--date"))
    emit(result, as_json=st.as_json, text=f"recorded supervision of {result['subprocessor']}")


@subprocessors.group("outbox", invoke_without_command=True)
@CONTROLLER_FILTER
@click.pass_context
def outbox(ctx: click.Context, controller: str | None) -> None:
    """Pending notices of rectification, erasure and restriction to recipients (SUBJ-5)."""
    if ctx.invoked_subcommand is not None:
        return
    st = state(ctx)
    result = st.desk().subprocessors.outbox(controller)
    text = "\n".join(
        f"{e['id']}  {e['controller']}  {e['kind']}  contact {e['contact_id']}  "
        f"to {e['subprocessor']}  queued {e['queued_at']}"
        for e in result["pending"]
    )
    emit(result, as_json=st.as_json, text=text or "nothing pending")


@outbox.command("ack")
@click.argument("entry_id")
@click.option("--controller", help="The controller whose outbox holds the entry.")
@click.pass_context
def outbox_ack(ctx: click.Context, entry_id: str, controller: str | None) -> None:
    """Record that the recipient confirmed one outbox entry."""
    st = state(ctx)
    parent = ctx.parent.params.get("controller") if ctx.parent is not None else None
    result = st.desk().subprocessors.acknowledge(entry_id, controller or parent)
    emit(
        result,
        as_json=st.as_json,
        text=f"acknowledged {result['kind']} of contact {result['contact_id']} "
        f"by {result['subprocessor']}",
    )


def register(cli: click.Group) -> None:
    """Attach these commands."""
    cli.add_command(subprocessors)
