"""How each event changes the read models."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from processor.readmodels import tables as t

if TYPE_CHECKING:
    from processor.readmodels.projector import Handler, Projector
    from processor.readmodels.writes import Writes


def _user_added(_p: Projector, w: Writes, e: Any, _pos: int) -> None:  # noqa: ANN401
    w.insert(
        t.users,
        {
            "name": e.name,
            "user_id": str(e.originator_id),
            "role": e.role,
            "controller": e.controller,
            "confidentiality_signed": e.confidentiality_signed,
            "trained": e.trained,
            "created_at": e.timestamp,
            "created_by": e.actor,
            "revoked": False,
            "locked": False,
            "last_review": e.timestamp,
        },
    )


def _controller_registered(_p: Projector, w: Writes, e: Any, _pos: int) -> None:  # noqa: ANN401
    w.insert(
        t.controllers,
        {
            "ref": e.ref,
            "name": e.name,
            "country": e.country,
            "account": e.account,
            "agreement": e.agreement,
            "cvr": e.cvr,
            "registered_at": e.timestamp,
            "registered_by": e.actor,
        },
    )


def _instruction(p: Projector, w: Writes, e: Any, pos: int) -> None:  # noqa: ANN401
    ref: str = p.store.repository.get(e.originator_id, version=e.originator_version).ref
    w.insert(
        t.instructions,
        {
            "position": pos,
            "controller": ref,
            "kind": e.kind,
            "text": e.text,
            "details": e.details,
            "given_at": e.timestamp,
            "given_by": e.actor,
        },
    )


def _join(w: Writes, e: Any, pos: int) -> None:  # noqa: ANN401
    contact_id = str(e.originator_id)
    w.insert(
        t.consents,
        {
            "position": pos,
            "contact_id": contact_id,
            "list_name": e.list_name,
            "channel": e.consent["channel"],
            "method": e.consent["method"],
            "given_at": e.consent["given_at"],
        },
    )


def _contact_added(p: Projector, w: Writes, e: Any, pos: int) -> None:  # noqa: ANN401
    contact_id = str(e.originator_id)
    w.insert(
        t.contacts,
        {
            "contact_id": contact_id,
            "controller": e.controller,
            **p.contact_indexes(contact_id, e.controller, e.profile),
            "pseudonym": p.pseudonym(e.controller, contact_id),
            "restricted": False,
            "objected": False,
            "erased": False,
            "added_at": e.timestamp,
            "erased_at": None,
        },
    )
    w.insert(
        t.memberships,
        {
            "contact_id": contact_id,
            "list_name": e.list_name,
            "controller": e.controller,
            "subscribed": True,
            "since": e.timestamp,
            "unsubscribed_at": None,
        },
    )
    _join(w, e, pos)


def _controller_of(w: Writes, contact_id: str) -> str:
    w.flush()
    return str(
        w.conn.execute(
            t.contacts.select()
            .with_only_columns(t.contacts.c.controller)
            .where(t.contacts.c.contact_id == contact_id)
        ).scalar_one()
    )


def _subscribed(_p: Projector, w: Writes, e: Any, pos: int) -> None:  # noqa: ANN401
    contact_id = str(e.originator_id)
    controller = _controller_of(w, contact_id)
    w.execute(
        t.memberships.delete().where(
            (t.memberships.c.contact_id == contact_id) & (t.memberships.c.list_name == e.list_name)
        )
    )
    w.insert(
        t.memberships,
        {
            "contact_id": contact_id,
            "list_name": e.list_name,
            "controller": controller,
            "subscribed": True,
            "since": e.timestamp,
            "unsubscribed_at": None,
        },
    )
    _join(w, e, pos)


def _consent_given(_p: Projector, w: Writes, e: Any, pos: int) -> None:  # noqa: ANN401
    _join(w, e, pos)  # another channel's consent on a list the contact is on (SUBJ-8)


def _unsubscribed(_p: Projector, w: Writes, e: Any, _pos: int) -> None:  # noqa: ANN401
    w.execute(
        t.memberships.update()
        .where(
            (t.memberships.c.contact_id == str(e.originator_id))
            & (t.memberships.c.list_name == e.list_name)
        )
        .values(subscribed=False, unsubscribed_at=e.timestamp)
    )


def _rectified(p: Projector, w: Writes, e: Any, _pos: int) -> None:  # noqa: ANN401
    contact_id = str(e.originator_id)
    controller = _controller_of(w, contact_id)
    w.execute(
        t.contacts.update()
        .where(t.contacts.c.contact_id == contact_id)
        .values(**p.contact_indexes(contact_id, controller, e.profile))
    )


def _flag(w: Writes, e: Any, **values: Any) -> None:  # noqa: ANN401
    w.execute(
        t.contacts.update().where(t.contacts.c.contact_id == str(e.originator_id)).values(**values)
    )


def _restricted(_p: Projector, w: Writes, e: Any, _pos: int) -> None:  # noqa: ANN401
    _flag(w, e, restricted=True)


def _unrestricted(_p: Projector, w: Writes, e: Any, _pos: int) -> None:  # noqa: ANN401
    _flag(w, e, restricted=False)


def _objected(_p: Projector, w: Writes, e: Any, _pos: int) -> None:  # noqa: ANN401
    _flag(w, e, objected=True)


def _orphan_keys_destroyed(_p: Projector, w: Writes, e: Any, _pos: int) -> None:  # noqa: ANN401
    # As for ContactErased: a repair that died after recording its event completes here.
    for subject_id in e.subject_ids:
        w.shred[str(subject_id)] = e.timestamp


def _erased(_p: Projector, w: Writes, e: Any, _pos: int) -> None:  # noqa: ANN401
    contact_id = str(e.originator_id)
    # Finishing the shredding here makes an erasure interrupted after its event complete itself;
    # the projector destroys the batch's keys in one go before it commits the batch.
    w.shred[contact_id] = e.timestamp
    # The subject's messages are erased with it (RET-5): their keys go in the same destruction.
    w.flush()
    for (key_id,) in w.conn.execute(
        sa.select(t.messages.c.key_id).where(
            (t.messages.c.contact_id == contact_id) & t.messages.c.content_shredded.is_(False)
        )
    ):
        w.shred[str(key_id)] = e.timestamp
    _flag(w, e, erased=True, erased_at=e.timestamp, email_index=None, phone_index=None)
    w.execute(
        t.memberships.update()
        .where(t.memberships.c.contact_id == contact_id)
        .values(subscribed=False)
    )


def _denied(_p: Projector, w: Writes, e: Any, pos: int) -> None:  # noqa: ANN401
    w.insert(
        t.denials,
        {
            "position": pos,
            "at": e.timestamp,
            "actor": e.actor,
            "command": e.command,
            "controller": e.controller,
            "rule": e.rule,
            "reason": e.reason,
        },
    )


# The events this module projects, for the table in `readmodels/registry.py`.
HANDLERS: dict[str, Handler] = {
    "User.UserAdded": _user_added,
    "Controller.ControllerRegistered": _controller_registered,
    "Controller.InstructionRecorded": _instruction,
    "Contact.ContactAdded": _contact_added,
    "Contact.SubscribedToList": _subscribed,
    "Contact.ConsentGiven": _consent_given,
    "Contact.UnsubscribedFromList": _unsubscribed,
    "Contact.ContactRectified": _rectified,
    "Contact.ProcessingRestricted": _restricted,
    "Contact.RestrictionLifted": _unrestricted,
    "Contact.ProcessingObjectedTo": _objected,
    "Store.OrphanSubjectKeysDestroyed": _orphan_keys_destroyed,
    "Contact.ContactErased": _erased,
    "AccessDenial.AccessDenied": _denied,
}
