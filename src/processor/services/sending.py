"""What a send asks before anything is recorded (INSTR-1, INSTR-7, SUB-3, 4, 6, SUBJ-7).

`MessagesService` asks them in this order, and the first broken rule refuses the whole send,
recorded as an `AccessDenied` with the rule (it does not count towards a lockout):

1. the sender is a user of the controller, not the processor acting on its own (INSTR-7);
2. the account's terms allow the channel and the volume (SUBJ-7);
3. the message relies on a documented instruction (INSTR-1);
4. the sub-processor that carries it may process this controller's data for this activity
   now: `SubprocessorsService.decide()` (SUB-2, SUB-3, SUB-4, SUB-6), the one place that knows.

Recipients are judged separately, one by one, from their aggregates (`domain.sending`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING

import sqlalchemy as sa

from processor.domain.sending import (
    ACTIVITY_OF_CHANNEL,
    MESSAGE_INSTRUCTION_KINDS,
    AccountEmailLimit,
    AccountMonthlyEmailLimit,
    AccountMustAllowSms,
    MessageMustBeSentForController,
    MessageMustRelyOnInstruction,
)
from processor.kernel.rules import first_broken
from processor.readmodels import tables as t
from processor.services.agreements import rely_on
from subprocessors import approved_from

if TYPE_CHECKING:
    from processor.domain.controllers import Controller
    from processor.kernel.rules import Rule
    from processor.services.subprocessors import SubprocessorsService
    from processor.session import Session
    from subprocessors import Decision


@dataclass(frozen=True)
class Usage:
    """What an account has sent, counted as the terms count it (SUBJ-7).

    Every e-mail recorded counts, tests and bounces included; SMS count in 156-character units.
    """

    emails_total: int
    emails_this_month: int
    sms_units_total: int
    sms_units_this_month: int


@dataclass(frozen=True)
class Carrier:
    """The sub-processor that carries a send, and the decision that allowed it."""

    name: str
    activity: str
    decision: Decision


def month_start(now: datetime) -> datetime:
    """The first moment of `now`'s calendar month (UTC): the terms count per month."""
    return now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


class SendChecks:
    """The checks of one send, asked by `MessagesService` inside its command."""

    def __init__(self, session: Session, command: str) -> None:
        self.s = session
        self.proc = session.proc
        self.command = command

    @cached_property
    def _subprocessors_service(self) -> SubprocessorsService:
        """The subprocessors use cases this one uses, as the same person (made on first use)."""
        from processor.services.subprocessors import SubprocessorsService

        return SubprocessorsService(self.s)

    def refuse(self, controller: str, rule: Rule | None) -> None:
        """Record and raise a broken rule (exit 1); nothing when `rule` is None."""
        if rule is not None:
            self.s.refuse_rule(self.command, controller, rule.name, rule.message)

    def sender(self, controller: str) -> None:
        """INSTR-7: the processor's own staff never send to a controller's contacts.

        Asked before the permission, so a staff member is refused by this rule by name even
        if a role were one day to carry the permission; another controller's user is an
        access refusal (ACC-9), which `authorize` records and counts.
        """
        me = self.s.find_user(self.s.user_name)
        if me is not None and me.controller is None:
            self.refuse(
                controller, MessageMustBeSentForController(self.s.user_name, None, controller)
            )

    def usage(self, controller: str, now: datetime) -> Usage:
        """The account's usage so far, from the message read model."""
        m = t.messages.c
        month = month_start(now)
        email, sms = m.channel == "email", m.channel == "sms"
        with self.proc.engines.readmodels.connect() as conn:
            row = conn.execute(
                sa.select(
                    sa.func.count().filter(email),
                    sa.func.count().filter(email & (m.sent_at >= month)),
                    sa.func.coalesce(sa.func.sum(m.units).filter(sms), 0),
                    sa.func.coalesce(sa.func.sum(m.units).filter(sms & (m.sent_at >= month)), 0),
                ).where(m.controller == controller)
            ).one()
        return Usage(*(int(x) for x in row))

    def channel(self, ctrl: Controller, channel: str) -> None:
        """SUBJ-7: the account's terms allow the channel at all (freemium sends no SMS)."""
        limits = self.proc.policies.accounts.accounts[ctrl.account]  # type: ignore[index]
        self.refuse(
            ctrl.ref, first_broken([AccountMustAllowSms(ctrl.account, channel, limits.sms_allowed)])
        )

    def account(self, ctrl: Controller, channel: str, sending: int, now: datetime) -> Usage:
        """SUBJ-7: the channel and the volume the account's terms allow; returns the usage."""
        limits = self.proc.policies.accounts.accounts[ctrl.account]  # type: ignore[index]
        used = self.usage(ctrl.ref, now)
        found: list[Rule] = [AccountMustAllowSms(ctrl.account, channel, limits.sms_allowed)]
        if channel == "email":
            found += [
                AccountEmailLimit(
                    ctrl.account, limits.max_emails_total, used.emails_total, sending
                ),
                AccountMonthlyEmailLimit(
                    ctrl.account, limits.max_emails_per_month, used.emails_this_month, sending
                ),
            ]
        self.refuse(ctrl.ref, first_broken(found))
        return used

    def instruction(self, ctrl: Controller, number: int | None) -> str:
        """INSTR-1: the documented instruction the message relies on, as it is recorded.

        A named instruction must exist and be of a kind that instructs sending. Without one,
        the controller's latest such instruction; without any, the signed agreement itself,
        whose description of the processing (sending the controller's e-mail and SMS to its
        contacts) is the standing documented instruction (SCC 4.1 and Annex B, DPA18 §2, §6).
        """
        if number is None:
            number = next(
                (
                    index
                    for index in range(len(ctrl.instructions), 0, -1)
                    if ctrl.instructions[index - 1].kind in MESSAGE_INSTRUCTION_KINDS
                ),
                None,
            )
            if number is None:
                return f"agreement:{ctrl.agreement}"
        given = ctrl.instructions[number - 1] if 0 < number <= len(ctrl.instructions) else None
        kind = given.kind if given is not None else None
        self.refuse(ctrl.ref, first_broken([MessageMustRelyOnInstruction(ctrl.ref, number, kind)]))
        # An instruction the processor flagged as infringing holds the send until settled (INSTR-2).
        rely_on(self.s, ctrl, number, self.command)
        return f"instruction:{number} ({kind})"

    def carrier(self, ctrl: Controller, channel: str, via: str | None) -> Carrier:
        """SUB-3, SUB-4, SUB-6: the sub-processor `decide()` allows to carry the send, or refuse.

        Named (`via`), that one is asked. Otherwise the policy chooses: the sub-processors on
        the controller's list approved for the activity, in registry order, and the first one
        `decide()` allows. When none is allowed the first one's refusal is the answer, so the
        rule that blocks the usual carrier is the one reported.
        """
        registry = self._subprocessors_service
        activity = ACTIVITY_OF_CHANNEL[channel]
        if via is not None:
            name = registry.get(via).name
            decisions = [(name, registry.decide(ctrl.ref, name, activity))]
        else:
            mine = registry.controller_facts(ctrl)
            decisions = [
                (sp.name, registry.decide(ctrl.ref, sp.name, activity))
                for sp in registry.facts()
                if activity in sp.activities and approved_from(mine, sp) is not None
            ]
        for name, decision in decisions:
            if decision.allowed:
                return Carrier(name, activity, decision)
        if not decisions:
            self.s.refuse_rule(
                self.command,
                ctrl.ref,
                "ActivityMustBeApproved",
                f"ActivityMustBeApproved: no sub-processor on controller {ctrl.ref}'s list is "
                f"approved for {activity} (SUB-4)",
            )
        name, refused = decisions[0]
        return self.s.refuse_rule(self.command, ctrl.ref, refused.rule, refused.reason)
