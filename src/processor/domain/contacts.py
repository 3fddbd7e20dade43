"""Contacts: data subjects held for a controller, with consent, lists and restrictions.

Every personal value arrives here already sealed with the subject's key (`profile`,
`evidence`, `reason`): the aggregate, its events, any snapshot and any cache hold ciphertext
only, so an erasure (destroying the key) leaves no plaintext anywhere behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from processor.kernel.aggregate import ProcessorAggregate
from processor.kernel.errors import NotFoundError, RefusedError


@dataclass(frozen=True)
class Consent:
    """When and how consent was given (SUBJ-2); `evidence` is sealed."""

    list_name: str
    channel: str
    method: str
    evidence: str
    given_at: str
    recorded_at: datetime
    requested_at: str = ""  # a double opt-in's sign-up, when the controller stated it


@dataclass
class Membership:
    """A contact's membership of one list; unsubscribing keeps the data (SUBJ-3)."""

    subscribed: bool
    since: datetime
    unsubscribed_at: datetime | None = None


class ContactMustNotBeErased:
    """Rule: nothing more happens to an erased contact's data."""

    def is_broken(self, contact: Contact) -> bool:
        """Broken when the contact was erased."""
        return contact.erased

    message = "the contact is erased"


def _check(contact: Contact) -> None:
    rule = ContactMustNotBeErased()
    if rule.is_broken(contact):
        raise RefusedError(rule.message, rule=type(rule).__name__)


class Contact(ProcessorAggregate):
    """One data subject of one controller."""

    @event("ContactAdded")
    def __init__(
        self,
        id: UUID,  # noqa: A002 - the application chooses it: the subject key is created first
        actor: str,
        controller: str,
        profile: str,
        fields: list[str],
        source: str,
        list_name: str,
        consent: dict[str, Any],
    ) -> None:
        self.controller = controller
        self.profile = profile
        self.fields = list(fields)
        self.source = source
        self.added_by = actor
        self.lists: dict[str, Membership] = {}
        self.consents: list[Consent] = []
        self.restricted = False
        self.objected = False
        self.erased = False
        self.erased_at: datetime | None = None
        self._join(list_name, consent)

    def _join(self, list_name: str, consent: dict[str, Any]) -> None:
        self.lists[list_name] = Membership(subscribed=True, since=self.modified_on)
        self.consents.append(self._consent(list_name, consent))

    def _consent(self, list_name: str, consent: dict[str, Any]) -> Consent:
        return Consent(
            list_name=list_name,
            channel=str(consent["channel"]),
            method=str(consent["method"]),
            evidence=str(consent.get("evidence", "")),
            given_at=str(consent["given_at"]),
            recorded_at=self.modified_on,
            requested_at=str(consent.get("requested_at", "")),
        )

    def subscribe(self, actor: str, list_name: str, consent: dict[str, Any]) -> None:
        """Join a list with new consent; already subscribed with the same consent is a no-op.

        Already subscribed, a consent for another channel is recorded on its own (SUBJ-8): a
        consent states its channel and its list, and an SMS needs one of its own.
        """
        _check(self)
        membership = self.lists.get(list_name)
        if membership and membership.subscribed:
            channel = str(consent["channel"])
            if not any(
                c.list_name == list_name
                and c.channel == channel
                and c.recorded_at >= membership.since
                for c in self.consents
            ):
                self._consent_given(actor=actor, list_name=list_name, consent=consent)
            return
        self._subscribed(actor=actor, list_name=list_name, consent=consent)

    @event("ConsentGiven")
    def _consent_given(self, actor: str, list_name: str, consent: dict[str, Any]) -> None:
        self.consents.append(self._consent(list_name, consent))

    @event("SubscribedToList")
    def _subscribed(self, actor: str, list_name: str, consent: dict[str, Any]) -> None:
        self._join(list_name, consent)

    def unsubscribe(self, actor: str, list_name: str) -> None:
        """Leave a list: sending stops, the data stays (SUBJ-3)."""
        _check(self)
        membership = self.lists.get(list_name)
        if membership is None:
            raise NotFoundError(f"the contact is not on list {list_name!r}")
        if not membership.subscribed:
            return
        self._unsubscribed(actor=actor, list_name=list_name)

    @event("UnsubscribedFromList")
    def _unsubscribed(self, actor: str, list_name: str) -> None:
        membership = self.lists[list_name]
        membership.subscribed = False
        membership.unsubscribed_at = self.modified_on

    def rectify(
        self, actor: str, profile: str, changed_fields: list[str], fields: list[str]
    ) -> None:
        """Replace the sealed profile after a rectification (SUBJ-4)."""
        _check(self)
        self._rectified(actor=actor, profile=profile, changed_fields=changed_fields, fields=fields)

    @event("ContactRectified")
    def _rectified(
        self, actor: str, profile: str, changed_fields: list[str], fields: list[str]
    ) -> None:
        self.profile = profile
        self.fields = list(fields)

    def restrict(self, actor: str, reason: str) -> None:
        """Restrict processing (Art. 18): kept, but not used."""
        _check(self)
        if not self.restricted:
            self._restricted(actor=actor, reason=reason)

    @event("ProcessingRestricted")
    def _restricted(self, actor: str, reason: str) -> None:
        self.restricted = True

    def unrestrict(self, actor: str, reason: str) -> None:
        """Lift a restriction."""
        _check(self)
        if self.restricted:
            self._unrestricted(actor=actor, reason=reason)

    @event("RestrictionLifted")
    def _unrestricted(self, actor: str, reason: str) -> None:
        self.restricted = False

    def object_to_processing(self, actor: str, reason: str) -> None:
        """Record an objection (Art. 21); the contact is no longer processed for marketing."""
        _check(self)
        if not self.objected:
            self._objected(actor=actor, reason=reason)

    @event("ProcessingObjectedTo")
    def _objected(self, actor: str, reason: str) -> None:
        self.objected = True

    def erase(self, actor: str, reason: str, policy_version: str) -> None:
        """Record the erasure; the application destroys the key in the same command (RET-5)."""
        _check(self)
        self._erased(actor=actor, reason=reason, policy_version=policy_version)

    @classmethod
    def erasure_event(
        cls,
        contact_id: UUID,
        last_version: int,
        actor: str,
        reason: str,
        policy_version: str,
    ) -> ProcessorAggregate.Event:
        """The `ContactErased` event for a contact known by id and its last stored version.

        Erasure must cost the same for a contact with ten events as with ten thousand (it is
        only the destruction of a key), so it must not replay the history to append one event.
        The caller checks from the read model that the contact exists and is not erased; the
        store's (id, version) uniqueness refuses a concurrent change.
        """
        event_class = cls.__dict__["ContactErased"]
        erased: ProcessorAggregate.Event = event_class(
            originator_id=contact_id,
            originator_version=last_version + 1,
            timestamp=event_class.create_timestamp(),
            actor=actor,
            reason=reason,
            policy_version=policy_version,
        )
        return erased

    @event("ContactErased")
    def _erased(self, actor: str, reason: str, policy_version: str) -> None:
        self.erased = True
        self.erased_at = self.modified_on
        for membership in self.lists.values():
            membership.subscribed = False

    @property
    def is_current_member(self) -> bool:
        """Whether messages may go to this contact at all (not restricted, objected or erased)."""
        return not (self.erased or self.restricted or self.objected)
