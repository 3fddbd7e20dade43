"""Use cases of the sub-processor registry (SUB-1 to SUB-7) and recipient notices (SUBJ-5).

The rules live in the pure core (`subprocessors`); this service loads what they judge. The
sub-processor side comes from the `SubProcessor` aggregates (replayed "as of" a moment for
time travel), the controller side from the `Controller` aggregate: its agreement edition,
its signature (the registration), and its documented transfer instructions. Two sources make
up those instructions:

- signing an edition's list: a signed list that names a sub-processor outside the EEA, with
  its basis, is the controller's written instruction for that transfer (SCC C.6, DPA18 §4).
  It is derived from the signature and the policy file (`signature_instructions`), not
  recorded again, so `controllers show` lists only what the controller itself instructed;
- `controllers instruct ID --kind transfer --country CC --basis BASIS`: an
  `InstructionRecorded` event whose details name the country and the basis.

Whether the basis holds on the day is always judged separately (Privacy Shield signed in
2018 is flagged from 2020-07-16 all the same).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any, get_args
from uuid import UUID, uuid5

import sqlalchemy as sa

from processor.domain.controllers import Controller
from processor.errors import InvalidInputError, NotFoundError, RefusedError
from processor.policies import Edition
from processor.readmodels import tables as t
from processor.readmodels.subprocessor_handlers import subprocessors as registry
from processor.services import validation as v
from subprocessors import (
    ControllerFacts,
    Decision,
    EditionList,
    Finding,
    NoticeRule,
    RecipientOutbox,
    SubProcessor,
    SubProcessorDetails,
    SubProcessorFacts,
    TransferInstruction,
    TransferPolicy,
    approved_from,
    check,
    details_from_entry,
    facts_as_of,
    in_use,
    load_edition_list,
    load_transfer_policy,
    may_process,
    notice_dates,
    recipients,
    signature_instructions,
    subprocessor_id,
)
from subprocessors.facts import day_of, start_of
from subprocessors.transfer_rules import third_countries
from subprocessors.vocabulary import TRANSFER_BASES

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from eventsourcing.domain import Aggregate

    from processor.session import Session
    from subprocessors import RecipientNotice, Supervision

OFFERED_EDITIONS: tuple[str, ...] = get_args(Edition)
"""The agreement editions controllers can sign (`controllers register --agreement`)."""

NOTICE_KINDS = {"rectification", "erasure", "restriction"}


@cache
def transfer_policy() -> TransferPolicy:
    """The Chapter V policy (`policies/transfers.toml`), loaded once per process."""
    return load_transfer_policy()


@cache
def edition_list(edition: str) -> EditionList | None:
    """An edition's approved list and notice rule, or None if the edition has no list."""
    try:
        return load_edition_list(edition)
    except NotFoundError:
        return None


def transfer_details(details: Mapping[str, str]) -> dict[str, str]:
    """Validate the details of a transfer instruction: an ISO country and a known basis."""
    country, basis = details.get("country", ""), details.get("basis", "")
    if not country or not basis:
        raise InvalidInputError(
            "a transfer instruction names both the country (--country) and the basis (--basis)"
        )
    if basis not in TRANSFER_BASES:
        raise InvalidInputError(
            f"unknown transfer basis {basis!r}: expected one of {sorted(TRANSFER_BASES)}"
        )
    return {"country": v.country(country), "basis": basis}


def period_text(rule: NoticeRule) -> str:
    """Say how long a notice period is and whether the agreement or the processor fixed it."""
    if rule.fixed_by_agreement:
        return f"{rule.days} days, fixed by the agreement ({rule.reference})"
    return (
        f"{rule.days} days, the processor's policy: the agreement says only "
        f'"in advance" ({rule.reference})'
    )


def entry_id(notice: RecipientNotice) -> str:
    """The id of one outbox entry: one change for one recipient (`outbox ack ID`)."""
    return str(uuid5(UUID(notice.notice_id), str(notice.subprocessor_id)))


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _supervision(s: Supervision) -> dict[str, Any]:
    return {
        "on": s.on.isoformat(),
        "method": s.method,
        "finding": s.finding,
        "recorded_at": s.recorded_at.isoformat(),
        "recorded_by": s.actor,
    }


def finding_view(f: Finding, policy_version: str) -> dict[str, Any]:
    """One finding of `check`, as printed: who, which rule, which dates, why."""
    return {
        "subprocessor": f.subprocessor,
        "subprocessor_id": str(f.subprocessor_id),
        "controller": f.controller_id,
        "rule": f.rule,
        "obligation": f.obligation,
        "blocking": f.blocking,
        "at": f.at.isoformat(),
        "dates": {key: value.isoformat() for key, value in sorted(f.dates.items())},
        "message": f.message,
        "policy_version": policy_version,
    }


class SubprocessorsService:
    """The registry, its change workflow, its checks and the recipient outboxes."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.proc = session.proc

    # -- policy -------------------------------------------------------------------------------

    @property
    def policy(self) -> TransferPolicy:
        """The transfer policy in force."""
        return transfer_policy()

    def notice_rules(self) -> dict[str, NoticeRule]:
        """Each offered edition's notice rule (SUB-2, INSTR-4)."""
        lists = {edition: edition_list(edition) for edition in OFFERED_EDITIONS}
        return {edition: found.notice for edition, found in lists.items() if found is not None}

    def edition_lists(self) -> dict[str, EditionList]:
        """Each offered edition's approved list (for the beneficiary-clause check)."""
        lists = {edition: edition_list(edition) for edition in OFFERED_EDITIONS}
        return {edition: found for edition, found in lists.items() if found is not None}

    # -- loading ------------------------------------------------------------------------------

    def get(self, name: str) -> SubProcessor:
        """Load a sub-processor by name (case and spacing ignored) or fail with NotFoundError."""
        if not name.strip():
            raise InvalidInputError("a sub-processor name is needed")
        sid = subprocessor_id(name)
        if sid not in self.proc.store.repository:
            raise NotFoundError(f"unknown sub-processor {name!r}")
        found: object = self.proc.store.repository.get(sid)
        if not isinstance(found, SubProcessor):
            raise NotFoundError(f"unknown sub-processor {name!r}")
        return found

    def ids(self) -> list[UUID]:
        """Every sub-processor in the registry, in the order they were registered."""
        with self.proc.engines.readmodels.connect() as conn:
            rows = conn.execute(
                sa.select(registry.c.subprocessor_id).order_by(registry.c.position)
            ).scalars()
            return [UUID(row) for row in rows]

    def facts(self, at: datetime | None = None) -> list[SubProcessorFacts]:
        """Every sub-processor's facts now, or as the events stood at `at` (time travel)."""
        found: list[SubProcessorFacts] = []
        for sid in self.ids():
            if at is None:
                aggregate: SubProcessor = self.proc.store.repository.get(sid)
                found.append(aggregate.facts())
            else:
                then = facts_as_of(self.proc.store.events.get(sid), at)
                if then is not None:
                    found.append(then)
        return found

    def controller_refs(self) -> list[str]:
        """Every registered controller's id."""
        with self.proc.engines.readmodels.connect() as conn:
            rows = conn.execute(sa.select(t.controllers.c.ref).order_by(t.controllers.c.ref))
            return [str(row[0]) for row in rows]

    def controller_facts(self, controller: Controller) -> ControllerFacts:
        """What the rules need to know about a controller, from its aggregate."""
        signed_at = controller.registered_on
        listing = edition_list(controller.agreement)
        given: list[TransferInstruction] = []
        if listing is not None:
            given.extend(signature_instructions(listing, signed_at, self.policy))
        given.extend(
            TransferInstruction(
                country=i.details["country"],
                basis=i.details["basis"],
                given_at=i.given_at,
                text=i.text,
            )
            for i in controller.instructions
            if i.kind == "transfer" and "country" in i.details and "basis" in i.details
        )
        return ControllerFacts(
            controller_id=controller.ref,
            edition=controller.agreement,
            registered_at=signed_at,
            transfer_instructions=tuple(given),
        )

    def all_controller_facts(self) -> list[ControllerFacts]:
        """Facts of every registered controller."""
        return [
            self.controller_facts(self.s.controllers.get(ref)) for ref in self.controller_refs()
        ]

    def _outbox(self, controller: str, *, create: bool) -> RecipientOutbox | None:
        oid = RecipientOutbox.create_id(controller)
        if oid in self.proc.store.repository:
            box: RecipientOutbox = self.proc.store.repository.get(oid)
            return box
        if not create:
            return None
        return RecipientOutbox(controller_id=controller, actor=self.s.user_name)

    def _scope(self, permission: str, command: str, controller: str | None) -> str | None:
        """Authorise; a controller's users are always held to their own controller's view."""
        user = self.s.find_user(self.s.user_name)
        if controller is None and user is not None and user.controller is not None:
            controller = user.controller
        self.s.authorize(permission, command=command, controller=controller)
        if controller is not None:
            self.s.controllers.get(controller)
        return controller

    def _must_be_new(self, name: str) -> None:
        if subprocessor_id(name) in self.proc.store.repository:
            existing = self.get(name).name
            raise RefusedError(
                f"SubProcessorNamesAreUnique: {existing!r} is already in the registry",
                rule="SubProcessorNamesAreUnique",
            )

    # -- seeding (called when a controller registers) -----------------------------------------

    def seed_edition(self, edition: str) -> list[SubProcessor]:
        """The edition's approved list as new aggregates, when its first controller signs.

        Only the first controller of an edition brings the list in: a list entry added later
        would be approved for controllers who signed without it, which SUB-2 forbids (a new
        sub-processor is proposed instead). The list applies from the date the policy file
        gives (2018 edition: 2018-05-25); the current edition's list has no date, it applies
        from each controller's signature, so it is entered from the day of the first one.
        Entries whose name is already in the registry are left as they are.
        """
        listing = edition_list(edition)
        if listing is None:
            return []
        with self.proc.engines.readmodels.connect() as conn:
            signed = conn.execute(
                sa.select(sa.func.count()).where(t.controllers.c.agreement == edition)
            ).scalar_one()
        if signed:
            return []
        start = listing.list_in_force_from or day_of(self.proc.now())
        return [
            SubProcessor.add(
                details_from_entry(entry),
                editions=[edition],
                listed_from=start,
                actor=self.s.user_name,
            )
            for entry in listing.subprocessors
            if subprocessor_id(entry.name) not in self.proc.store.repository
        ]

    # -- commands -----------------------------------------------------------------------------

    def add(
        self,
        details: SubProcessorDetails,
        *,
        editions: Iterable[str] = (),
        listed_from: date | None = None,
    ) -> dict[str, Any]:
        """Enter a sub-processor on editions' approved lists (SUB-1), engaged from `listed_from`.

        A list entry is approved at signature, so it may only be added for controllers who
        sign from `listed_from` on (default: from now). If a controller of the edition signed
        before, it was not on the list that controller approved: that needs `propose` (SUB-2).
        """
        self.s.authorize("subprocessors.manage", command="subprocessors add")
        checked = self._validated(details)
        chosen = self._editions(editions)
        self._must_be_new(checked.name)
        now = self.proc.now()
        start = listed_from or day_of(now)
        for controller in self.all_controller_facts():
            signed = controller.registered_at
            before = signed < start_of(listed_from) if listed_from is not None else signed <= now
            if controller.edition in chosen and before:
                raise RefusedError(
                    f"ListEntryMustPrecedeSignature: controller {controller.controller_id} "
                    f"signed edition {controller.edition} on {day_of(controller.registered_at)}, "
                    f"before {checked.name} was on that list (from {start}); an added "
                    "sub-processor needs written notice first: use `subprocessors propose` (SUB-2)",
                    rule="ListEntryMustPrecedeSignature",
                )
        with self.proc.using_clock():
            sp = SubProcessor.add(
                checked, editions=sorted(chosen), listed_from=start, actor=self.s.user_name
            )
            self.proc.commit(sp)
        return self._staff_entry(sp.facts(), self._names())

    def propose(
        self, details: SubProcessorDetails, *, replaces: str | None = None
    ) -> dict[str, Any]:
        """Propose an added or replacing sub-processor: written notice to each affected controller.

        Without `replaces` every controller is affected; with it, those whose data the old one
        processes. Each notice says the first day it may be engaged, from the controller's
        edition (SUB-2, INSTR-4); the event records them all.
        """
        self.s.authorize("subprocessors.manage", command="subprocessors propose")
        checked = self._validated(details)
        self._must_be_new(checked.name)
        old = self.get(replaces) if replaces else None
        now = self.proc.now()
        controllers = self.all_controller_facts()
        if old is not None:
            old_facts = old.facts()
            affected = [c for c in controllers if in_use(c, old_facts, now)]
            editions = set(old_facts.editions) | {c.edition for c in affected}
        else:
            affected = controllers
            editions = set(OFFERED_EDITIONS)
        notices = notice_dates(affected, day_of(now), self.notice_rules())
        with self.proc.using_clock():
            sp = SubProcessor.propose(
                checked,
                notices=notices,
                actor=self.s.user_name,
                editions=sorted(editions),
                replaces=old.id if old is not None else None,
            )
            self.proc.commit(sp)
        facts = sp.facts()
        views = [self._notice(facts, c) for c in affected]
        last = max((date.fromisoformat(d) for d in notices.values()), default=day_of(now))
        return {
            "subprocessor": facts.name,
            "id": str(facts.subprocessor_id),
            "proposed_at": _iso(facts.proposed_at),
            "replaces": old.name if old is not None else None,
            "editions": sorted(editions),
            "notices": views,
            "may_be_engaged_from": last.isoformat(),
            "agreement_recorded": bool(facts.agreement_ref),
        }

    def object_to(self, name: str, controller: str, reason: str) -> dict[str, Any]:
        """Record a controller's objection during its notice period (SUB-3)."""
        self.s.authorize(
            "subprocessors.object", command="subprocessors object", controller=controller
        )
        self.s.controllers.get(controller)
        sp = self.get(name)
        with self.proc.using_clock():
            sp.object_to(controller, reason.strip(), actor=self.s.user_name)
            self.proc.commit(sp)
        objection = sp.objections[controller]
        return {
            "subprocessor": sp.name,
            "controller": controller,
            "objected_at": objection.at.isoformat(),
            "reason": objection.reason,
            "effect": f"{sp.name} will never process data of controller {controller}",
        }

    def engage(self, name: str) -> dict[str, Any]:
        """Engage a proposed sub-processor once every notice period has run (SUB-2)."""
        self.s.authorize("subprocessors.manage", command="subprocessors engage")
        sp = self.get(name)
        with self.proc.using_clock():
            sp.engage(actor=self.s.user_name)
            self.proc.commit(sp)
        facts = sp.facts()
        return {
            "subprocessor": sp.name,
            "engaged_at": _iso(facts.engaged_at),
            "for_controllers": sorted(c for c in facts.notices if c not in facts.objections),
            "blocked_by_objection": sorted(facts.objections),
        }

    def retire(self, name: str, reason: str) -> dict[str, Any]:
        """Take a sub-processor off every list (it stays a recipient of what it received)."""
        self.s.authorize("subprocessors.manage", command="subprocessors retire")
        if not reason.strip():
            raise InvalidInputError("retiring a sub-processor needs a reason (--reason)")
        sp = self.get(name)
        with self.proc.using_clock():
            sp.retire(reason.strip(), actor=self.s.user_name)
            self.proc.commit(sp)
        return {"subprocessor": sp.name, "retired_at": _iso(sp.retired_at), "reason": reason}

    def record_agreement(
        self,
        name: str,
        agreement_ref: str,
        *,
        agreement_date: date | None,
        beneficiary_clause: bool,
    ) -> dict[str, Any]:
        """Record the sub-processor agreement, so its copy can be produced on request (SUB-5)."""
        self.s.authorize("subprocessors.manage", command="subprocessors agreement")
        sp = self.get(name)
        with self.proc.using_clock():
            sp.record_agreement(
                agreement_ref.strip(),
                agreement_date=agreement_date,
                beneficiary_clause=beneficiary_clause,
                actor=self.s.user_name,
            )
            self.proc.commit(sp)
        return {"subprocessor": sp.name, "agreement": self._agreement(sp.facts())}

    def supervise(
        self, name: str, method: str, finding: str, on: date | None = None
    ) -> dict[str, Any]:
        """Document a supervision of a sub-processor and its finding (SUB-7)."""
        self.s.authorize("subprocessors.manage", command="subprocessors supervise")
        sp = self.get(name)
        with self.proc.using_clock():
            sp.supervise(
                on or day_of(self.proc.now()), method, finding.strip(), actor=self.s.user_name
            )
            self.proc.commit(sp)
        return {"subprocessor": sp.name, "supervision": _supervision(sp.supervisions[-1])}

    # -- questions ----------------------------------------------------------------------------

    def decide(
        self, controller: str, name: str, activity: str, at: datetime | None = None
    ) -> Decision:
        """Decide whether `name` may process `controller`'s data for `activity` (now or at `at`).

        The one question other parts ask (breach impact, sending): no authorisation of its
        own, it runs inside the command that asks it.
        """
        facts = self.controller_facts(self.s.controllers.get(controller))
        sp = self.get(name)
        when = at or self.proc.now()
        then = sp.facts() if at is None else facts_as_of(self.proc.store.events.get(sp.id), at)
        if then is None:
            return Decision(
                allowed=False,
                rule="MustBeOnControllersList",
                reason=f"MustBeOnControllersList: {sp.name} was not in the registry at {when}",
                obligation="SUB-1",
                policy_version=self.policy.version,
            )
        return may_process(facts, then, activity, when, self.policy)

    def listing(self, controller: str | None = None, at: datetime | None = None) -> dict[str, Any]:
        """The registry (staff), or one controller's approved and proposed sub-processors."""
        ref = self._scope("subprocessors.read", "subprocessors list", controller)
        when = at or self.proc.now()
        facts = self.facts(at)
        names = self._names()
        if ref is None:
            rows = [self._staff_entry(sp, names) for sp in facts]
        else:
            mine = self.controller_facts(self.s.controllers.get(ref))
            rows = [
                self._controller_entry(sp, mine, when, names)
                for sp in facts
                if self._concerns(sp, mine, when)
            ]
        return {
            "at": when.isoformat(),
            "controller": ref,
            "policy_version": self.policy.version,
            "subprocessors": rows,
        }

    def check(self, controller: str | None = None, at: datetime | None = None) -> dict[str, Any]:
        """Every rule broken by a sub-processor in use for a controller, now or at `at`."""
        ref = self._scope("subprocessors.read", "subprocessors check", controller)
        when = at or self.proc.now()
        controllers = (
            [self.controller_facts(self.s.controllers.get(ref))]
            if ref is not None
            else self.all_controller_facts()
        )
        findings = check(
            controllers, self.facts(at), when, self.policy, editions=self.edition_lists()
        )
        return {"findings": [finding_view(f, self.policy.version) for f in findings]}

    # -- recipient notices (SUBJ-5) -----------------------------------------------------------

    def recipient_notices(
        self, controller: str, contact: Aggregate, kind: str | None
    ) -> list[RecipientOutbox]:
        """The controller's outbox with the change queued for every recipient, to commit with it.

        Called by rectification, restriction and erasure with the changed contact: nothing is
        queued when `kind` is None or the contact has no new event (a repeated restriction).
        The outbox names the contact by its id only, never by any personal value.
        """
        if kind is None or not contact.pending_events:
            return []
        if kind not in NOTICE_KINDS:
            raise InvalidInputError(f"unknown change {kind!r}")
        facts = self.controller_facts(self.s.controllers.get(controller))
        now = self.proc.now()
        to = [sp.subprocessor_id for sp in recipients(facts, self.facts(), now)]
        box = self._outbox(controller, create=True)
        assert box is not None  # noqa: S101 - create=True always returns one
        box.queue(kind, str(contact.id), to, actor=self.s.user_name)
        return [box]

    def deletion_notices(self, controller: str) -> list[RecipientOutbox]:
        """All of a controller's contact data was deleted: one notice per recipient (SUBJ-5).

        A retention sweep erases thousands of contacts at once; recipients are told once that
        every contact of the controller is gone, rather than once per contact. A rerun of an
        interrupted sweep finds the notice already queued and queues nothing.
        """
        facts = self.controller_facts(self.s.controllers.get(controller))
        to = [sp.subprocessor_id for sp in recipients(facts, self.facts(), self.proc.now())]
        box = self._outbox(controller, create=True)
        assert box is not None  # noqa: S101 - create=True always returns one
        subject = f"controller:{controller}:all-contacts"
        if any(n.subject_ref == subject for n in box.notices.values()):
            return []
        box.queue("erasure", subject, to, actor=self.s.user_name)
        return [box]

    def outbox(self, controller: str | None = None) -> dict[str, Any]:
        """Pending recipient notices (all controllers for staff, one's own for its users)."""
        ref = self._scope("subprocessors.read", "subprocessors outbox", controller)
        names = self._names()
        pending: list[dict[str, Any]] = []
        for each in [ref] if ref is not None else self.controller_refs():
            box = self._outbox(each, create=False)
            if box is not None:
                pending.extend(self._outbox_entry(each, n, names) for n in box.pending())
        return {"controller": ref, "pending": pending}

    def acknowledge(self, entry: str, controller: str | None = None) -> dict[str, Any]:
        """Record that a recipient confirmed it applied a change (one outbox entry)."""
        ref = self._scope("subprocessors.outbox", "subprocessors outbox ack", controller)
        wanted = entry.strip()
        for each in [ref] if ref is not None else self.controller_refs():
            box = self._outbox(each, create=False)
            if box is None:
                continue
            for notice in list(box.notices.values()):
                if entry_id(notice) != wanted:
                    continue
                with self.proc.using_clock():
                    box.acknowledge(
                        notice.notice_id, notice.subprocessor_id, actor=self.s.user_name
                    )
                    self.proc.commit(box)
                done = box.notices[notice.notice_id, notice.subprocessor_id]
                view = self._outbox_entry(each, done, self._names())
                view["acknowledged_at"] = _iso(done.acknowledged_at)
                view["acknowledged_by"] = done.acknowledged_by
                return view
        raise NotFoundError(f"unknown outbox entry {wanted[:40]!r}")

    # -- views --------------------------------------------------------------------------------

    def _validated(self, details: SubProcessorDetails) -> SubProcessorDetails:
        return SubProcessorDetails(
            name=" ".join(details.name.split()),
            address=details.address.strip(),
            country=v.country(details.country),
            activities=tuple(dict.fromkeys(a.strip() for a in details.activities if a.strip())),
            basis=details.basis.strip(),
            registration=details.registration.strip(),
            data_locations=tuple(dict.fromkeys(v.country(c) for c in details.data_locations)),
            agreement_ref=details.agreement_ref.strip(),
            agreement_date=details.agreement_date,
            beneficiary_clause=details.beneficiary_clause,
        ).validated()

    def _editions(self, editions: Iterable[str]) -> set[str]:
        chosen = set(editions) or set(OFFERED_EDITIONS)
        unknown = sorted(chosen - set(OFFERED_EDITIONS))
        if unknown:
            raise InvalidInputError(
                f"unknown agreement edition {unknown[0]!r}: "
                f"expected one of {list(OFFERED_EDITIONS)}"
            )
        return chosen

    def _names(self) -> dict[UUID, str]:
        with self.proc.engines.readmodels.connect() as conn:
            rows = conn.execute(sa.select(registry.c.subprocessor_id, registry.c.name))
            return {UUID(str(sid)): str(name) for sid, name in rows}

    @staticmethod
    def _agreement(sp: SubProcessorFacts) -> dict[str, Any]:
        return {
            "ref": sp.agreement_ref or None,
            "date": _iso(sp.agreement_date),
            "beneficiary_clause": sp.beneficiary_clause,
        }

    def _entry(self, sp: SubProcessorFacts, names: Mapping[UUID, str]) -> dict[str, Any]:
        return {
            "name": sp.name,
            "id": str(sp.subprocessor_id),
            "registration": sp.registration,
            "address": sp.address,
            "country": sp.country,
            "data_locations": list(sp.data_locations),
            "activities": sorted(sp.activities),
            "basis": sp.basis,
            "basis_title": self.policy.basis(sp.basis).title,
            "agreement": self._agreement(sp),
            "editions": sorted(sp.editions),
            "listed_from": _iso(sp.listed_from),
            "proposed_at": _iso(sp.proposed_at),
            "replaces": names.get(sp.replaces) if sp.replaces is not None else None,
            "engaged_at": _iso(sp.engaged_at),
            "retired_at": _iso(sp.retired_at),
            "supervisions": [_supervision(s) for s in sp.supervisions],
        }

    def _staff_entry(self, sp: SubProcessorFacts, names: Mapping[UUID, str]) -> dict[str, Any]:
        entry = self._entry(sp, names)
        entry["notices"] = {c: d.isoformat() for c, d in sorted(sp.notices.items())}
        entry["objections"] = [
            {
                "controller": o.controller_id,
                "at": o.at.isoformat(),
                "reason": o.reason,
                "by": o.actor,
            }
            for o in sorted(sp.objections.values(), key=lambda o: o.at)
        ]
        return entry

    @staticmethod
    def _concerns(sp: SubProcessorFacts, controller: ControllerFacts, at: datetime) -> bool:
        return (
            approved_from(controller, sp) is not None
            or controller.controller_id in sp.notices
            or sp.objection_by(controller, at) is not None
        )

    def _notice(self, sp: SubProcessorFacts, controller: ControllerFacts) -> dict[str, Any]:
        notice = sp.notices[controller.controller_id]
        rule = self.notice_rules().get(controller.edition)
        notified = day_of(sp.proposed_at) if sp.proposed_at is not None else None
        return {
            "controller": controller.controller_id,
            "edition": controller.edition,
            "notified_on": _iso(notified),
            "engage_not_before": notice.isoformat(),
            "objections_until": (notice - timedelta(days=1)).isoformat(),
            "notice_days": rule.days if rule else None,
            "fixed_by_agreement": rule.fixed_by_agreement if rule else None,
            "period": period_text(rule) if rule else None,
        }

    def _controller_entry(
        self,
        sp: SubProcessorFacts,
        controller: ControllerFacts,
        at: datetime,
        names: Mapping[UUID, str],
    ) -> dict[str, Any]:
        cid = controller.controller_id
        approved = approved_from(controller, sp)
        objection = sp.objection_by(controller, at)
        notice = sp.notices.get(cid)
        if sp.retired_at is not None and sp.retired_at <= at:
            status = "retired"
        elif objection is not None:
            status = "objected"
        elif approved is not None and approved <= at:
            status = "approved"
        elif notice is not None and day_of(at) < notice:
            status = "notice-period"
        elif notice is not None:
            status = "awaiting-engagement"
        else:
            status = "not-yet-approved"
        entry = self._entry(sp, names)
        abroad = third_countries(sp.destinations, day_of(at), self.policy)
        entry.update(
            {
                "status": status,
                "approved_from": _iso(approved),
                "notice": self._notice(sp, controller) if notice is not None else None,
                "objection": (
                    {
                        "at": objection.at.isoformat(),
                        "reason": objection.reason,
                        "by": objection.actor,
                    }
                    if objection is not None
                    else None
                ),
                "third_countries": list(abroad),
                "transfer_instructed": all(
                    any(
                        i.country == country and i.basis == sp.basis and i.given_at <= at
                        for i in controller.transfer_instructions
                    )
                    for country in abroad
                ),
            }
        )
        return entry

    @staticmethod
    def _outbox_entry(
        controller: str, notice: RecipientNotice, names: Mapping[UUID, str]
    ) -> dict[str, Any]:
        return {
            "id": entry_id(notice),
            "notice_id": notice.notice_id,
            "controller": controller,
            "kind": notice.kind,
            "contact_id": notice.subject_ref,
            "subprocessor": names.get(notice.subprocessor_id, str(notice.subprocessor_id)),
            "subprocessor_id": str(notice.subprocessor_id),
            "queued_at": notice.queued_at.isoformat(),
            "queued_by": notice.queued_by,
        }
