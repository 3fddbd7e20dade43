"""One sweep run, batch by batch (see services/retention.py for why it is safe to kill).

A batch is: load up to `batch` subjects, record their erasures and the run's
`SweepBatchCompleted` in one transaction, then destroy their keys. A controller is finished with
`ControllerSwept` on the run and `PersonalDataDeleted` on the controller, in one transaction:
the event whose inclusion proof the deletion certificate carries (RET-3).
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import IntegrityError as ESIntegrityError

from processor.domain.retention import SweepRun
from processor.kernel.errors import ConflictError
from processor.keys import records_subject
from processor.retention_policy import decision_policy_version
from processor.services.agreements import trial_end_notice
from processor.services.evidence import controller_evidence, swept_totals
from processor.services.lifecycle import account_facts
from processor.services.lookup import find_controller

if TYPE_CHECKING:
    from collections.abc import Iterator

    from processor.domain.contacts import Contact
    from processor.domain.messages import Message
    from processor.services.messages import MessagesService
    from processor.services.retention import Due, Plan, Progress, RetentionService
    from processor.services.subprocessors import SubprocessorsService
    from processor.session import Session


class Sweeper:
    """Carries out one sweep plan."""

    def __init__(
        self, session: Session, at: datetime, batch: int, progress: Progress | None
    ) -> None:
        self.s = session
        self.proc = session.proc
        self.at = at
        self.batch = batch
        self.progress = progress
        self.actor = session.user_name
        self.policy_version = decision_policy_version(self.proc.policies)

    @cached_property
    def _subprocessors_service(self) -> SubprocessorsService:
        """The subprocessors use cases this one uses, as the same person (made on first use)."""
        from processor.services.subprocessors import SubprocessorsService

        return SubprocessorsService(self.s)

    @cached_property
    def _messages_service(self) -> MessagesService:
        """The messages use cases this one uses, as the same person (made on first use)."""
        from processor.services.messages import MessagesService

        return MessagesService(self.s)

    @cached_property
    def _retention_service(self) -> RetentionService:
        """The retention use cases this one uses, as the same person (made on first use)."""
        from processor.services.retention import RetentionService

        return RetentionService(self.s)

    def run(self, plan: Plan) -> SweepRun:
        """Sweep every due controller, then message contents due on their own."""
        with self.proc.using_clock():
            run = self._start(plan)
            for due in plan.due:
                self._controller(run, due)
            self._messages(run, {d.controller.ref for d in plan.due})
            run.complete(
                actor=self.actor,
                controllers=len(run.controllers),
                contacts=run.contacts,
                messages=run.messages,
                trials_ended=len(plan.trials_ended),
            )
            self.proc.commit(run)
        return run

    def _get(self, ident: str) -> Any:  # noqa: ANN401 - contacts, messages, runs
        return self.proc.store.repository.get(uuid.UUID(ident))

    def _tick(self, done: int) -> None:
        if self.progress is not None and done:
            self.progress(done)

    def _start(self, plan: Plan) -> SweepRun:
        """Record the run, mark interrupted runs as finished by it, record ended demo trials."""
        unfinished = plan.unfinished_runs
        run = SweepRun(
            actor=self.actor,
            at=self.at,
            planned=[
                {"controller": d.controller.ref, "rule": d.decision.rule, "contacts": d.contacts}
                for d in plan.due
            ],
            resumes=unfinished,
            policy_version=self.policy_version,
        )
        earlier = [self._get(r) for r in unfinished]
        for old in earlier:
            old.supersede(actor=self.actor, by=str(run.id))
        ended: list[Any] = []
        for stale in plan.trials_ended:
            ctrl = find_controller(self.proc, stale.ref)
            facts = account_facts(self.proc, ctrl)
            assert facts.trial_ends_at is not None  # noqa: S101 - only demo trials are listed
            ctrl.record_trial_end(
                actor=self.actor,
                trial_ended_at=facts.trial_ends_at,
                due_at=facts.trial_ends_at
                + timedelta(days=facts.demo.retention_after_trial_days or 0),
                policy_version=self.policy_version,
            )
            ended.append(ctrl)
            # The controller is told with the offer to upgrade, in the same transaction (RET-4).
            ended.append(
                trial_end_notice(
                    self.proc,
                    ctrl,
                    self.actor,
                    facts.trial_ends_at,
                    facts.trial_ends_at
                    + timedelta(days=facts.demo.retention_after_trial_days or 0),
                )
            )
        self.proc.commit(run, *earlier, *ended)
        return run

    def _controller(self, run: SweepRun, due: Due) -> None:
        """Erase every live contact and message content of one due controller, then certify."""
        ref, decision = due.controller.ref, due.decision
        # System text citing the rule (the decision's `why` names no free text), so not sealed.
        reason = f"retention {decision.rule}: {decision.why} (sweep {run.id})"
        # Who is still live comes from the events, never from a read-model flag (issue 11).
        found = controller_evidence(self.proc.store, ref)
        for ids in _chunks(found.live_contacts, self.batch):
            aggs: list[Contact] = [a for a in map(self._get, ids) if not a.erased]
            if not aggs:
                continue
            events = sum(a.version for a in aggs)
            for agg in aggs:
                agg.erase(actor=self.actor, reason=reason, policy_version=self.policy_version)
            run.record_batch(
                actor=self.actor,
                controller=ref,
                rule=decision.rule,
                scope="controller",
                contacts=len(aggs),
                contact_events=events,
                messages=0,
            )
            self._save_then_shred([run, *aggs], [str(a.id) for a in aggs])
            self._tick(len(aggs))
        for ids in _chunks(found.unshredded_messages, self.batch):
            shredded = self._shred_messages(ids, reason)
            if not shredded:
                continue
            run.record_batch(
                actor=self.actor,
                controller=ref,
                rule=decision.rule,
                scope="controller",
                contacts=0,
                contact_events=0,
                messages=len(shredded),
            )
            self._commit_messages(run, shredded)
        totals = swept_totals(self.proc.store, ref)
        subjects, message_count = totals.contacts, totals.messages
        assert decision.due_at is not None  # noqa: S101 - a due decision has its date
        run.record_controller(
            actor=self.actor,
            controller=ref,
            rule=decision.rule,
            due_at=decision.due_at,
            subjects=subjects,
            messages=message_count,
        )
        ctrl = find_controller(self.proc, ref)
        ctrl.record_data_deleted(
            actor=self.actor,
            sweep_run=str(run.id),
            rule=decision.rule,
            why=decision.why,
            due_at=decision.due_at,
            subjects=subjects,
            messages=message_count,
            policy_version=self.policy_version,
        )
        notices = self._subprocessors_service.deletion_notices(ref)
        self.proc.commit(run, *notices, ctrl)
        # The controller's free text goes with its data (RET-3). The projector destroys the key
        # too when it applies `PersonalDataDeleted`, so a crash here is completed by it.
        self.proc.sealer.shred([records_subject(ref)], self.proc.now())

    def _messages(self, run: SweepRun, skip: set[str]) -> None:
        """Shred message contents due on their own (RET-7 hours passed, RET-5 recipient erased)."""
        hours = self._messages_service.content_hours()
        reasons = {
            "RET-7": f"retention RET-7: message content is kept {hours} hours",
            "RET-5": "retention RET-5: the recipient was erased",
        }
        while groups := self._retention_service.expired_messages(self.at, skip, self.batch):
            counts: Counter[tuple[str, str]] = Counter()
            shredded: list[Message] = []
            for rule, ids in groups.items():
                for message in self._shred_messages(ids, f"{reasons[rule]} (sweep {run.id})"):
                    counts[message.controller, rule] += 1
                    shredded.append(message)
            self._lagging(bool(shredded))
            for (controller, rule), n in sorted(counts.items()):
                run.record_batch(
                    actor=self.actor,
                    controller=controller,
                    rule=rule,
                    scope="message-content",
                    contacts=0,
                    contact_events=0,
                    messages=n,
                )
            self._commit_messages(run, shredded)

    def _shred_messages(self, ids: list[str], reason: str) -> list[Message]:
        messages: list[Message] = list(map(self._get, ids))
        return [
            msg
            for msg in messages
            if msg.shred_content(
                actor=self.actor, reason=reason, policy_version=self.policy_version
            )
        ]

    def _commit_messages(self, run: SweepRun, shredded: list[Message]) -> None:
        self._save_then_shred([run, *shredded], [msg.key_id for msg in shredded])
        self._tick(len(shredded))

    def _save_then_shred(self, aggregates: list[Any], key_ids: list[str]) -> None:
        """`Processor.commit`, with the batch's keys destroyed in one go before projecting.

        The events are stored first, so a crash before the keys are gone is completed by the
        projector; destroying them here, in one key-store transaction, spares the projector a
        transaction per subject.
        """
        try:
            self.proc.store.save(*aggregates)
        except ESIntegrityError:
            raise ConflictError(
                "the store changed while the sweep ran; nothing of this batch was saved, "
                "run the sweep again"
            ) from None
        self.proc.sealer.shred(key_ids, self.proc.now())
        self.proc.catch_up()

    def _lagging(self, progressed: bool) -> None:
        """Catch the read model up when a batch found only already-erased subjects."""
        if progressed:
            return
        self.proc.catch_up()
        raise ConflictError("another process swept the same subjects; run the sweep again")


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
