"""What the sub-processor rules judge, loaded from the aggregates, and the questions put to them.

The rules live in the pure core (`subprocessors`); this module loads what they judge. The
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

from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any, get_args
from uuid import UUID

import sqlalchemy as sa

from processor.domain.controllers import Controller
from processor.kernel.errors import InvalidInputError, NotFoundError
from processor.keys import open_records
from processor.policies import Edition
from processor.readmodels import tables as t
from processor.readmodels.subprocessor_handlers import subprocessors as registry
from processor.services import validation as v
from processor.services.lookup import find_controller
from processor.services.subprocessor_views import (
    concerns,
    controller_entry,
    finding_view,
    opened,
    staff_entry,
)
from subprocessors import (
    ControllerFacts,
    Decision,
    EditionList,
    NoticeRule,
    SubProcessor,
    SubProcessorFacts,
    TransferInstruction,
    TransferPolicy,
    check,
    facts_as_of,
    load_edition_list,
    load_transfer_policy,
    may_process,
    signature_instructions,
    subprocessor_id,
)
from subprocessors.vocabulary import TRANSFER_BASES

if TYPE_CHECKING:
    from collections.abc import Mapping

    from processor.kernel.ports import Core
    from processor.policies import Policies
    from processor.session import Session

OFFERED_EDITIONS: tuple[str, ...] = get_args(Edition)
"""The agreement editions controllers can sign (`controllers register --agreement`)."""


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


def profile_list(proc: Core[Policies]) -> str | None:
    """The sub-processor list the store's profile imposes on every controller, or None.

    Effecttracker's agreement has its own list (seeds/004, Bilag A and B) whatever edition a
    controller signed; `init --profile effecttracker` selects it.
    """
    return proc.policies.profiles.profiles[proc.store_info().profile].subprocessor_list


def list_for(proc: Core[Policies], edition: str) -> EditionList | None:
    """The approved list a controller on `edition` is held to in this store (SUB-1)."""
    return edition_list(profile_list(proc) or edition)


def transfer_details(details: Mapping[str, str]) -> dict[str, str]:
    """Validate the details of a transfer instruction: an ISO country and a known basis.

    Checked when `controllers instruct` records it, so `controller_facts` can read the two
    details as given.
    """
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


class SubprocessorRegistry:
    """Loads the facts of the registry and its controllers, and answers questions about them.

    The base of `SubprocessorsService`: the recipient notices and the change workflow build
    on the same loading, so a rule is always judged on facts loaded the same way.
    """

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
        found: object = self.proc.find(sid)
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
        listing = list_for(self.proc, controller.agreement)
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
            # A transfer instruction the processor flagged covers nothing until the controller
            # confirms it (INSTR-2): decide() then refuses the transfer for want of one.
            for n, i in enumerate(controller.instructions, 1)
            if i.kind == "transfer"
            and "country" in i.details
            and "basis" in i.details
            and controller.may_rely_on(n)
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
            self.controller_facts(find_controller(self.proc, ref)) for ref in self.controller_refs()
        ]

    def _scope(self, permission: str, command: str, controller: str | None) -> str | None:
        """Authorise; a controller's users are always held to their own controller's view."""
        user = self.s.find_user(self.s.user_name)
        if controller is None and user is not None and user.controller is not None:
            controller = user.controller
        self.s.authorize(permission, command=command, controller=controller)
        if controller is not None:
            find_controller(self.proc, controller)
        return controller

    def open_text(self, controller: str | None, purpose: str, token: str) -> str:
        """Open registry free text sealed with a records key (`[erased]` after a deletion)."""
        return open_records(self.proc.sealer, controller, purpose, token)

    def _names(self) -> dict[UUID, str]:
        with self.proc.engines.readmodels.connect() as conn:
            rows = conn.execute(sa.select(registry.c.subprocessor_id, registry.c.name))
            return {UUID(str(sid)): str(name) for sid, name in rows}

    # -- questions ----------------------------------------------------------------------------

    def decide(
        self, controller: str, name: str, activity: str, at: datetime | None = None
    ) -> Decision:
        """Decide whether `name` may process `controller`'s data for `activity` (now or at `at`).

        The one question other parts ask (breach impact, sending): no authorisation of its
        own, it runs inside the command that asks it.
        """
        facts = self.controller_facts(find_controller(self.proc, controller))
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
            rows = [
                opened(staff_entry(sp, names, self.policy), self.open_text, None) for sp in facts
            ]
        else:
            mine = self.controller_facts(find_controller(self.proc, ref))
            rules = self.notice_rules()
            rows = [
                opened(
                    controller_entry(sp, mine, when, names, self.policy, rules), self.open_text, ref
                )
                for sp in facts
                if concerns(sp, mine, when)
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
            [self.controller_facts(find_controller(self.proc, ref))]
            if ref is not None
            else self.all_controller_facts()
        )
        findings = check(
            controllers, self.facts(at), when, self.policy, editions=self.edition_lists()
        )
        return {"findings": [finding_view(f, self.policy.version) for f in findings]}
