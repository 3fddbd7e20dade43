"""`processor status`: one screen for an operator, and a cron job's yes/no on whether to look.

It reads the store as it is (no catch-up, nothing recorded except the caller's login), so a
store whose read models or ledger lag behind the event log shows that lag rather than hiding
it. Each thing that needs a person's action is named in `attention`; a non-empty list makes the
command exit 1.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from processor.breaches.register import overdue_clocks
from processor.kernel.errors import IntegrityFailureError, NotFoundError
from processor.link.witness import newest_cosignature_time
from processor.readmodels import tables as t
from processor.services.security_policy import appointment
from processor.verifications import last_verification
from processor.versions import STORE_SCHEMA_VERSION

if TYPE_CHECKING:
    from processor.app import Processor
    from processor.services.retention import RetentionService
    from processor.services.staff import StaffService
    from processor.session import Session


class StatusService:
    """The store's state at a glance: where, how big, how fresh, and what is due."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.proc = session.proc

    @cached_property
    def _retention_service(self) -> RetentionService:
        """The retention use cases this one uses, as the same person (made on first use)."""
        from processor.services.retention import RetentionService

        return RetentionService(self.s)

    @cached_property
    def _staff_service(self) -> StaffService:
        """The staff use cases this one uses, as the same person (made on first use)."""
        from processor.services.staff import StaffService

        return StaffService(self.s)

    def _counts(self) -> dict[str, int]:
        def count(table: sa.Table, *where: sa.ColumnElement[bool]) -> int:
            return int(
                conn.execute(
                    sa.select(sa.func.count()).select_from(table).where(*where)
                ).scalar_one()
            )

        with self.proc.engines.readmodels.connect() as conn:
            return {
                "controllers": count(t.controllers),
                "contacts": count(t.contacts, t.contacts.c.erased.is_(False)),
                "contacts_erased": count(t.contacts, t.contacts.c.erased.is_(True)),
                "notices_unacknowledged": count(t.notices, t.notices.c.acknowledged_at.is_(None)),
                "users_locked": count(t.users, t.users.c.locked.is_(True)),
            }

    def _ledger(self, events: int) -> dict[str, Any]:
        ledger = self.proc.ledger
        try:
            head = ledger.head()
        except NotFoundError:
            head = None
        verified = last_verification(self.proc.settings)
        return {
            **_custody(self.proc),
            "size": head["size"] if head else 0,
            "root": head["root"] if head else None,
            "signed_at": head["signed_at"] if head else None,
            "signed_position": ledger.signed_position(),
            "unsigned_events": max(events - ledger.signed_position(), 0),
            "last_verified": None
            if verified is None
            else {
                "at": verified.at,
                "ok": verified.ok,
                "records_checked": verified.records_checked,
                "reason": verified.reason,
            },
        }

    def _subprocessor_findings(self) -> list[dict[str, Any]]:
        """`subprocessors check` now, grouped by rule (status needs no permission of its own)."""
        from processor.services.subprocessor_views import finding_view
        from processor.services.subprocessors import SubprocessorsService
        from subprocessors.decisions import check

        registry = SubprocessorsService(self.s)
        findings = check(
            registry.all_controller_facts(),
            registry.facts(),
            self.proc.now(),
            registry.policy,
            editions=registry.edition_lists(),
        )
        return _grouped_findings([finding_view(f, registry.policy.version) for f in findings])

    def _check_deviations(self) -> list[dict[str, Any]]:
        """The report's deviations of its sample checks and reviews, over the whole store."""
        from processor.audit import deviations, evidence

        begin = self.proc.store_info().created_on
        finish = self.proc.now() + timedelta(seconds=1)
        return deviations.check_deviations(evidence.checks(self.proc, None, begin, finish))

    def status(self) -> dict[str, Any]:
        """Everything `processor status` shows, with the list of what needs attention."""
        self.s.authorize("store.status", command="status")
        proc = self.proc
        now = proc.now()
        events = int(proc.store.recorder.max_notification_id() or 0)
        projected = proc.projector.position()
        counts = self._counts()
        ledger = self._ledger(events)
        plan = self._retention_service.plan(now)
        overdue = [
            r["name"] for r in self._staff_service.review_states() if r["overdue_for_review"]
        ]
        from processor.audit.userchanges import unreviewed  # ACC-13; only `status` needs it

        changes = unreviewed(proc)
        result: dict[str, Any] = {
            "store": proc.settings.store_label(),
            "backend": proc.settings.backend,
            "simulation": proc.simulation,
            "profile": proc.store_info().profile,
            "store_schema": STORE_SCHEMA_VERSION,
            "now": now.isoformat(),
            "counts": {**counts, "events": events},
            "ledger": ledger,
            "read_models": {
                "position": projected,
                "behind": max(events - projected, 0),
            },
            "retention": {
                "controllers_due": [d.controller.ref for d in plan.due],
                "subjects_due": sum(d.contacts for d in plan.due),
                "message_contents_due": sum(plan.expired_messages.values()),
                "demo_trials_ended": [c.ref for c in plan.trials_ended],
                "interrupted_runs": list(plan.unfinished_runs),
            },
            "staff_reviews_overdue": overdue,
            # Staff changes to a controller's users not yet reviewed by the GDPA (ACC-13).
            "staff_user_changes_unreviewed": [
                {k: c[k] for k in ("entry", "at", "actor", "controller", "user", "change")}
                for c in changes
            ],
            # The GDPA is appointed for a term; an expired one needs renewing (ACC-16).
            "gdpa_appointment": appointment(proc),
            "breach_clocks_overdue": [
                {"breach": str(b.id), "controller": c.controller, "clock": c.clock}
                for b, c in overdue_clocks(proc, now)
            ],
        }
        # Advice, not attention: it does not change the exit status (issue 25).
        result["advice"] = [
            f"controller {ref} has one active administrator ({admin}): a lockout or a lost "
            f"credential leaves it without one; {admin} adds a second with `processor users add "
            f"NAME --role administrator --controller {ref}`"
            for ref, admin in _single_administrators(proc)
        ]
        # What the GDPA's report lists as deviations, in the report's own words (issue 25:
        # `status`, the report and `subprocessors check` agree): sub-processor findings, each
        # with the command that resolves it, and the sample checks and reviews due.
        result["subprocessor_findings"] = self._subprocessor_findings()
        result["checks"] = self._check_deviations()
        result["attention"] = _attention(result, sweep_due=not plan.is_empty)
        from processor.keys.rotation import attention as key_attention

        # The custodian and its ratchet (RET-5).
        result["attention"] += key_attention(proc.keys, proc.policies.keys, proc.now)
        return result


def _finding_line(group: dict[str, Any]) -> str:
    """One attention line per rule `subprocessors check` finds broken, with its fix."""
    more = len(group["resolve"]) - 1
    return (
        f"`subprocessors check`: {group['count']} x {group['rule']} ({group['blocking']} "
        f"blocking); resolve: {group['resolve'][0]}"
        + (f" (and {more} more like it)" if more else "")
    )


def _grouped_findings(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`subprocessors check`'s findings by rule, as the report counts them, with one fix each."""
    groups: dict[str, dict[str, Any]] = {}
    for f in findings:
        group = groups.setdefault(
            f["rule"],
            {"rule": f["rule"], "obligation": f["obligation"], "count": 0, "blocking": 0,
             "resolve": []},
        )  # fmt: skip
        group["count"] += 1
        group["blocking"] += int(bool(f["blocking"]))
        if f["resolve"] not in group["resolve"]:
            group["resolve"].append(f["resolve"])
    return sorted(groups.values(), key=lambda g: (g["obligation"], g["rule"]))


def _single_administrators(proc: Processor) -> list[tuple[str, str]]:
    """Controllers with exactly one active administrator, and that one's name.

    A controller whose only administrator is locked, or has lost the credential, can neither
    rotate it nor approve a grant until the processor's staff step in (ACC-8, ACC-13); a second
    administrator avoids that.
    """
    from processor.notices.post import records_erased

    u = t.users.c
    active = u.revoked.is_(False) & u.locked.is_(False) & (u.role == "administrator")
    with proc.engines.readmodels.connect() as conn:
        rows = conn.execute(
            sa.select(u.controller, sa.func.count(), sa.func.min(u.name))
            .where(active & u.controller.is_not(None))
            .group_by(u.controller)
            .order_by(u.controller)
        ).all()
    # A controller whose data is deleted needs no one to act for it any more.
    return [
        (str(ref), str(name))
        for ref, n, name in rows
        if n == 1 and not records_erased(proc, str(ref))
    ]


def _custody(proc: Processor) -> dict[str, Any]:
    """The checkpoint log's custody and the witnesses' freshness (AUD-4, `ledgercustody`)."""
    ledger = proc.ledger
    try:
        problem = ledger.custody().problem()
    except IntegrityFailureError as exc:
        problem = str(exc)
    last = newest_cosignature_time(ledger)
    hours = proc.policies.ledger.witness_interval_hours
    overdue = last is not None and proc.now() - last > timedelta(hours=hours)
    return {
        "checkpoint_log_problem": problem,
        "witness": {
            "last_cosigned_at": None if last is None else last.isoformat(),
            "interval_hours": hours,
            "overdue": overdue,
        },
    }


def _attention(status: dict[str, Any], *, sweep_due: bool) -> list[str]:
    """What a person should act on, one short line each (empty: all is well)."""
    found: list[str] = []
    ledger = status["ledger"]
    verified = ledger["last_verified"]
    if verified is not None and not verified["ok"]:
        found.append(f"the last `ledger verify` failed: {verified['reason']}")
    if ledger["checkpoint_log_problem"]:
        found.append(f"integrity failure: {ledger['checkpoint_log_problem']}")
    witness = ledger["witness"]
    if witness["overdue"]:
        found.append(
            f"no witness has cosigned a checkpoint for more than {witness['interval_hours']} h "
            f"(last at {witness['last_cosigned_at']}): run `processor ledger witness --url URL`"
        )
    if ledger["unsigned_events"]:
        found.append(f"{ledger['unsigned_events']} events not yet signed by the ledger")
    if status["read_models"]["behind"]:
        found.append(f"read models are {status['read_models']['behind']} events behind the log")
    if sweep_due:
        found.append("a retention sweep is due (`processor retention due`)")
    if status["staff_reviews_overdue"]:
        found.append(f"staff reviews overdue: {', '.join(status['staff_reviews_overdue'])}")
    if status["staff_user_changes_unreviewed"]:
        found.append(
            f"{len(status['staff_user_changes_unreviewed'])} staff changes to controllers' users"
            " await the GDPA's review (`processor audit sample`, then `audit review`)"
        )
    gdpa = status["gdpa_appointment"]
    if gdpa["expired"]:
        found.append(
            "the GDPA's appointment "
            + (f"expired on {gdpa['ends']}" if gdpa["ends"] else "is not on record")
            + ": renew it (`processor gdpa renew`)"
        )
    if status["breach_clocks_overdue"]:
        found.append(
            f"{len(status['breach_clocks_overdue'])} breach notification clocks overdue "
            "(`processor breaches list --overdue`)"
        )
    found += [_finding_line(group) for group in status["subprocessor_findings"]]
    found += [d["text"] for d in status["checks"]]
    counts = status["counts"]
    if counts["notices_unacknowledged"]:
        found.append(f"{counts['notices_unacknowledged']} notices not yet acknowledged")
    if counts["users_locked"]:
        found.append(f"{counts['users_locked']} users locked out (a GDPA may unlock them)")
    return found
