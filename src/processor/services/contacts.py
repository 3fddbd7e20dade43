"""Use cases for contacts: add, rectify, unsubscribe, restrict, object, find, show, lists.

Plaintext exists only inside these functions: values are sealed with the subject's key before
an aggregate sees them, and opened again only to answer an authorised read.
"""

from __future__ import annotations

import contextlib
import uuid
from functools import cached_property
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from processor.domain.contacts import Contact
from processor.kernel.errors import InvalidInputError, NotFoundError, RefusedError
from processor.keys import ERASED, Erased, blind_index, normalise_email, open_for_subject
from processor.readmodels import tables as t
from processor.services import validation as v
from processor.services.consent import as_given
from processor.services.lookup import find_controller
from processor.services.profile import (
    ConsentInput,
    check_sensitive_fields,
    check_sensitive_values,
    clean_profile,
    field_names,
)
from processor.services.writelock import contact_writes

if TYPE_CHECKING:
    from processor.domain.controllers import Controller
    from processor.services.access import AccessService
    from processor.services.subprocessors import SubprocessorsService
    from processor.session import Session

PROFILE = "profile"
EVIDENCE = "consent-evidence"
SOURCE = "source"
REASON = "reason"


class ContactsService:
    """Contacts of one controller, as seen by its users."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.proc = session.proc

    @cached_property
    def _subprocessors_service(self) -> SubprocessorsService:
        """The subprocessors use cases this one uses, as the same person (made on first use)."""
        from processor.services.subprocessors import SubprocessorsService

        return SubprocessorsService(self.s)

    @cached_property
    def _access_service(self) -> AccessService:
        """The access use cases this one uses, as the same person (made on first use)."""
        from processor.services.access import AccessService

        return AccessService(self.s)

    # -- lookups --------------------------------------------------------------------------------

    def email_index(self, controller: str, email: str) -> str:
        """The blind index of an e-mail for this controller."""
        return blind_index(
            self.proc.projector.index_key(controller), "email", normalise_email(email)
        )

    def id_by_email(
        self, controller: str, email: str, conn: sa.Connection | None = None
    ) -> str | None:
        """The id of the controller's live contact with this e-mail, if any.

        `conn` is a read-model connection to ask on (the write lock's own, on PostgreSQL),
        which saves checking one out of the pool with its BEGIN and COMMIT.
        """
        query = sa.select(t.contacts.c.contact_id).where(
            (t.contacts.c.controller == controller)
            & (t.contacts.c.email_index == self.email_index(controller, email))
            & t.contacts.c.erased.is_(False)
        )
        if conn is not None:
            row = conn.execute(query).first()
        else:
            with self.proc.engines.readmodels.connect() as own:
                row = own.execute(query).first()
        return None if row is None else str(row[0])

    def load(self, controller: str, contact: str) -> Contact:
        """Load a contact by id (or by e-mail when the argument contains `@`)."""
        if "@" in contact:
            found = self.id_by_email(controller, contact)
            if found is None:
                raise NotFoundError("no contact with that e-mail")
            contact = found
        try:
            cid = uuid.UUID(contact)
        except ValueError:
            raise InvalidInputError(f"invalid contact id {contact[:40]!r}") from None
        aggregate: object = self.proc.find(cid)
        if not isinstance(aggregate, Contact) or aggregate.controller != controller:
            raise NotFoundError(f"unknown contact {contact}")
        return aggregate

    def list_exists(self, controller: str, list_name: str) -> bool:
        """Whether any contact of the controller was ever on the list."""
        with self.proc.engines.readmodels.connect() as conn:
            return (
                conn.execute(
                    sa.select(t.memberships.c.contact_id)
                    .where(
                        (t.memberships.c.controller == controller)
                        & (t.memberships.c.list_name == list_name)
                    )
                    .limit(1)
                ).first()
                is not None
            )

    def resolve_live(self, controller: str, contact: str) -> uuid.UUID:
        """The id of a live contact, by id or e-mail, from the read model (no history replay)."""
        if "@" in contact:
            found = self.id_by_email(controller, contact)
            if found is None:
                raise NotFoundError("no contact with that e-mail")
            contact = found
        try:
            cid = uuid.UUID(contact)
        except ValueError:
            raise InvalidInputError(f"invalid contact id {contact[:40]!r}") from None
        with self.proc.engines.readmodels.connect() as conn:
            row = conn.execute(
                sa.select(t.contacts.c.erased).where(
                    (t.contacts.c.contact_id == str(cid)) & (t.contacts.c.controller == controller)
                )
            ).first()
        if row is None:
            raise NotFoundError(f"unknown contact {contact}")
        if row[0]:
            raise RefusedError("the contact is already erased", rule="ContactMustNotBeErased")
        return cid

    def active_count(self, controller: str) -> int:
        """How many contacts the controller holds (not erased)."""
        with self.proc.engines.readmodels.connect() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count()).where(
                        (t.contacts.c.controller == controller) & t.contacts.c.erased.is_(False)
                    )
                ).scalar_one()
            )

    def check_contact_limit(self, controller: Controller, adding: int = 1) -> None:
        """Freemium accounts hold fewer than 200 contacts (SUBJ-7)."""
        limit = self.proc.policies.accounts.accounts[controller.account].max_contacts  # type: ignore[index]
        if limit is not None and self.active_count(controller.ref) + adding > limit:
            raise RefusedError(
                f"a {controller.account} account holds at most {limit} contacts (SUBJ-7)",
                rule="AccountContactLimit",
            )

    # -- writes ---------------------------------------------------------------------------------

    def consent_payload(self, contact_id: str, consent: ConsentInput) -> dict[str, Any]:
        """Consent as stored: evidence sealed, time from the clock (SUBJ-2)."""
        evidence = (
            self.proc.sealer.seal(contact_id, EVIDENCE, consent.evidence)
            if consent.evidence
            else ""
        )
        payload = {
            "channel": consent.channel,
            "method": consent.method,
            "evidence": evidence,
            # When the person consented, as stated (SUBJ-2); else when it is recorded.
            "given_at": (consent.given_at or self.proc.now()).isoformat(),
        }
        if consent.requested_at is not None:
            # A double opt-in's sign-up, kept apart from its confirmation (only when stated, so
            # every other consent is stored as before).
            payload["requested_at"] = consent.requested_at.isoformat()
        return payload

    def add(
        self,
        controller: str,
        list_name: str,
        email: str,
        consent: str,
        phone: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        fields: dict[str, str] | None = None,
        source: str = "manual",
        consent_at: str | None = None,
    ) -> dict[str, Any]:
        """Add a contact, or add the list and consent to the contact with the same e-mail.

        `consent_at` is when the person consented, if earlier than now (SUBJ-2).
        """
        self.s.authorize("contacts.add", command="contacts add", controller=controller)
        ctrl = find_controller(self.proc, controller)
        self._check_account_open(ctrl)
        values = {**(fields or {}), "email": email}
        if phone:
            values["phone"] = phone
        if first_name:
            values["first_name"] = first_name
        if last_name:
            values["last_name"] = last_name
        profile = clean_profile(self.proc.policies.fields, values, require_email=True)
        check_sensitive_fields(self.proc.policies.fields, ctrl, list(profile.get("custom", {})))
        check_sensitive_values(self.proc.policies.fields, ctrl, profile)
        parsed_consent = as_given(ConsentInput.parse(consent), consent_at, self.proc.now())
        name = v.list_name(list_name)
        # One live contact per e-mail (SUBJ-4): look up and create under the controller's lock.
        with self.proc.using_clock(), contact_writes(self.proc, controller) as locked:
            existing = self.id_by_email(controller, email, locked)
            if existing is not None:
                contact = self.load(controller, existing)
                contact.subscribe(
                    actor=self.s.user_name,
                    list_name=name,
                    consent=self.consent_payload(existing, parsed_consent),
                )
                self.proc.commit(contact)
                return {"contact_id": existing, "created": False}
            self.check_contact_limit(ctrl)
            contact = self.new_contact(controller, profile, name, parsed_consent, source)
            self.proc.commit(contact)
            return {"contact_id": str(contact.id), "created": True}

    def new_contact(
        self,
        controller: str,
        profile: dict[str, Any],
        list_name: str,
        consent: ConsentInput,
        source: str,
        contact_id: uuid.UUID | None = None,
    ) -> Contact:
        """Create a subject key, seal the profile and build the `ContactAdded` aggregate."""
        cid = contact_id or uuid.uuid4()
        self.proc.sealer.new_subjects([str(cid)], self.proc.now())
        return self.new_contact_with_key(controller, profile, list_name, consent, source, cid)

    def new_contact_with_key(
        self,
        controller: str,
        profile: dict[str, Any],
        list_name: str,
        consent: ConsentInput,
        source: str,
        cid: uuid.UUID,
    ) -> Contact:
        """Build the `ContactAdded` aggregate for a subject whose key already exists."""
        return Contact(
            id=cid, **self.added_values(controller, profile, list_name, consent, source, cid)
        )

    def added_values(
        self,
        controller: str,
        profile: dict[str, Any],
        list_name: str,
        consent: ConsentInput,
        source: str,
        cid: uuid.UUID,
        email_index: str | None = None,
    ) -> dict[str, Any]:
        """The sealed values of a new contact's `ContactAdded`, its indexes hinted to the projector.

        One place for `contacts add` and the import's directly built events
        (`processor.bulk.contacts`), so both store the same values. `email_index`, when the
        caller has derived it from this profile already, saves deriving it again.
        """
        subject, sealer = str(cid), self.proc.sealer
        sealed = sealer.seal(subject, PROFILE, profile)
        self.proc.projector.hint(subject, controller, sealed, profile, email_index)
        return {
            "actor": self.s.user_name,
            "controller": controller,
            "profile": sealed,
            "fields": field_names(profile),
            # An import's file name may name a person ("anne-quixote.csv"): sealed (RET-5).
            "source": sealer.seal(subject, SOURCE, source),
            "list_name": list_name,
            "consent": self.consent_payload(subject, consent),
        }

    def update(self, controller: str, contact: str, sets: dict[str, str]) -> dict[str, Any]:
        """Rectify fields (SUBJ-4); an empty value removes a field (e-mail cannot be removed)."""
        self.s.authorize("contacts.update", command="contacts update", controller=controller)
        if not sets:
            raise InvalidInputError("nothing to change: give --set KEY=VALUE")
        ctrl = find_controller(self.proc, controller)
        self._check_account_open(ctrl)
        agg = self.load(controller, contact)
        current = self.opened_profile(agg)
        if isinstance(current, Erased):
            raise RefusedError("the contact is erased", rule="ContactMustNotBeErased")
        merged = {k: val for k, val in current.items() if k != "custom"}
        merged.update(current.get("custom", {}))
        merged.update(sets)
        profile = clean_profile(self.proc.policies.fields, merged, require_email=True)
        check_sensitive_fields(self.proc.policies.fields, ctrl, list(profile.get("custom", {})))
        check_sensitive_values(self.proc.policies.fields, ctrl, profile)
        changed = sorted(sets)
        # A new e-mail must stay unique until the rectification is projected: under the lock.
        lock = (
            contact_writes(self.proc, controller) if "email" in sets else contextlib.nullcontext()
        )
        with self.proc.using_clock(), lock:
            if "email" in sets:
                other = self.id_by_email(controller, profile["email"])
                if other is not None and other != str(agg.id):
                    raise RefusedError(
                        "another contact already has that e-mail", rule="EmailIsUnique"
                    )
            agg.rectify(
                actor=self.s.user_name,
                profile=self.proc.sealer.seal(str(agg.id), PROFILE, profile),
                changed_fields=changed,
                fields=field_names(profile),
            )
            # SUBJ-5: the rectification is queued for every recipient, in the same commit.
            notices = self._subprocessors_service.recipient_notices(
                controller, agg, "rectification"
            )
            self.proc.commit(*notices, agg)
        return {"contact_id": str(agg.id), "changed": changed}

    def unsubscribe(self, controller: str, contact: str, list_name: str) -> dict[str, Any]:
        """Stop sending from a list; the data stays (SUBJ-3)."""
        self.s.authorize(
            "contacts.unsubscribe", command="contacts unsubscribe", controller=controller
        )
        agg = self.load(controller, contact)
        if list_name not in agg.lists and not self.list_exists(controller, list_name):
            raise NotFoundError(f"unknown list {list_name!r}")
        with self.proc.using_clock():
            agg.unsubscribe(actor=self.s.user_name, list_name=list_name)
            self.proc.commit(agg)
        return {"contact_id": str(agg.id), "list": list_name, "subscribed": False}

    def set_state(self, action: str, controller: str, contact: str, reason: str) -> dict[str, Any]:
        """Restrict, lift a restriction or object (SUBJ-4); the reason is sealed."""
        permission = "contacts.object" if action == "object" else "contacts.restrict"
        self.s.authorize(permission, command=f"contacts {action}", controller=controller)
        agg = self.load(controller, contact)
        with self.proc.using_clock():
            sealed = (
                self.proc.sealer.seal(str(agg.id), REASON, reason)
                if reason and not agg.erased
                else ""
            )
            method = {
                "restrict": agg.restrict,
                "unrestrict": agg.unrestrict,
                "object": agg.object_to_processing,
            }[action]
            method(actor=self.s.user_name, reason=sealed)
            # SUBJ-5: a (new) restriction is queued for every recipient, in the same commit.
            kind = "restriction" if action == "restrict" else None
            notices = self._subprocessors_service.recipient_notices(controller, agg, kind)
            self.proc.commit(*notices, agg)
        return {
            "contact_id": str(agg.id),
            "restricted": agg.restricted,
            "objected": agg.objected,
        }

    # -- reads ----------------------------------------------------------------------------------

    def opened_profile(self, agg: Contact) -> dict[str, Any] | Erased:
        """The contact's personal fields, or ERASED."""
        opened = self.proc.sealer.open(str(agg.id), PROFILE, agg.profile)
        return opened if isinstance(opened, Erased) else dict(opened)

    def view(self, agg: Contact) -> dict[str, Any]:
        """Everything held about a contact, opened for an authorised reader (SUBJ-4)."""
        profile = self.opened_profile(agg)
        cid = str(agg.id)
        erased = isinstance(profile, Erased)
        return {
            "contact_id": cid,
            "controller": agg.controller,
            "erased": agg.erased or erased,
            "erased_at": agg.erased_at.isoformat() if agg.erased_at else None,
            "fields": str(ERASED) if erased else profile,
            "field_names": agg.fields,
            "source": open_for_subject(self.proc.sealer, cid, SOURCE, agg.source),
            "added_at": agg.created_on.isoformat(),
            "added_by": agg.added_by,
            "restricted": agg.restricted,
            "objected": agg.objected,
            "lists": {
                name: {
                    "subscribed": m.subscribed,
                    "since": m.since.isoformat(),
                    "unsubscribed_at": m.unsubscribed_at.isoformat() if m.unsubscribed_at else None,
                }
                for name, m in sorted(agg.lists.items())
            },
            "consents": [
                {
                    "list": c.list_name,
                    "channel": c.channel,
                    "method": c.method,
                    "evidence": (
                        str(self.proc.sealer.open(cid, EVIDENCE, c.evidence)) if c.evidence else ""
                    ),
                    "given_at": c.given_at,
                    "requested_at": c.requested_at or None,
                    "recorded_at": c.recorded_at.isoformat(),
                }
                for c in agg.consents
            ],
        }

    def _check_account_open(self, ctrl: Controller) -> None:
        """Refuse a change to a closed account's contacts (RET-1, RET-4).

        The retention rules it judges by are imported here, by the commands that change
        contacts, not by every read (issue 28).
        """
        from processor.services.lifecycle import check_account_open

        check_account_open(self.proc, ctrl)

    def find(self, controller: str, email: str) -> dict[str, Any]:
        """Find a live contact by e-mail (through the blind index)."""
        user = self.s.authorize("contacts.find", command="contacts find", controller=controller)
        find_controller(self.proc, controller)
        found = self.id_by_email(controller, email)
        if found is None:
            raise NotFoundError("no contact with that e-mail")
        agg = self.load(controller, found)
        if user.controller is not None:
            self._access_service.record_subject_read(controller, found, "contacts find")
        return self.view(agg)

    def show(self, controller: str, contact: str) -> dict[str, Any]:
        """Show one contact."""
        user = self.s.authorize("contacts.show", command="contacts show", controller=controller)
        find_controller(self.proc, controller)
        agg = self.load(controller, contact)
        if user.controller is not None:
            self._access_service.record_subject_read(controller, str(agg.id), "contacts show")
        return self.view(agg)

    def list_contacts(self, controller: str, limit: int, offset: int = 0) -> dict[str, Any]:
        """The controller's contacts that are not erased, a page at a time, oldest first.

        What a client syncing its audience reads (as Mailchimp's members endpoint): each with
        its e-mail and names, whether processing is restricted or objected to, and the lists it
        is subscribed to. `offset` skips that many of the stable order (the HTTP cursor).
        """
        self.s.authorize("contacts.find", command="contacts list", controller=controller)
        find_controller(self.proc, controller)
        c = t.contacts.c
        live = (c.controller == controller) & c.erased.is_(False)
        with self.proc.engines.readmodels.connect() as conn:
            total = conn.execute(sa.select(sa.func.count()).where(live)).scalar_one()
            ids = [
                str(r[0])
                for r in conn.execute(
                    sa.select(c.contact_id).where(live).order_by(c.contact_id)
                    .offset(offset).limit(limit)
                )
            ]  # fmt: skip
        self.proc.sealer.prefetch(ids)
        items = []
        for cid, agg in zip(
            ids, self.proc.store.get_many([uuid.UUID(i) for i in ids]), strict=True
        ):
            profile = self.opened_profile(agg)
            fields = {} if isinstance(profile, Erased) else profile
            items.append(
                {
                    "contact_id": cid,
                    "email": fields.get("email"),
                    "first_name": fields.get("first_name"),
                    "last_name": fields.get("last_name"),
                    "restricted": agg.restricted,
                    "objected": agg.objected,
                    "lists": sorted(n for n, m in agg.lists.items() if m.subscribed),
                }
            )
        return {"controller": controller, "count": total, "contacts": items}

    def list_members(
        self, controller: str, list_name: str, limit: int | None = None, offset: int = 0
    ) -> dict[str, Any]:
        """The current list: subscribed, not restricted, not objected, not erased.

        `offset` skips that many members of the stable order (the HTTP API's cursor pages).
        """
        self.s.authorize("lists.show", command="lists show", controller=controller)
        find_controller(self.proc, controller)
        m, c = t.memberships, t.contacts
        base = (
            sa.select(m.c.contact_id)
            .join(c, c.c.contact_id == m.c.contact_id)
            .where(
                (m.c.controller == controller)
                & (m.c.list_name == list_name)
                & m.c.subscribed.is_(True)
                & c.c.restricted.is_(False)
                & c.c.objected.is_(False)
                & c.c.erased.is_(False)
            )
        )
        with self.proc.engines.readmodels.connect() as conn:
            known = conn.execute(
                sa.select(sa.func.count()).where(
                    (m.c.controller == controller) & (m.c.list_name == list_name)
                )
            ).scalar_one()
            if not known:
                raise NotFoundError(f"unknown list {list_name!r}")
            total = conn.execute(
                sa.select(sa.func.count()).select_from(base.subquery())
            ).scalar_one()
            ids = [
                r[0]
                for r in conn.execute(
                    base.order_by(m.c.since, m.c.contact_id).offset(offset).limit(limit)
                )
            ]
        self.proc.sealer.prefetch(ids)
        members = []
        for cid in ids:
            agg: Contact = self.proc.store.repository.get(uuid.UUID(cid))
            profile = self.opened_profile(agg)
            fields = {} if isinstance(profile, Erased) else profile
            members.append(
                {
                    "contact_id": cid,
                    "email": fields.get("email"),
                    "first_name": fields.get("first_name"),
                    "last_name": fields.get("last_name"),
                }
            )
        return {"controller": controller, "list": list_name, "count": total, "members": members}
