"""Who may be sent what, on whose behalf, and how it counts (INSTR-1, 7; SUBJ-3, 7, 8).

A message is processing on the controller's instruction: it is sent by a user of that
controller (never by the processor on its own, INSTR-7), relies on a documented instruction
(INSTR-1), goes on one list over one channel, and reaches only contacts whose consent covers
that list and channel (SUBJ-8) and who are still subscribed to that list (SUBJ-3). The account's
terms limit the volume, counted as the terms count it (SUBJ-7).

The rules take the kernel's `Rule` shape (`processor.kernel.rules`), as the sub-processor rules do:
each is named after what it requires, carries its obligation id, and explains itself without
naming the person.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from processor.kernel.rules import Rule

if TYPE_CHECKING:
    from processor.domain.contacts import Contact

SMS_UNIT_CHARS = 156
"""TC §5: an SMS is counted per 156 characters (a longer text is sent as several)."""

MESSAGE_INSTRUCTION_KINDS = frozenset({"marketing", "campaign", "general"})
"""Instruction kinds a message may rely on (INSTR-1); other kinds (transfer, user-request,
sensitive-data) instruct something else and cannot carry a send."""

ACTIVITY_OF_CHANNEL = {"email": "email", "sms": "sms"}
"""The sub-processor activity (SUB-4) that carries each channel."""


def sms_units(body: str | None) -> int:
    """How many SMS a text counts as: one per started 156 characters, at least one."""
    length = len(body or "")
    return max(1, -(-length // SMS_UNIT_CHARS))


# -- the recipient ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContactMustNotBeErased(Rule):
    """Nothing is sent to an erased contact (RET-5)."""

    obligation: ClassVar[str] = "SUBJ-4"
    erased: bool

    def _broken(self) -> bool:
        return self.erased

    def _explain(self) -> str:
        return "the contact is erased"


@dataclass(frozen=True)
class ContactMustNotBeRestricted(Rule):
    """A restricted contact is kept but not used (Art. 18)."""

    obligation: ClassVar[str] = "SUBJ-4"
    restricted: bool

    def _broken(self) -> bool:
        return self.restricted

    def _explain(self) -> str:
        return "processing of the contact is restricted (Art. 18)"


@dataclass(frozen=True)
class ContactMustNotHaveObjected(Rule):
    """A contact who objected gets no marketing (Art. 21)."""

    obligation: ClassVar[str] = "SUBJ-4"
    objected: bool

    def _broken(self) -> bool:
        return self.objected

    def _explain(self) -> str:
        return "the contact objected to processing (Art. 21)"


@dataclass(frozen=True)
class ContactMustBeSubscribed(Rule):
    """Unsubscribing from a list stops sending on that list (SUBJ-3)."""

    obligation: ClassVar[str] = "SUBJ-3"
    list_name: str | None
    subscribed: bool

    def _broken(self) -> bool:
        return not self.subscribed

    def _explain(self) -> str:
        where = f"list {self.list_name!r}" if self.list_name else "every list"
        return f"the contact is not subscribed to {where} (SUBJ-3)"


@dataclass(frozen=True)
class ConsentMustCoverChannel(Rule):
    """A message goes only within the consent given: its channel and its list (SUBJ-8)."""

    obligation: ClassVar[str] = "SUBJ-8"
    list_name: str | None
    channel: str
    covered: bool

    def _broken(self) -> bool:
        return not self.covered

    def _explain(self) -> str:
        where = f"list {self.list_name!r}" if self.list_name else "any subscribed list"
        return f"the contact gave no {self.channel} consent on {where} (SUBJ-8)"


@dataclass(frozen=True)
class ChannelNeedsAddress(Rule):
    """An e-mail needs an e-mail address, an SMS a phone number."""

    obligation: ClassVar[str] = "SUBJ-8"
    channel: str
    has_address: bool

    def _broken(self) -> bool:
        return not self.has_address

    def _explain(self) -> str:
        needed = "phone" if self.channel == "sms" else "email"
        return f"the contact has no {needed} for {self.channel}"


def covering_lists(contact: Contact, channel: str) -> list[str]:
    """The lists the contact is subscribed to with a consent for `channel` given since joining.

    A consent recorded before the current membership began (before an unsubscribe and a
    later re-subscription) no longer counts: leaving the list ended it.
    """
    found = []
    for name, membership in sorted(contact.lists.items()):
        if not membership.subscribed:
            continue
        if any(
            c.list_name == name and c.channel == channel and c.recorded_at >= membership.since
            for c in contact.consents
        ):
            found.append(name)
    return found


def recipient_rules(contact: Contact, list_name: str | None, channel: str) -> list[Rule]:
    """The rules a recipient must keep, in the order they are judged.

    With `list_name` the message goes on that list; without (a single message or a test), any
    list the contact is subscribed to with consent for the channel will do.
    """
    if list_name is None:
        subscribed = any(m.subscribed for m in contact.lists.values())
    else:
        membership = contact.lists.get(list_name)
        subscribed = membership is not None and membership.subscribed
    covered = covering_lists(contact, channel)
    needed = "phone" if channel == "sms" else "email"
    return [
        ContactMustNotBeErased(contact.erased),
        ContactMustNotBeRestricted(contact.restricted),
        ContactMustNotHaveObjected(contact.objected),
        ContactMustBeSubscribed(list_name, subscribed),
        ConsentMustCoverChannel(
            list_name, channel, list_name in covered if list_name else bool(covered)
        ),
        ChannelNeedsAddress(channel, needed in contact.fields),
    ]


# -- the sender and the instruction ------------------------------------------------------------


@dataclass(frozen=True)
class MessageMustBeSentForController(Rule):
    """The processor never contacts the controller's contacts on its own (INSTR-7)."""

    obligation: ClassVar[str] = "INSTR-7"
    sender: str
    sender_controller: str | None
    controller: str

    def _broken(self) -> bool:
        return self.sender_controller != self.controller

    def _explain(self) -> str:
        return (
            f"{self.sender} is not a user of controller {self.controller}: messages are sent "
            "only by the controller's own users, on its behalf (INSTR-7)"
        )


@dataclass(frozen=True)
class MessageMustRelyOnInstruction(Rule):
    """A message is processing on a documented instruction of the controller (INSTR-1)."""

    obligation: ClassVar[str] = "INSTR-1"
    controller: str
    number: int
    kind: str | None

    def _broken(self) -> bool:
        return self.kind not in MESSAGE_INSTRUCTION_KINDS

    def _explain(self) -> str:
        if self.kind is None:
            return f"controller {self.controller} gave no instruction {self.number}"
        kinds = ", ".join(sorted(MESSAGE_INSTRUCTION_KINDS))
        return (
            f"instruction {self.number} of controller {self.controller} is a {self.kind} "
            f"instruction; a message relies on one of: {kinds} (INSTR-1)"
        )


# -- the account's terms -----------------------------------------------------------------------


@dataclass(frozen=True)
class AccountMustAllowSms(Rule):
    """Freemium accounts send no SMS (SUBJ-7, TC §6)."""

    obligation: ClassVar[str] = "SUBJ-7"
    account: str
    channel: str
    sms_allowed: bool

    def _broken(self) -> bool:
        return self.channel == "sms" and not self.sms_allowed

    def _explain(self) -> str:
        return f"a {self.account} account sends no SMS (SUBJ-7)"


@dataclass(frozen=True)
class _EmailLimit(Rule):
    """An account's cap on e-mails, counted as the terms count it (SUBJ-7); `None` is no cap."""

    obligation: ClassVar[str] = "SUBJ-7"
    account: str
    limit: int | None
    sent: int
    sending: int

    def _broken(self) -> bool:
        return self.limit is not None and self.sent + self.sending > self.limit


@dataclass(frozen=True)
class AccountEmailLimit(_EmailLimit):
    """Demo accounts send at most 900 e-mails in all (SUBJ-7, TC §5)."""

    def _explain(self) -> str:
        return (
            f"a {self.account} account sends at most {self.limit} e-mails in total; "
            f"{self.sent} sent, {self.sending} more asked (SUBJ-7)"
        )


@dataclass(frozen=True)
class AccountMonthlyEmailLimit(_EmailLimit):
    """Freemium accounts send fewer than 1,000 e-mails a month, i.e. 999 (SUBJ-7, TC §6)."""

    def _explain(self) -> str:
        return (
            f"a {self.account} account sends at most {self.limit} e-mails a month; "
            f"{self.sent} sent this month, {self.sending} more asked (SUBJ-7)"
        )
