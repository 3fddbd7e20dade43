"""`support`, `access` and the staff-registry `users` commands (ACC-1 … ACC-11)."""

from __future__ import annotations

import click

from processor.services.validation import iso_datetime

from .cmd_admin import users
from .cmd_audit_sample import access_sample
from .options import USER_REQUEST
from .output import emit
from .state import state


@users.command("review")
@click.argument("name")
@click.option("--note", default="", help="What the review found.")
@click.pass_context
def users_review(ctx: click.Context, name: str, note: str) -> None:
    """Record a periodic review of a person's authorisation (ACC-2)."""
    st = state(ctx)
    emit(st.desk().staff.review(name, note), as_json=st.as_json, text=f"reviewed {name}")


@users.command("revoke")
@click.argument("name")
@click.option("--reason", required=True)
@USER_REQUEST
@click.pass_context
def users_revoke(ctx: click.Context, name: str, reason: str, request: int | None) -> None:
    """Withdraw a user's access from now on: credentials and grants they hold die (ACC-2)."""
    st = state(ctx)
    result = st.desk().staff.revoke(name, reason, request=request)
    emit(result, as_json=st.as_json, text=f"revoked {name}")


@users.command("unlock")
@click.argument("name")
@click.option("--note", default="")
@click.pass_context
def users_unlock(ctx: click.Context, name: str, note: str) -> None:
    """Lift a lockout after repeated refused attempts (ACC-8)."""
    st = state(ctx)
    emit(st.desk().staff.unlock(name, note), as_json=st.as_json, text=f"unlocked {name}")


@users.command("staff")
@click.pass_context
def users_staff(ctx: click.Context) -> None:
    """The registry of processor staff: confidentiality, training, reviews (ACC-1, ACC-3)."""
    st = state(ctx)
    rows = st.desk().staff.registry()
    lines = [
        f"{r['name']:<16} {r['role']:<15} confidentiality {r['confidentiality_signed'] or '-':<10} "
        f"trained {r['trained'] or '-':<10} review due {r['review_due'][:10]}"
        + (" OVERDUE" if r["overdue_for_review"] else "")
        + (" REVOKED" if r["revoked"] else "")
        + (" LOCKED" if r["locked"] else "")
        for r in rows
    ]
    emit({"staff": rows}, as_json=st.as_json, text="\n".join(lines) or "no staff")


@click.group()
def support() -> None:
    """Pseudonymised support views (ACC-5)."""


@support.command("view")
@click.argument("controller")
@click.option(
    "--case", required=True, help="The controller's open support case (its support-request)."
)
@click.option("--reason", required=True, help="Why you look, logged with the view (ACC-6).")
@click.option("--list", "list_name")
@click.option("--contact", "pseudonym", help="A contact's pseudonym.")
@click.pass_context
def support_view(
    ctx: click.Context,
    controller: str,
    case: str,
    reason: str,
    list_name: str | None,
    pseudonym: str | None,
) -> None:
    """Contacts by pseudonym with non-identifying facts only, for an open support case (ACC-4)."""
    st = state(ctx)
    data = st.desk().access.support_view(controller, list_name, pseudonym, case=case, reason=reason)
    lines = [f"{data['count']} contacts, {data['shown']} shown"]
    for c in data["contacts"]:
        lists = ", ".join(
            f"{x['list']}{'' if x['subscribed'] else ' (unsubscribed)'}" for x in c["lists"]
        )
        flags = " ".join(f for f in ("restricted", "objected", "erased") if c[f])
        lines.append(f"  {c['pseudonym']}  {lists}  {flags}".rstrip())
    emit(data, as_json=st.as_json, text="\n".join(lines))


@support.command("close")
@click.argument("controller")
@click.option("--case", required=True, help="The support case to close.")
@click.pass_context
def support_close(ctx: click.Context, controller: str, case: str) -> None:
    """Close the controller's support case: no support view can name it any more (ACC-4)."""
    st = state(ctx)
    data = st.desk().access.close_case(controller, case)
    emit(data, as_json=st.as_json, text=f"closed support case of {controller}")


@click.group()
def access() -> None:
    """Reasoned, time-limited grants to see identifying data, and the access log."""


def _grant_text(g: dict[str, object]) -> str:
    return (
        f"grant {g['grant']} {g['state']}"
        + (
            " (approved automatically under a standing support-access instruction)"
            if g["automatic"]
            else ""
        )
        + (f", expires {g['expires_at']}" if g["expires_at"] else "")
    )


@access.command("request")
@click.argument("controller")
@click.option("--reason", required=True)
@click.option(
    "--contact", "contacts", multiple=True, help="A pseudonym; repeat to widen the scope."
)
@click.option("--hours", type=int, help="Grant length (at most the policy's maximum).")
@click.pass_context
def access_request(
    ctx: click.Context, controller: str, reason: str, contacts: tuple[str, ...], hours: int | None
) -> None:
    """Ask the controller for access (ACC-4)."""
    st = state(ctx)
    g = st.desk().access.request(controller, reason, list(contacts), hours)
    emit(g, as_json=st.as_json, text=_grant_text(g))


@access.command("approve")
@click.argument("grant")
@click.pass_context
def access_approve(ctx: click.Context, grant: str) -> None:
    """Approve a request (the controller's administrator)."""
    st = state(ctx)
    g = st.desk().access.decide(grant, approve=True)
    emit(g, as_json=st.as_json, text=_grant_text(g))


@access.command("deny")
@click.argument("grant")
@click.option("--reason", required=True)
@click.pass_context
def access_deny(ctx: click.Context, grant: str, reason: str) -> None:
    """Deny a request (the controller's administrator)."""
    st = state(ctx)
    g = st.desk().access.decide(grant, approve=False, reason=reason)
    emit(g, as_json=st.as_json, text=_grant_text(g))


@access.command("revoke")
@click.argument("grant")
@click.option("--reason", default="")
@click.pass_context
def access_revoke(ctx: click.Context, grant: str, reason: str) -> None:
    """Revoke a grant."""
    st = state(ctx)
    g = st.desk().access.revoke(grant, reason)
    emit(g, as_json=st.as_json, text=_grant_text(g))


@access.command("reveal")
@click.argument("grant")
@click.argument("pseudonym")
@click.pass_context
def access_reveal(ctx: click.Context, grant: str, pseudonym: str) -> None:
    """Show a contact's identifying data inside an active grant; the reveal is logged first."""
    st = state(ctx)
    emit(st.desk().access.reveal(grant, pseudonym), as_json=st.as_json)


@access.command("log")
@click.option("--controller")
@click.option("--staff")
@click.option("--since", metavar="DATE")
@click.option("--until", metavar="DATE")
@click.pass_context
def access_log(
    ctx: click.Context,
    controller: str | None,
    staff: str | None,
    since: str | None,
    until: str | None,
) -> None:
    """Reveals, grants, views and refused attempts (administrators: their own data only)."""
    st = state(ctx)
    rows = st.desk().access.log(
        controller,
        staff,
        iso_datetime(since, "--since") if since else None,
        iso_datetime(until, "--until") if until else None,
    )
    lines = [
        f"{r['at'][:19]}  {r['kind']:<12} {r['actor']:<14} {r['controller'] or '-':<14} "
        f"{r['contact'] or ''} {r['reason']}".rstrip()
        for r in rows
    ]
    emit({"entries": rows}, as_json=st.as_json, text="\n".join(lines) or "no entries")


access.add_command(access_sample)  # an alias of `audit sample` (`cmd_audit_sample`)


def register(cli: click.Group) -> None:
    """Attach these commands (the users subcommands attach to the existing group)."""
    cli.add_command(support)
    cli.add_command(access)
