"""The retention sweep (RET-1 .. RET-7): what is due, deleting it, and the deletion certificate.

The sweep crypto-shreds in batches. Each batch stores its `ContactErased` (or
`MessageContentShredded`) events together with the run's `SweepBatchCompleted` in one event-store
transaction, then destroys the keys; the projector also destroys the key of every erasure event it
applies, so a run killed anywhere leaves nothing half-done: the next run (any command, in fact)
completes the shredding, finds the erased subjects gone from the read model, and continues with the
rest. Nothing is erased twice (an erased contact refuses a second erasure) and nothing is missed
(what is due is recomputed from the recorded facts on every run).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from processor.domain.retention import Decision
from processor.kernel.errors import RefusedError
from processor.keys import records_subject
from processor.readmodels import tables as t
from processor.retention_policy import load_retention_policy
from processor.services.evidence import controller_evidence, data_deleted_event, swept_totals
from processor.services.lifecycle import account_facts, decision_dict
from processor.services.lookup import find_controller

if TYPE_CHECKING:
    from processor.domain.controllers import Controller
    from processor.services.lifecycle import LifecycleService
    from processor.session import Session

Progress = Callable[[int], None]


@dataclass
class Due:
    """One controller whose data is due (or held, or scheduled) at the plan's time."""

    controller: Controller
    decision: Decision
    contacts: int
    messages: int
    # The termination's free text (recipient, legal ground), opened for the reader.
    texts: dict[str, str | None] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        term = self.controller.termination
        return {
            "controller": self.controller.ref,
            "account": self.controller.account,
            **decision_dict(self.decision),
            "effective": term.effective.isoformat() if term else None,
            "instruction": (term.instruction or "none") if term else None,
            "contacts": self.contacts,
            "messages": self.messages,
            **self.texts,
        }


@dataclass
class Plan:
    """Everything the retention rules make due at one time."""

    at: datetime
    due: list[Due] = field(default_factory=list)
    held: list[Due] = field(default_factory=list)
    scheduled: list[Due] = field(default_factory=list)
    # Open accounts a rule keeps on purpose (RET-4: upgraded demos), shown with that rule.
    kept: list[Due] = field(default_factory=list)
    trials_ended: list[Controller] = field(default_factory=list)
    expired_messages: dict[str, int] = field(default_factory=dict)
    unfinished_runs: list[str] = field(default_factory=list)

    @property
    def work(self) -> int:
        """How many subjects and message contents a sweep would shred."""
        return sum(d.contacts + d.messages for d in self.due) + sum(self.expired_messages.values())

    @property
    def is_empty(self) -> bool:
        """Whether a sweep has nothing at all to record."""
        return not (self.due or self.trials_ended or self.expired_messages or self.unfinished_runs)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {
            "at": self.at.isoformat(),
            "due": [d.as_dict() for d in self.due],
            "held": [d.as_dict() for d in self.held],
            "scheduled": [d.as_dict() for d in self.scheduled],
            "kept": [d.as_dict() for d in self.kept],
            "demo_trials_ended": [c.ref for c in self.trials_ended],
            "message_content_due": dict(self.expired_messages),
            "subjects_due": sum(d.contacts for d in self.due),
            "interrupted_runs": list(self.unfinished_runs),
        }


class RetentionService:
    """Lists what is due, sweeps it (GDPA), and certifies deletions (RET-3)."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.proc = session.proc

    @cached_property
    def _lifecycle_service(self) -> LifecycleService:
        """The lifecycle use cases this one uses, as the same person (made on first use)."""
        from processor.services.lifecycle import LifecycleService

        return LifecycleService(self.s)

    # -- what is due ----------------------------------------------------------------------------

    def due(self, at: datetime | None = None) -> dict[str, Any]:
        """What is due at `at` (default now) and why; nothing is recorded."""
        self.s.authorize("retention.read", command="retention due")
        return self.plan(at or self.proc.now()).as_dict()

    def plan(self, at: datetime) -> Plan:
        """Apply the rules to every controller at `at`."""
        plan = Plan(at=at)
        with self.proc.engines.readmodels.connect() as conn:
            refs = [r[0] for r in conn.execute(sa.select(t.controllers.c.ref).order_by("ref"))]
        for ref in refs:
            ctrl = find_controller(self.proc, ref)
            facts = account_facts(self.proc, ctrl)
            ends = facts.trial_ends_at
            if ends and at >= ends and not ctrl.trial_end_recorded and not facts.deleted_at:
                plan.trials_ended.append(ctrl)
            decision = self._lifecycle_service.decision(ctrl, at)
            target = {"due": plan.due, "held": plan.held, "scheduled": plan.scheduled}
            if decision.status == "open" and decision.rule:
                target["open"] = plan.kept
            if decision.status in target:
                contacts, messages = self._counts(ref)
                texts = self._lifecycle_service.termination_texts(ctrl)
                target[decision.status].append(Due(ctrl, decision, contacts, messages, texts))
        due_refs = {d.controller.ref for d in plan.due}
        runs = t.sweep_runs.c
        with self.proc.engines.readmodels.connect() as conn:
            plan.unfinished_runs = [
                str(r[0])
                for r in conn.execute(sa.select(runs.run_id).where(runs.completed_at.is_(None)))
            ]
        for rule, ids in self.expired_messages(at, due_refs, limit=None).items():
            plan.expired_messages[rule] = len(ids)
        return plan

    def _counts(self, ref: str) -> tuple[int, int]:
        c, m = t.contacts.c, t.messages.c
        with self.proc.engines.readmodels.connect() as conn:
            contacts = conn.execute(
                sa.select(sa.func.count()).where((c.controller == ref) & c.erased.is_(False))
            ).scalar_one()
            messages = conn.execute(
                sa.select(sa.func.count()).where(
                    (m.controller == ref) & m.content_shredded.is_(False)
                )
            ).scalar_one()
        return int(contacts), int(messages)

    def expired_messages(
        self, at: datetime, skip: set[str], limit: int | None
    ) -> dict[str, list[str]]:
        """Message contents due on their own: kept hours over (RET-7), recipient erased (RET-5)."""
        m, c = t.messages.c, t.contacts.c
        query = (
            sa.select(m.message_id, m.controller, c.erased)
            .join(t.contacts, c.contact_id == m.contact_id)
            .where(
                m.content_shredded.is_(False)
                & (c.erased.is_(True) | (m.content_expires_at <= at))
                & m.controller.notin_(skip or {""})
            )
            .order_by(m.message_id)
            .limit(limit)
        )
        out: dict[str, list[str]] = {}
        with self.proc.engines.readmodels.connect() as conn:
            for mid, _ctrl, erased in conn.execute(query):
                out.setdefault("RET-5" if erased else "RET-7", []).append(str(mid))
        return out

    # -- the sweep ------------------------------------------------------------------------------

    def sweep(
        self,
        at: datetime | None = None,
        *,
        dry_run: bool = False,
        progress: Progress | None = None,
        on_plan: Callable[[Plan], None] | None = None,
    ) -> dict[str, Any]:
        """Crypto-shred everything due at `at` (default now); a dry run records nothing."""
        self.s.authorize("retention.sweep", command="retention sweep")
        now = self.proc.now()
        at = at or now
        if at > now and not dry_run:
            raise RefusedError(
                f"a sweep at {at.isoformat()} is in the future: only --dry-run may look ahead",
                rule="SweepMustNotRunAhead",
            )
        plan = self.plan(at)
        report = {**plan.as_dict(), "dry_run": dry_run, "run": None}
        if dry_run or plan.is_empty:
            return {**report, "nothing_due": plan.is_empty}
        if on_plan is not None:
            on_plan(plan)
        from processor.services.sweeper import Sweeper

        sweeper = Sweeper(self.s, at, load_retention_policy().sweep_batch_size, progress)
        run = sweeper.run(plan)
        return {
            **report,
            "nothing_due": False,
            "run": str(run.id),
            "swept": run.controllers,
            "contacts_erased": run.contacts,
            "message_contents_shredded": run.messages,
        }

    # -- the certificate ------------------------------------------------------------------------

    def certificate(self, ref: str) -> dict[str, Any]:
        """The deletion certificate of a controller whose data is gone (RET-3).

        Every claim comes from the events and the key store, never from a read model: the
        `PersonalDataDeleted` event, one `ContactErased` event and a destroyed key for every
        contact the controller ever had, a `MessageContentShredded` event and a destroyed key
        for every message, and the destroyed records key. A certificate whose claim the events
        do not prove is refused rather than issued.
        """
        self.s.authorize("retention.certificate", command="retention certificate", controller=ref)
        ctrl = find_controller(self.proc, ref)
        deleted = data_deleted_event(self.proc.store, ref)
        if deleted is None:
            raise RefusedError(
                f"{ref}'s data is not deleted: there is no certificate yet",
                rule="DataMustBeDeleted",
            )
        position, event = deleted
        found = controller_evidence(self.proc.store, ref)
        keys = [*found.contacts, *found.messages.values(), records_subject(ref)]
        self.proc.sealer.prefetch(keys)
        unproven = [
            *(f"contact {c} has no erasure event" for c in found.live_contacts),
            *(f"message {m} has no shredding event" for m in found.unshredded_messages),
            *(f"the key of {k} is not destroyed" for k in keys if self.proc.sealer.key(k)),
        ]
        if unproven:
            raise RefusedError(
                f"{ref}'s deletion is not complete, so no certificate can claim it: "
                f"{unproven[0]} ({len(unproven)} unproven in all)",
                rule="CertificateMustBeProvenByEvents",
            )
        swept = swept_totals(self.proc.store, ref)
        contacts, messages = len(found.contacts), len(found.messages)
        term = ctrl.termination
        details = {
            "statement": "all personal data processed on behalf of the controller is deleted "
            "(SCC 11.1, Appendix C.4)",
            "controller": ref,
            "controller_name": ctrl.name,
            "agreement": ctrl.agreement,
            "deleted_at": event.timestamp.isoformat(),
            "rule": event.rule,
            "why": event.why,
            "due_at": event.due_at.isoformat(),
            "termination": None
            if term is None
            else {
                "effective": term.effective.isoformat(),
                "instruction": term.instruction or "none",
                "recorded_by": term.recorded_by,
            },
            "sweep_run": event.sweep_run,
            "subjects_made_unreadable": {
                "by_this_deletion": swept.contacts,
                "erased_earlier": contacts - swept.contacts,
                "total": contacts,
            },
            "message_contents_made_unreadable": {
                "by_this_deletion": swept.messages,
                "earlier": messages - swept.messages,
                "total": messages,
            },
            "events_made_unreadable": swept.contact_events + swept.messages,
            "records_key_destroyed": True,
            "evidence": {
                "erasure_events": sorted(found.erasures.values()),
                "shredding_events": sorted(found.shredded.values()),
            },
            "method": "crypto-shredding: every subject's and message's AES-256-GCM key was "
            "destroyed, and the key sealing the controller's free text (reasons, instructions, "
            "notes), so copies in backups are unreadable too (RET-5)",
            "policy_version": event.policy_version,
        }
        self.proc.settle()  # the certificate proves a signed record (the server signs in groups)
        return self.proc.ledger.receipt(position, kind="deletion-certificate", details=details)
