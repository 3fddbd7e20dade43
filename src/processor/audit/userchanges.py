"""Staff-made changes to a controller's users: deviation candidates until reviewed (ACC-13).

The processor's staff may add, re-credential or revoke a controller's user only on its
administrator's recorded request or through a four-eyes recovery. Each such change is still
one the controller did not make itself, so each is a candidate deviation in `status` and in
the GDPA's report until the GDPA has reviewed it, by the existing review of sampled entries
(`audit review SAMPLE ENTRY --finding ok|deviation`). Every sample, of any population, carries
every unreviewed change of its period, so none waits for a lucky draw.

The changes are read from the ledger-covered user events, not from the services that made
them: a change written around the services' checks is in the list as well. The registration
of a controller with its first administrator is the one staff change that is not: it is the
account's beginning, not a change to it (its credential is handed over, ACC-13).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from processor.audit.events import AuditSample
from processor.audit.reading import event_class, in_period, stored_events
from processor.domain.controllers import Controller
from processor.domain.users import User

if TYPE_CHECKING:
    from datetime import datetime

    from processor.app import Processor

KIND = "user-change"
FINDING = "staff-changed-a-controllers-user"
_CHANGES = {"UserAdded": "added", "CredentialIssued": "credential", "UserAccessRevoked": "revoked"}


def staff_user_changes(
    proc: Processor, start: datetime | None = None, end: datetime | None = None
) -> list[dict[str, Any]]:
    """Every change processor staff made to a controller's users in the period, oldest first."""
    registered = event_class(Controller, "ControllerRegistered")
    classes = [event_class(User, name) for name in _CHANGES]
    scope: dict[str, str | None] = {}  # user name -> its controller (None: processor staff)
    names: dict[Any, str] = {}
    registered_at: dict[str, int] = {}
    first_credential: set[str] = set()
    entries: list[dict[str, Any]] = []
    for pos, e in stored_events(proc, registered, *classes):
        if isinstance(e, registered):
            registered_at[e.ref] = pos
            continue
        name = type(e).__qualname__.rsplit(".", 1)[-1]
        if name == "UserAdded":
            scope[e.name] = e.controller
            names[e.originator_id] = e.name
            # Registration commits the controller, then its first administrator with the
            # handed-over credential: the account's beginning, not a change to its users.
            if e.controller is not None and registered_at.get(e.controller) == pos - 1:
                first_credential.add(e.name)
                continue
        user = names.get(e.originator_id, "")
        if name == "CredentialIssued" and user in first_credential:
            first_credential.discard(user)
            continue
        controller = scope.get(user)
        by_staff = e.actor in scope and scope[e.actor] is None
        if controller is None or not by_staff or not in_period(e.timestamp, start, end):
            continue
        entries.append(
            {
                "entry": f"e{pos}",
                "position": pos,
                "kind": KIND,
                "at": e.timestamp.isoformat(),
                "actor": e.actor,
                "controller": controller,
                "aggregate": str(e.originator_id),
                "version": e.originator_version,
                "user": user,
                "change": _CHANGES[name],
            }
        )
    return entries


def reviewed_keys(proc: Processor) -> set[tuple[str, int]]:
    """(aggregate, version) of every sampled entry the GDPA has reviewed, in any sample."""
    drawn = event_class(AuditSample, "AuditSampleDrawn")
    keys: set[tuple[str, int]] = set()
    for _, e in stored_events(proc, drawn):
        sample = proc.find(e.originator_id)
        if not isinstance(sample, AuditSample):
            continue
        for entry in sample.entries:
            if entry["entry"] in sample.reviews and "aggregate" in entry:
                keys.add((str(entry["aggregate"]), int(entry["version"])))
    return keys


def unreviewed(
    proc: Processor, start: datetime | None = None, end: datetime | None = None
) -> list[dict[str, Any]]:
    """The staff changes to controllers' users the GDPA has not reviewed yet."""
    done = reviewed_keys(proc)
    return [
        e
        for e in staff_user_changes(proc, start, end)
        if (e["aggregate"], e["version"]) not in done
    ]
