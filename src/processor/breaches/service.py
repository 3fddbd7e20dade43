"""Use cases of the breach register, behind the session's authorisation (BR-1 to BR-5).

The GDPA and the system manager run the register (`breaches.manage`). A controller's
administrator sees only the breaches it was notified of (`breaches.read`); its own part (the
authority notice, the decision on telling the subjects, the export) is `responses`. Every time
comes from the store's clock or from times the user recorded.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from processor.breaches import impact as impacts
from processor.breaches import notice as notices
from processor.breaches.clocks import AUTHORITY_HOURS, clocks_for
from processor.breaches.domain import (
    KINDS,
    MEASURE_KINDS,
    OPEN_STATUSES,
    PHASES,
    REGISTER_ID,
    STATUSES,
    Breach,
    BreachRegister,
)
from processor.breaches.register import affected, breach_clocks, edition_of, register_of
from processor.kernel.errors import InvalidInputError, NotFoundError, RefusedError
from processor.keys import open_records, seal_records
from processor.notices.domain import BREACH
from processor.notices.post import new_notice
from processor.services.lookup import find_controller
from processor.services.subprocessor_facts import SubprocessorRegistry

if TYPE_CHECKING:
    from processor.domain.users import User
    from processor.session import Session

PURPOSE = "breach"
TEXT_MAX = 10_000
_REFERENCE = re.compile(r"BR-(\d{1,9})", re.IGNORECASE)  # as `breaches list` shows it


def checked_text(value: str | None, what: str, *, required: bool = False) -> str:
    """A user's free text, stripped and bounded (`required`: not empty)."""
    text = (value or "").strip()
    if required and not text:
        raise InvalidInputError(f"{what} is required")
    if len(text) > TEXT_MAX:
        raise InvalidInputError(f"{what} is longer than {TEXT_MAX} characters")
    return text


def _not_ahead(now: datetime, *times: datetime | None) -> None:
    """A breach window lies in the past: an end not yet known is left open, never guessed.

    An end in the future would draw subjects added later into the impact.
    """
    if any(t is not None and t > now for t in times):
        raise InvalidInputError("--occurred cannot be in the future (leave its end open: FROM..)")


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


class BreachesService:
    """The breach register's use cases for one session."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.proc = session.proc

    # -- loading and showing ------------------------------------------------------------------

    def _user(self, permission: str, command: str, controller: str | None = None) -> User:
        return self.s.authorize(permission, command=command, controller=controller)

    def get(self, breach_id: str, user: User | None = None) -> Breach:
        """The breach, if the user may see it; another controller's breach is merely unknown.

        Either its id or its reference (`BR-0001`, as `breaches list` shows it) names it.
        """
        text = breach_id.strip()
        reference = _REFERENCE.fullmatch(text)
        if reference:
            number = int(reference.group(1))
            named = f"BR-{number:04d}"  # what the user gave: another's id must not show
            numbered = [b for b in register_of(self.proc) if b.number == number]
            if not numbered:
                raise NotFoundError(f"unknown breach {named}")
            wanted = numbered[0].id
        else:
            try:
                wanted = uuid.UUID(text)
            except ValueError:
                # Not an id: say so without echoing it (it may be anything, e.g. an e-mail).
                raise NotFoundError("unknown breach: give its id or its BR-number") from None
            named = str(wanted)
        found = self.proc.find(wanted)
        if not isinstance(found, Breach) or (
            user is not None
            and user.controller not in (None, *{n["controller"] for n in found.notifications})
        ):
            raise NotFoundError(f"unknown breach {named}")
        return found

    def _open(self, token: str) -> str:
        return open_records(self.proc.sealer, None, PURPOSE, token)

    def facts(self, breach: Breach) -> dict[str, Any]:
        """The breach's register entry, free text opened (times as ISO strings)."""
        return {
            "id": str(breach.id),
            "reference": f"BR-{breach.number:04d}",
            "opened_at": breach.created_on.isoformat(),
            "opened_by": breach.opened_by,
            "aware_at": breach.aware_at.isoformat(),
            "discovered_at": _iso(breach.discovered_at),
            "discovery": self._open(breach.discovery),
            "occurred_from": _iso(breach.occurred_from),
            "occurred_to": _iso(breach.occurred_to),
            "kinds": list(breach.kinds),
            "nature": self._open(breach.nature),
            "cause": self._open(breach.cause),
            "systems": list(breach.systems),
            "contact_point": self._open(breach.contact_point),
            "phase": breach.phase,
            "status": breach.status,
            "status_reason": self._open(breach.status_reason),
            "closed_at": _iso(breach.closed_at),
            "review": self._open(breach.review),
        }

    def measures(self, breach: Breach) -> list[dict[str, Any]]:
        """The measures taken, with their times, text opened (BR-5)."""
        return [
            {"kind": m["kind"], "at": _iso(m["at"]), "text": self._open(m["text"])}
            for m in breach.measures
        ]

    def view(self, breach: Breach, controller: str | None = None) -> dict[str, Any]:
        """The breach as shown: to staff everything, to a controller its own part only."""
        now = self.proc.now()
        clocks = [c.view(now) for c in breach_clocks(self.proc, breach)]
        impact = breach.impact
        notified = breach.notifications
        facts = self.facts(breach)
        if controller is not None:
            clocks = [c for c in clocks if c["controller"] == controller]
            notified = breach.notified(controller)
            impact = impacts.impact_seen_by(impact, controller)
            facts["systems"] = impacts.systems_seen_by(facts["systems"], controller)
        return {
            **facts,
            "measures": self.measures(breach),
            "impact": impact,
            "notifications": [
                {k: v for k, v in n.items() if k not in ("consequences", "measures")}
                for n in notified
            ],
            "authority_notices": {
                ref: {
                    **a,
                    "delay_reason": open_records(self.proc.sealer, ref, PURPOSE, a["delay_reason"]),
                }
                for ref, a in breach.authority_notices.items()
                if controller in (None, ref)
            },
            "subject_notices": {
                ref: {
                    **d,
                    "justification": open_records(
                        self.proc.sealer, ref, PURPOSE, d["justification"]
                    ),
                }
                for ref, d in breach.subject_notices.items()
                if controller in (None, ref)
            },
            "key_rotations": breach.key_rotations,
            "clocks": clocks,
            "overdue": any(c["state"] == "overdue" for c in clocks),
        }

    # -- the register -------------------------------------------------------------------------

    def open(
        self,
        *,
        kinds: list[str],
        nature: str,
        cause: str = "",
        discovery: str = "",
        discovered_at: datetime | None = None,
        aware_at: datetime | None = None,
        occurred_from: datetime | None = None,
        occurred_to: datetime | None = None,
        systems: list[str] | None = None,
        contact_point: str | None = None,
    ) -> dict[str, Any]:
        """Record a security incident (BR-4) and assess its impact at once (BR-2)."""
        self._user("breaches.manage", "breaches open")
        if not kinds or any(k not in KINDS for k in kinds):
            raise InvalidInputError(f"--kind must be one or more of {', '.join(KINDS)}")
        nature = checked_text(nature, "--nature", required=True)
        now = self.proc.now()
        aware = aware_at or now
        if aware > now or (discovered_at and discovered_at > now):
            raise InvalidInputError("awareness and discovery cannot be in the future")
        if discovered_at and aware < discovered_at:
            raise InvalidInputError("the processor cannot become aware before the discovery")
        if occurred_from and occurred_to and occurred_to < occurred_from:
            raise InvalidInputError("--occurred ends before it starts")
        _not_ahead(now, occurred_from, occurred_to)
        chosen = [impacts.parse_system(s) for s in systems or []]
        register = self.proc.find(REGISTER_ID)
        with self.proc.using_clock():
            if not isinstance(register, BreachRegister):
                register = BreachRegister(actor=self.s.user_name)
            breach = Breach(
                actor=self.s.user_name,
                number=len(register.breaches) + 1,
                kinds=sorted(set(kinds), key=KINDS.index),
                nature=seal_records(self.proc.sealer, None, PURPOSE, nature),
                cause=seal_records(self.proc.sealer, None, PURPOSE, checked_text(cause, "--cause")),
                discovery=seal_records(
                    self.proc.sealer, None, PURPOSE, checked_text(discovery, "--how")
                ),
                discovered_at=discovered_at,
                aware_at=aware,
                occurred_from=occurred_from,
                occurred_to=occurred_to,
                systems=chosen,
                # It names a person (who the controllers contact): sealed like other free text.
                contact_point=seal_records(
                    self.proc.sealer,
                    None,
                    PURPOSE,
                    checked_text(contact_point, "--contact-point") or self.s.user_name,
                ),
                policy_version=self.proc.policies.version,
            )
            register.register(actor=self.s.user_name, breach_id=str(breach.id))
            if chosen:
                breach.assess(self.s.user_name, self.assess(breach))
            self.proc.commit(register, breach)
        return self.view(breach)

    def assess(
        self, breach: Breach, *, with_ids: bool = False, end: datetime | None = None
    ) -> dict[str, Any]:
        """The breach's impact from the events up to `end` (`with_ids`: the subjects' ids too)."""
        end = end or breach.occurred_to or self.proc.now()
        found = impacts.assess(
            SubprocessorRegistry(self.s), breach.systems, breach.occurred_from, end
        )
        if not with_ids:
            found.pop("subject_ids", None)
        return found

    def impact(self, breach_id: str, controller: str | None = None) -> dict[str, Any]:
        """Recompute the impact from the events and record it (staff); controllers read theirs."""
        user = self._user("breaches.read", "breaches impact", controller)
        breach = self.get(breach_id, user)
        scope = user.controller or controller
        if user.controller is None:
            self._user("breaches.manage", "breaches impact", controller)
            if not breach.systems:
                raise InvalidInputError(
                    "name the affected systems first (`breaches update --system`)"
                )
            with self.proc.using_clock():
                breach.assess(self.s.user_name, self.assess(breach))
                self.proc.commit(breach)
        found = impacts.impact_seen_by(breach.impact or {"controllers": []}, scope) or {}
        return {"breach": str(breach.id), **found}

    def update(
        self,
        breach_id: str,
        *,
        phase: str | None = None,
        status: str | None = None,
        reason: str = "",
        measures: list[str] | None = None,
        measure_kind: str = "contain",
        measure_at: datetime | None = None,
        occurred_from: datetime | None = None,
        occurred_to: datetime | None = None,
        systems: list[str] | None = None,
        cause: str = "",
    ) -> dict[str, Any]:
        """Record what became known (Art. 33(4)), measures with their times (BR-5)."""
        self._user("breaches.manage", "breaches update")
        breach = self.get(breach_id)
        if phase is not None and phase not in PHASES:
            raise InvalidInputError(f"--phase must be one of {', '.join(PHASES)}")
        if status is not None and (status not in STATUSES or status == "closed"):
            raise InvalidInputError(
                f"--status must be one of {', '.join(s for s in STATUSES if s != 'closed')}"
                " (close with `breaches close`)"
            )
        if status == "not-a-breach" and not reason.strip():
            raise InvalidInputError("--reason is required when it is not a personal-data breach")
        if measure_kind not in MEASURE_KINDS:
            raise InvalidInputError(f"--measure-kind must be one of {', '.join(MEASURE_KINDS)}")
        texts = [checked_text(m, "--measure", required=True) for m in measures or []]
        chosen = [impacts.parse_system(s) for s in systems] if systems else None
        now = self.proc.now()
        if measure_at is not None and measure_at > now:
            raise InvalidInputError("--measure-at cannot be in the future")
        _not_ahead(now, occurred_from, occurred_to)
        changes = phase or status or occurred_from or occurred_to or chosen or cause.strip()
        if not changes and not texts:
            raise InvalidInputError("nothing to update: give --phase, --status, --measure, ...")
        with self.proc.using_clock():
            if changes:
                breach.update(
                    self.s.user_name,
                    phase=phase,
                    status=status,
                    reason=seal_records(
                        self.proc.sealer, None, PURPOSE, checked_text(reason, "--reason")
                    ),
                    occurred_from=occurred_from,
                    occurred_to=occurred_to,
                    systems=chosen,
                    cause=seal_records(
                        self.proc.sealer, None, PURPOSE, checked_text(cause, "--cause")
                    ),
                )
            for text in texts:
                breach.take_measure(
                    self.s.user_name,
                    measure_kind,
                    seal_records(self.proc.sealer, None, PURPOSE, text),
                    measure_at or now,
                )
            if (occurred_from or occurred_to or chosen) and breach.systems:
                breach.assess(self.s.user_name, self.assess(breach))
            self.proc.commit(breach)
        return self.view(breach)

    def notify(
        self,
        breach_id: str,
        *,
        controllers: list[str] | None = None,
        all_affected: bool = False,
        consequences: str = "",
        measures: str = "",
    ) -> dict[str, Any]:
        """Give each controller the Art. 33(3) content known so far, as a notice (BR-1, BR-2)."""
        self._user("breaches.manage", "breaches notify")
        breach = self.get(breach_id)
        if not breach.is_personal_data_breach or breach.status not in OPEN_STATUSES:
            raise RefusedError(
                f"the breach is {breach.status}: no notice is given", rule="BreachMustBeOpen"
            )
        if bool(controllers) == all_affected:
            raise InvalidInputError("give --controller ID (repeatable) or --all-affected")
        in_impact = [c["controller"] for c in (breach.impact or {}).get("controllers", [])]
        targets = in_impact if all_affected else sorted(set(controllers or []))
        if not targets:
            raise RefusedError(
                "the impact names no affected controller: assess it first (`breaches impact`)",
                rule="AffectedControllerMustBeKnown",
            )
        consequences = checked_text(consequences, "--consequences")
        measures = checked_text(measures, "--measures")
        facts = self.facts(breach)
        recorded = self.measures(breach)
        now = self.proc.now()
        given: list[dict[str, Any]] = []
        with self.proc.using_clock():
            made = []
            for ref in targets:
                find_controller(self.proc, ref)
                phase = breach.phase
                if phase == "initial" and breach.notified(ref):
                    phase = "follow-up"
                data = notices.content(
                    breach={
                        **facts,
                        "systems": impacts.systems_seen_by(facts["systems"], ref),
                    },
                    controller=ref,
                    impact=breach.impact,
                    consequences=consequences,
                    measures=measures,
                    recorded_measures=recorded,
                    phase=phase,
                    given_at=now.isoformat(),
                    authority_due=(now + timedelta(hours=AUTHORITY_HOURS)).isoformat(),
                )
                body = notices.markdown(data)
                note = new_notice(
                    self.proc,
                    controller=ref,
                    kind=BREACH,
                    title=f"Personal-data breach {facts['reference']} ({phase})",
                    body=body,
                    actor=self.s.user_name,
                    about=str(breach.id),
                )
                clock = clocks_for(
                    controller=ref,
                    edition=edition_of(self.proc, breach, ref),
                    discovered_at=breach.discovered_at,
                    aware_at=breach.aware_at,
                    notices=[],
                    authority_at=None,
                    editions=self.proc.policies.editions,
                )[0]
                breach.record_notification(
                    self.s.user_name,
                    ref,
                    str(note.id),
                    phase,
                    clock.due,
                    hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest(),
                    seal_records(self.proc.sealer, None, PURPOSE, consequences),
                    seal_records(self.proc.sealer, None, PURPOSE, measures),
                )
                made.append(note)
                given.append(
                    {
                        "controller": ref,
                        "notice_id": str(note.id),
                        "phase": phase,
                        "given_at": now.isoformat(),
                        "due": clock.due.isoformat(),
                        "on_time": now <= clock.due,
                        "content": data,
                    }
                )
            self.proc.commit(breach, *made)
        return {"breach": str(breach.id), "notices": given}

    # -- closing and keys -----------------------------------------------------------------------

    def close(self, breach_id: str, review: str) -> dict[str, Any]:
        """Close with the review: causes, measures and lessons (BR-4)."""
        self._user("breaches.manage", "breaches close")
        breach = self.get(breach_id)
        text = checked_text(review, "--review", required=True)
        with self.proc.using_clock():
            breach.close(self.s.user_name, seal_records(self.proc.sealer, None, PURPOSE, text))
            self.proc.commit(breach)
        return self.view(breach)

    def check_rotation(self, breach_id: str) -> Breach:
        """Authorise a key rotation for this breach (`breaches.manage` and `keys.rotate`)."""
        self._user("breaches.manage", "breaches rotate-keys")
        self._user("keys.rotate", "breaches rotate-keys")
        return self.get(breach_id)

    def record_rotation(self, breach_id: str, what: str, detail: dict[str, Any]) -> dict[str, Any]:
        """Record on the breach that key material was replaced (BR-5), with a measure."""
        breach = self.check_rotation(breach_id)
        with self.proc.using_clock():
            breach.record_key_rotation(self.s.user_name, what, detail)
            if breach.status in OPEN_STATUSES:
                text = f"key material replaced: {what} ({json.dumps(detail, sort_keys=True)})"
                breach.take_measure(
                    self.s.user_name,
                    "change-keys",
                    seal_records(self.proc.sealer, None, PURPOSE, text),
                    self.proc.now(),
                )
            self.proc.commit(breach)
        return self.view(breach)

    # -- lists ----------------------------------------------------------------------------------

    def list(
        self, *, open_only: bool = False, overdue_only: bool = False, controller: str | None = None
    ) -> dict[str, Any]:
        """The register: every breach (staff) or the controller's own, with its clocks."""
        user = self._user("breaches.read", "breaches list", controller)
        scope = user.controller or controller
        if controller is not None:
            find_controller(self.proc, controller)  # an unknown id is exit 2, not an empty list
        rows = []
        for breach in register_of(self.proc):
            if scope is not None and scope not in (
                {n["controller"] for n in breach.notifications}
                if user.controller
                else set(affected(breach))
            ):
                continue
            shown = self.view(breach, scope)
            if open_only and breach.status not in OPEN_STATUSES:
                continue
            if overdue_only and not shown["overdue"]:
                continue
            rows.append(shown)
        return {
            "now": self.proc.now().isoformat(),
            "breaches": rows,
            "overdue": sum(1 for r in rows for c in r["clocks"] if c["state"] == "overdue"),
        }

    def show(self, breach_id: str) -> dict[str, Any]:
        """One breach, as the user may see it."""
        user = self._user("breaches.read", "breaches show")
        breach = self.get(breach_id, user)
        return self.view(breach, user.controller)
