"""Use cases of the sub-processor registry (SUB-1 to SUB-7) and recipient notices (SUBJ-5).

`Session.subprocessors` is one `SubprocessorsService`, built in layers so each reads in one
sitting: `subprocessor_facts` loads what the rules judge and asks them (`decide`, `listing`,
`check`), `recipient_notices` keeps the outboxes (SUBJ-5), `subprocessor_views` says how it
is all printed, and this module holds the change workflow and the seeding of an edition's
list. The parts' module-level names are re-exported here, where callers import them.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from processor.kernel.errors import InvalidInputError, NotFoundError, RefusedError
from processor.keys import open_records, seal_records
from processor.notices.domain import SUBPROCESSOR_CHANGE
from processor.notices.post import new_notice, records_erased
from processor.readmodels import tables as t
from processor.services import validation as v
from processor.services.lookup import find_controller
from processor.services.recipient_notices import NOTICE_KINDS, RecipientNotices, entry_id
from processor.services.subprocessor_facts import (
    OFFERED_EDITIONS,
    edition_list,
    list_for,
    profile_list,
    transfer_details,
    transfer_policy,
)
from processor.services.subprocessor_views import (
    OBJECTION_REASON,
    RETIRE_REASON,
    SUPERVISION_FINDING,
    agreement_copy_view,
    concerns,
    finding_view,
    iso,
    notice_view,
    opened,
    period_text,
    staff_entry,
    supervision_view,
)
from subprocessors import (
    SubProcessor,
    SubProcessorDetails,
    details_from_entry,
    in_use,
    notice_dates,
    subprocessor_id,
)
from subprocessors.facts import day_of, start_of

if TYPE_CHECKING:
    from collections.abc import Iterable

    from processor.notices.domain import Notice

__all__ = [
    "NOTICE_KINDS",
    "OFFERED_EDITIONS",
    "SubprocessorsService",
    "edition_list",
    "entry_id",
    "finding_view",
    "period_text",
    "transfer_details",
    "transfer_policy",
]


class SubprocessorsService(RecipientNotices):
    """The registry, its change workflow, its checks and the recipient outboxes.

    Loading and questions come from `SubprocessorRegistry`, the outboxes from
    `RecipientNotices`; the commands that change the registry are here.
    """

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
        imposed = profile_list(self.proc)
        listing = list_for(self.proc, edition)
        if listing is None:
            return []
        # A profile's own list (Effecttracker) binds every edition, so its first controller
        # of any edition brings it in, approved for all of them.
        signed_by = t.controllers.c.agreement == edition if imposed is None else sa.true()
        editions = [edition] if imposed is None else list(OFFERED_EDITIONS)
        with self.proc.engines.readmodels.connect() as conn:
            signed = conn.execute(
                sa.select(sa.func.count()).select_from(t.controllers).where(signed_by)
            ).scalar_one()
        if signed:
            return []
        start = listing.list_in_force_from or day_of(self.proc.now())
        return [
            SubProcessor.add(
                details_from_entry(entry),
                editions=editions,
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
        return staff_entry(sp.facts(), self._names(), self.policy)

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
            facts = sp.facts()
            rules = self.notice_rules()
            views = [notice_view(facts, c, rules) for c in affected]
            told = self._change_notices(facts.name, old.name if old else None, checked, views)
            # The registry's change and the written notices commit together: no change is
            # proposed that some affected controller was not told of (SUB-2).
            self.proc.commit(sp, *told)
        last = max((date.fromisoformat(d) for d in notices.values()), default=day_of(now))
        return {
            "subprocessor": facts.name,
            "id": str(facts.subprocessor_id),
            "proposed_at": iso(facts.proposed_at),
            "replaces": old.name if old is not None else None,
            "editions": sorted(editions),
            "notices": views,
            "may_be_engaged_from": last.isoformat(),
            "agreement_recorded": bool(facts.agreement_ref),
        }

    def _change_notices(
        self,
        name: str,
        replaces: str | None,
        details: SubProcessorDetails,
        views: list[dict[str, Any]],
    ) -> list[Notice]:
        """The written `subprocessor-change` notice to each affected controller (SUB-2).

        Each names the sub-processor, what it would do and where, the first day it may be
        engaged for that controller and the last day to object (SUB-3). A controller whose data
        is already deleted is not told: nothing of it is processed any more.
        """
        change = f"{name} replaces {replaces}" if replaces else f"{name} is added"
        told = []
        for view in views:
            ref = view["controller"]
            if records_erased(self.proc, ref):
                continue
            told.append(
                new_notice(
                    self.proc,
                    controller=ref,
                    kind=SUBPROCESSOR_CHANGE,
                    title=f"Planned sub-processor change: {change}",
                    body=(
                        f"The processor plans a sub-processor change: {change} as sub-processor "
                        f"({', '.join(details.activities)}; {details.country}, data in "
                        f"{', '.join(details.data_locations) or details.country}). It will not "
                        f"process your data before {view['engage_not_before']} "
                        f"({view['period']}). You may object until {view['objections_until']} "
                        f"(`subprocessors object {name} --controller {ref} --reason TEXT`); an "
                        "objection means it never processes your data."
                    ),
                    actor=self.s.user_name,
                    about=f"subprocessor:{name}",
                )
            )
        return told

    def object_to(self, name: str, controller: str, reason: str) -> dict[str, Any]:
        """Record a controller's objection during its notice period (SUB-3)."""
        self.s.authorize(
            "subprocessors.object", command="subprocessors object", controller=controller
        )
        find_controller(self.proc, controller)
        sp = self.get(name)
        with self.proc.using_clock():
            sealed = seal_records(self.proc.sealer, controller, OBJECTION_REASON, reason.strip())
            sp.object_to(controller, sealed, actor=self.s.user_name)
            self.proc.commit(sp)
        objection = sp.objections[controller]
        return {
            "subprocessor": sp.name,
            "controller": controller,
            "objected_at": objection.at.isoformat(),
            "reason": open_records(
                self.proc.sealer, controller, OBJECTION_REASON, objection.reason
            ),
            "effect": f"{sp.name} will never process data of controller {controller}",
        }

    def engage(self, name: str) -> dict[str, Any]:
        """Engage a proposed sub-processor after notice, with its agreement kept (SUB-2, SUB-5)."""
        self.s.authorize("subprocessors.manage", command="subprocessors engage")
        sp = self.get(name)
        with self.proc.using_clock():
            sp.engage(actor=self.s.user_name)
            self.proc.commit(sp)
        facts = sp.facts()
        return {
            "subprocessor": sp.name,
            "engaged_at": iso(facts.engaged_at),
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
            sp.retire(
                seal_records(self.proc.sealer, None, RETIRE_REASON, reason.strip()),
                actor=self.s.user_name,
            )
            self.proc.commit(sp)
        return {"subprocessor": sp.name, "retired_at": iso(sp.retired_at), "reason": reason}

    def record_agreement(
        self,
        name: str,
        agreement_ref: str,
        *,
        agreement_date: date | None,
        beneficiary_clause: bool,
        text: bytes,
    ) -> dict[str, Any]:
        """Keep the sub-processor agreement and its text's hash, for the copy on request (SUB-5).

        Refused without the third-party-beneficiary clause (SCC 7.6); only the SHA-256 of the
        text is kept, which proves which text a copy handed to a controller is (SUB-9).
        """
        self.s.authorize("subprocessors.manage", command="subprocessors agreement")
        sp = self.get(name)
        if not text.strip():
            raise InvalidInputError("the agreement's text is empty")
        with self.proc.using_clock():
            sp.record_agreement(
                agreement_ref.strip(),
                agreement_date=agreement_date,
                beneficiary_clause=beneficiary_clause,
                text_sha256=hashlib.sha256(text).hexdigest(),
                actor=self.s.user_name,
            )
            self.proc.commit(sp)
        return {"subprocessor": sp.name, "agreement": agreement_copy_view(sp.facts())}

    def amend_agreement(
        self, name: str, amendment_ref: str, *, signed_on: date, text: bytes
    ) -> dict[str, Any]:
        """Keep an amendment of the sub-processor agreement with its text's hash (SUB-5, SUB-9)."""
        self.s.authorize("subprocessors.manage", command="subprocessors amend-agreement")
        sp = self.get(name)
        if not text.strip():
            raise InvalidInputError("the amendment's text is empty")
        with self.proc.using_clock():
            sp.amend_agreement(
                amendment_ref,
                signed_on=signed_on,
                text_sha256=hashlib.sha256(text).hexdigest(),
                actor=self.s.user_name,
            )
            self.proc.commit(sp)
        return {"subprocessor": sp.name, "agreement": agreement_copy_view(sp.facts())}

    def agreement_copy(self, name: str, controller: str | None = None) -> dict[str, Any]:
        """The sub-processor agreement and its amendments as kept, for a controller (SUB-9).

        A controller's users see the agreements of the sub-processors on their own list
        (approved, noticed or objected), so they can verify that the same data-protection
        obligations bind them (SCC 7.5); the text hashes let them check the copies they hold.
        """
        ref = self._scope("subprocessors.read", "subprocessors agreement-copy", controller)
        sp = self.get(name)
        facts = sp.facts()
        if ref is not None:
            mine = self.controller_facts(find_controller(self.proc, ref))
            if not concerns(facts, mine, self.proc.now()):
                raise NotFoundError(f"{sp.name} is not on {ref}'s list of sub-processors")
        return {
            "subprocessor": sp.name,
            "controller": ref,
            "activities": sorted(facts.activities),
            "agreement": agreement_copy_view(facts),
        }

    def supervise(
        self, name: str, method: str, finding: str, on: date | None = None
    ) -> dict[str, Any]:
        """Document a supervision of a sub-processor and its finding (SUB-7)."""
        self.s.authorize("subprocessors.manage", command="subprocessors supervise")
        sp = self.get(name)
        with self.proc.using_clock():
            sp.supervise(
                on or day_of(self.proc.now()),
                method,
                seal_records(self.proc.sealer, None, SUPERVISION_FINDING, finding.strip()),
                actor=self.s.user_name,
            )
            self.proc.commit(sp)
        view = opened(
            {"supervisions": [supervision_view(sp.supervisions[-1])]}, self.open_text, None
        )
        return {"subprocessor": sp.name, "supervision": view["supervisions"][0]}

    # -- checks of input ----------------------------------------------------------------------

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

    def _must_be_new(self, name: str) -> None:
        if subprocessor_id(name) in self.proc.store.repository:
            existing = self.get(name).name
            raise RefusedError(
                f"SubProcessorNamesAreUnique: {existing!r} is already in the registry",
                rule="SubProcessorNamesAreUnique",
            )
