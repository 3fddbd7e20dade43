"""Duplicate live contacts (one controller, one normalised e-mail): found and repaired (SUBJ-4).

The services never create them (`processor.services.writelock`), but stores written before that
lock, or events written by hand, may hold them, and then an erasure by e-mail reaches one copy and
leaves the others findable, exportable and subscribed. The doctor lists them (`duplicates`);
the controller's administrator repairs them with `doctor --repair-duplicates --controller ID
--confirm`. The repair keeps the oldest copy and merges each younger copy into it, each step
an ordinary event:
* what protects the person wins: an objection or restriction on a copy is recorded on the
  keeper, and a list the copy left is left by the keeper too;
* a list the copy is subscribed to and the keeper never joined is joined by the keeper, with
  the copy's consent channel, method and date (the evidence text stays with the copy);
* the copy is then erased through the normal erasure use case, reason "duplicate of <id>",
  so it gets its `ContactErased` event, its key destroyed and a deletion receipt.
The blind index that groups the copies is read from the read models, which the `readmodels`
check compares with the events; no e-mail is ever printed, only contact ids.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from processor.integrity.findings import Finding
from processor.kernel.errors import RefusedError
from processor.readmodels import tables as t
from processor.services.contacts import ContactsService
from processor.services.erasure import ErasureService
from processor.services.lookup import find_controller

if TYPE_CHECKING:
    from processor.app import Processor
    from processor.domain.contacts import Contact
    from processor.session import Session

MERGE_NOTE = "merged from a duplicate contact"


def duplicate_groups(proc: Processor, controller: str | None = None) -> list[tuple[str, list[str]]]:
    """(controller, live contact ids) sharing one e-mail index, each group oldest first."""
    c = t.contacts
    live = c.c.erased.is_(False) & c.c.email_index.is_not(None)
    if controller is not None:
        live &= c.c.controller == controller
    shared = (
        sa.select(c.c.controller, c.c.email_index)
        .where(live)
        .group_by(c.c.controller, c.c.email_index)
        .having(sa.func.count() > 1)
        .subquery()
    )
    query = (
        sa.select(c.c.controller, c.c.email_index, c.c.contact_id)
        .join(
            shared,
            (shared.c.controller == c.c.controller) & (shared.c.email_index == c.c.email_index),
        )
        .where(c.c.erased.is_(False))
        .order_by(c.c.controller, c.c.email_index, c.c.added_at, c.c.contact_id)
    )
    groups: dict[tuple[str, str], list[str]] = {}
    with proc.engines.readmodels.connect() as conn:
        for ctrl, index, cid in conn.execute(query):
            groups.setdefault((ctrl, index), []).append(str(cid))
    return [(ctrl, ids) for (ctrl, _index), ids in groups.items()]


def check_duplicates(proc: Processor) -> list[Finding]:
    """One finding per group of live contacts that share one e-mail (ids only, no e-mail)."""
    return [
        Finding(
            check="duplicates",
            problem=f"{len(ids)} live contacts share one e-mail; keep {ids[0]}",
            where="contacts",
            key=ctrl,
            column="contact_id",
            live=ids,
            expected=[ids[0]],
        )
        for ctrl, ids in duplicate_groups(proc)
    ]


def _merge_into(session: Session, keeper: Contact, copy: Contact) -> list[str]:
    """Carry what the copy says about the person over to the keeper; returns what changed."""
    proc = session.proc
    actor = session.user_name
    reason = proc.sealer.seal(str(keeper.id), "reason", MERGE_NOTE)
    steps = []
    if copy.objected and not keeper.objected:
        keeper.object_to_processing(actor=actor, reason=reason)
        steps.append("objection")
    if copy.restricted and not keeper.restricted:
        keeper.restrict(actor=actor, reason=reason)
        steps.append("restriction")
    for name, membership in sorted(copy.lists.items()):
        mine = keeper.lists.get(name)
        if not membership.subscribed and mine is not None and mine.subscribed:
            keeper.unsubscribe(actor=actor, list_name=name)
            steps.append(f"left {name}")
        elif membership.subscribed and mine is None:
            consent = next(
                (c for c in reversed(copy.consents) if c.list_name == name), copy.consents[-1]
            )
            keeper.subscribe(
                actor=actor,
                list_name=name,
                consent={
                    "channel": consent.channel,
                    "method": consent.method,
                    "evidence": proc.sealer.seal(str(keeper.id), "consent-evidence", MERGE_NOTE),
                    "given_at": consent.given_at,
                },
            )
            steps.append(f"joined {name}")
    return steps


def repair_duplicates(session: Session, controller: str, *, confirm: bool) -> dict[str, Any]:
    """Merge each younger duplicate into the oldest and erase it; refuse without `confirm`.

    Without `confirm` nothing is written and the plan is returned, so the controller sees
    which copies would go before agreeing (`doctor --repair-duplicates` without `--confirm`).
    """
    session.authorize("erase", command="doctor repair-duplicates", controller=controller)
    find_controller(session.proc, controller)
    proc = session.proc
    groups = duplicate_groups(proc, controller)
    plan = [{"keep": ids[0], "erase": ids[1:]} for _ctrl, ids in groups]
    if not confirm:
        return {"controller": controller, "confirmed": False, "groups": plan, "repaired": []}
    contacts, erasure = ContactsService(session), ErasureService(session)
    repaired = []
    for group in plan:
        keeper_id = str(group["keep"])
        for copy_id in group["erase"]:
            keeper = contacts.load(controller, keeper_id)
            copy = contacts.load(controller, copy_id)
            if keeper.erased:
                raise RefusedError("the contact to keep was erased meanwhile", rule="DoctorRepair")
            with proc.using_clock():
                steps = _merge_into(session, keeper, copy)
                if steps:
                    proc.commit(keeper)
            erasure.erase(controller, reason=f"duplicate of {keeper_id}", contact=copy_id)
            repaired.append({"kept": keeper_id, "erased": copy_id, "merged": steps})
    return {"controller": controller, "confirmed": True, "groups": plan, "repaired": repaired}
