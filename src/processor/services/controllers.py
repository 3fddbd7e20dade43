"""Use cases for controllers: register, instruct, show (INSTR-1, INSTR-3, INSTR-4)."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any, get_args

import sqlalchemy as sa

from processor.credentials import service as credentials
from processor.domain.controllers import Controller
from processor.domain.ids import controller_id
from processor.domain.users import User
from processor.kernel.errors import InvalidInputError, RefusedError
from processor.keys import open_records, records_subject, seal_records
from processor.policies import Account, Edition
from processor.readmodels import tables as t
from processor.services import agreements, support_requests, user_requests
from processor.services import validation as v
from processor.services.lifecycle import decision_dict
from processor.services.lookup import find_controller
from processor.services.subprocessors import transfer_details

if TYPE_CHECKING:
    from processor.services.agreements import AgreementsService
    from processor.services.lifecycle import LifecycleService
    from processor.services.subprocessors import SubprocessorsService
    from processor.session import Session

_KIND_CHARS = set("abcdefghijklmnopqrstuvwxyz-")
INSTRUCTION_TEXT = "instruction-text"


class ControllersService:
    """Registers controllers and records their instructions."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.proc = session.proc

    @cached_property
    def _subprocessors_service(self) -> SubprocessorsService:
        """The subprocessors use cases this one uses, as the same person (made on first use)."""
        from processor.services.subprocessors import SubprocessorsService

        return SubprocessorsService(self.s)

    @cached_property
    def _agreements_service(self) -> AgreementsService:
        """The agreements use cases this one uses, as the same person (made on first use)."""
        from processor.services.agreements import AgreementsService

        return AgreementsService(self.s)

    @cached_property
    def _lifecycle_service(self) -> LifecycleService:
        """The lifecycle use cases this one uses, as the same person (made on first use)."""
        from processor.services.lifecycle import LifecycleService

        return LifecycleService(self.s)

    def get(self, ref: str) -> Controller:
        """Load a controller or fail with NotFoundError."""
        return find_controller(self.proc, ref)

    def register(
        self,
        ref: str,
        name: str,
        country: str,
        account: str,
        agreement: str,
        cvr: str | None = None,
        admin: str | None = None,
    ) -> dict[str, Any]:
        """Register a controller on an agreement edition, with its first administrator."""
        v.controller_ref(ref)
        self.s.authorize("controllers.register", command="controllers register")
        if account not in get_args(Account):
            raise InvalidInputError(f"unknown account type {account!r}")
        if agreement not in get_args(Edition):
            raise InvalidInputError(f"unknown agreement edition {agreement!r}")
        if not name.strip():
            raise InvalidInputError("the controller needs a name")
        code = v.country(country)
        if admin is not None:
            v.user_name(admin)
            if self.s.find_user(admin) is not None:
                raise RefusedError(f"user {admin!r} already exists", rule="UserNamesAreUnique")
        if controller_id(ref) in self.proc.store.repository:
            raise RefusedError(f"controller {ref!r} already exists", rule="ControllerIdsAreUnique")
        with self.proc.using_clock():
            controller = Controller(
                actor=self.s.user_name,
                ref=ref,
                name=name.strip(),
                country=code,
                account=account,
                agreement=agreement,
                cvr=cvr,
                policy_version=self.proc.policies.version,
            )
            new: list[Controller | User] = [controller]
            credential = None
            if admin is not None:
                first_admin = User(
                    actor=self.s.user_name,
                    name=admin,
                    role="administrator",
                    controller=ref,
                    confidentiality_signed=None,
                    trained=None,
                )
                credential = credentials.issue(
                    self.proc, first_admin, self.s.user_name, by_staff=True
                )
                new.append(first_admin)
            self.proc.keys.system_key(f"blind-index:{ref}", at=self.proc.now())
            self.proc.keys.system_key(f"pseudonym:{ref}", at=self.proc.now())
            # The controller's free text is sealed with its records key (RET-3, RET-5).
            self.proc.sealer.new_subjects([records_subject(ref)], self.proc.now())
            # The edition's approved list enters the registry with its first controller (SUB-1).
            self.proc.commit(*new, *self._subprocessors_service.seed_edition(agreement))
        result: dict[str, Any] = {
            "controller": ref,
            "account": account,
            "agreement": agreement,
            "admin": admin,
        }
        if credential is not None:
            result["admin_credential_id"] = credential.credential_id
            result["admin_credential"] = credential.text
        return result

    def instruct(
        self, ref: str, kind: str, text: str, details: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """Record a documented instruction (INSTR-1)."""
        if kind == user_requests.KIND:
            # Only the controller asks for a change to its users, with its own credential
            # (ACC-9, ACC-13): a request staff recorded in its name would let them cite it.
            user_requests.must_come_from_the_controller(self.s, ref)
        if kind == support_requests.KIND:
            # Support is by the controller's prior agreement (ACC-4): never staff's own word.
            support_requests.must_come_from_the_controller(self.s, ref)
        self.s.authorize("controllers.instruct", command="controllers instruct", controller=ref)
        controller = self.get(ref)
        if not kind or set(kind) - _KIND_CHARS:
            raise InvalidInputError(f"invalid instruction kind {kind!r}")
        if not text.strip():
            raise InvalidInputError("an instruction needs its text (--text)")
        details = dict(details or {})
        if kind == user_requests.KIND:
            details = user_requests.request_details(
                details.get("change"), details.get("user"), details.get("role")
            )
        elif {"change", "user", "role"} & details.keys():
            raise InvalidInputError("--change, --user and --role belong to --kind user-request")
        if kind == support_requests.KIND:
            details = support_requests.request_details(details.get("case"))
        elif "case" in details:
            raise InvalidInputError("--case belongs to --kind support-request")
        if kind == agreements.UPGRADE_REQUEST:
            details = agreements.upgrade_details(details.get("account"))  # RET-4
        elif "account" in details:
            raise InvalidInputError("--account belongs to --kind upgrade-request")
        if {"country", "basis"} & details.keys():
            if kind != "transfer":
                raise InvalidInputError("--country and --basis belong to --kind transfer")
            details = transfer_details(details)  # SUB-6: an ISO country and a known basis
        with self.proc.using_clock():
            controller.record_instruction(
                actor=self.s.user_name,
                kind=kind,
                text=seal_records(self.proc.sealer, ref, INSTRUCTION_TEXT, text.strip()),
                details=details,
            )
            self.proc.commit(controller)
        return {
            "controller": ref,
            "kind": kind,
            "number": len(controller.instructions),
            "given_at": controller.modified_on.isoformat(),
        }

    def show(self, ref: str) -> dict[str, Any]:
        """The controller's account, agreement terms in force, instructions and counts."""
        self.s.authorize("controllers.show", command="controllers show", controller=ref)
        c = self.get(ref)
        terms = self.proc.policies.editions.editions[c.agreement]  # type: ignore[index]
        limits = self.proc.policies.accounts.accounts[c.account]  # type: ignore[index]
        with self.proc.engines.readmodels.connect() as conn:
            counts = conn.execute(
                sa.select(
                    sa.func.count().filter(t.contacts.c.erased.is_(False)),
                    sa.func.count().filter(t.contacts.c.erased.is_(True)),
                ).where(t.contacts.c.controller == ref)
            ).one()
            lists = conn.execute(
                sa.select(t.memberships.c.list_name, sa.func.count())
                .where((t.memberships.c.controller == ref) & t.memberships.c.subscribed.is_(True))
                .group_by(t.memberships.c.list_name)
                .order_by(t.memberships.c.list_name)
            ).all()
        return {
            "controller": c.ref,
            "name": c.name,
            "country": c.country,
            "cvr": c.cvr,
            "account": c.account,
            "agreement": c.agreement,
            "agreement_terms": terms.summary(),
            # The signed documents and any amendment awaiting acceptance (INSTR-5).
            **self._agreements_service.describe(c),
            "account_limits": limits.model_dump(exclude_none=True),
            "registered_at": c.registered_on.isoformat(),
            "registered_by": c.registered_by,
            "policy_version": c.policy_version,
            "instructions": [
                {
                    "number": n,
                    # INSTR-2: flagged (processing on it waits), confirmed, withdrawn, or None.
                    "flag": c.instruction_state(n),
                    "kind": i.kind,
                    "text": open_records(self.proc.sealer, c.ref, INSTRUCTION_TEXT, i.text),
                    "details": i.details,
                    "given_at": i.given_at.isoformat(),
                    "given_by": i.given_by,
                }
                for n, i in enumerate(c.instructions, 1)
            ],
            "lifecycle": decision_dict(self._lifecycle_service.decision(c, self.proc.now())),
            "contacts": {"active": counts[0], "erased": counts[1]},
            "lists": {str(name): int(n) for name, n in lists},
        }
