"""Policies are data: TOML files in `policies/`, validated by pydantic, versioned.

They ship inside the installed package (as `processor_policies`), so an installed `processor`
finds them anywhere. Every decision that depends on a policy can name the version it used.
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from processor.kernel.errors import ConfigurationError

Edition = Literal["scc", "dpa-2018"]
Account = Literal["demo", "freemium", "paying"]
PROCESSOR_ROLES = ("gdpa", "system-manager", "support", "developer")
CONTROLLER_ROLES = ("administrator", "bookkeeper", "support", "marketing")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RoleSpec(_Strict):
    """One role: a description and the permissions it grants."""

    description: str
    permissions: frozenset[str]
    # Processor roles that come near personal data or the access log need a confidentiality
    # undertaking and training on record before they may do anything else (ACC-1).
    bound: bool = False


class RolesPolicy(_Strict):
    """Processor and controller roles (ACC-9)."""

    version: str
    processor: dict[str, RoleSpec]
    controller: dict[str, RoleSpec]


class Term(_Strict):
    """One term of an agreement edition: the number applied and where it comes from (INSTR-4).

    `fixed_by_agreement` tells an auditor whether the agreement itself sets `value` or leaves it
    to the processor (the 2018 DPA's "without undue delay" has no hours: ours are a choice).
    `value` is None when the edition sets no such requirement at all.
    """

    value: int | None = Field(default=None, ge=0)
    unit: Literal["hours", "days"]
    wording: str
    source: str
    fixed_by_agreement: bool


class BreachTerm(Term):
    """The breach-notice term (BR-1), with the moment its hours are counted from.

    The SCC (10.2) count the 24 hours from when the breach *was discovered*; the 2018 DPA (§10)
    from when the processor *became aware* ("efter at være blevet opmærksom på"). The two can
    differ by days (a discovery by a sub-processor reported late), so the edition says which.
    """

    starts: Literal["discovery", "awareness"]


class EditionTerms(_Strict):
    """The terms of one agreement edition (INSTR-4, RET-1), each with its source clause."""

    title: str
    source: str
    deletion_after_termination: Term
    breach_notice: BreachTerm
    subprocessor_notice: Term
    termination_instruction: Term

    @property
    def deletion_after_termination_days(self) -> int:
        """Days after the end when data is deleted without another instruction (RET-1)."""
        return self.deletion_after_termination.value or 0

    @property
    def breach_notice_hours(self) -> int | None:
        """Hours within which a breach is notified to the controller (BR-)."""
        return self.breach_notice.value

    @property
    def breach_notice_fixed_by_agreement(self) -> bool:
        """Whether the agreement itself fixes the breach-notice hours."""
        return self.breach_notice.fixed_by_agreement

    @property
    def termination_instruction_days(self) -> int | None:
        """Days before the end by which the controller must instruct, or None (DPA18 §14)."""
        return self.termination_instruction.value

    def summary(self) -> dict[str, object]:
        """The terms as shown: the numbers in force, then each term with its source."""
        terms = {
            "deletion_after_termination": self.deletion_after_termination,
            "breach_notice": self.breach_notice,
            "subprocessor_notice": self.subprocessor_notice,
            "termination_instruction": self.termination_instruction,
        }
        return {
            "title": self.title,
            "source": self.source,
            "deletion_after_termination_days": self.deletion_after_termination_days,
            "breach_notice_hours": self.breach_notice_hours,
            "breach_notice_fixed_by_agreement": self.breach_notice_fixed_by_agreement,
            "subprocessor_notice_days": self.subprocessor_notice.value,
            "termination_instruction_days": self.termination_instruction_days,
            "terms": {name: term.model_dump() for name, term in terms.items()},
        }


class EditionsPolicy(_Strict):
    """All agreement editions."""

    version: str
    editions: dict[Edition, EditionTerms]


class AccountLimits(_Strict):
    """Limits of one account type (SUBJ-7, RET-4)."""

    trial_days: int | None = None
    retention_after_trial_days: int | None = None
    max_emails_total: int | None = None
    max_emails_per_month: int | None = None
    max_contacts: int | None = None
    sms_allowed: bool = True


class AccountsPolicy(_Strict):
    """All account types."""

    version: str
    accounts: dict[Account, AccountLimits]


class FieldsPolicy(_Strict):
    """The field vocabulary and value limits (SUBJ-1, INSTR-3)."""

    version: str
    standard: tuple[str, ...]
    max_value_chars: int
    max_custom_value_chars: int
    max_custom_fields: int
    sensitive_keywords: tuple[str, ...]
    sensitive_value_terms: dict[str, tuple[str, ...]] = {}

    def is_sensitive(self, field_name: str) -> bool:
        """Tell whether a custom field's name marks a special category of data (Art. 9)."""
        words = re.split(r"[^a-z0-9æøå]+", field_name.casefold())
        return any(w.startswith(k) for w in words if w for k in self.sensitive_keywords)

    def sensitive_category(self, value: str) -> str | None:
        """The special category (Art. 9) a free-text value speaks of, or None.

        Whole words only (`sick` is not `sickle`); a term ending in `*` matches a word's start.
        Only the category is returned: the value and the word found are personal data.
        """
        words = set(re.split(r"[^a-z0-9æøå-]+", value.casefold()))
        for category, terms in self.sensitive_value_terms.items():
            for term in terms:
                if term.endswith("*"):
                    stem = term[:-1]
                    if any(w.startswith(stem) for w in words):
                        return category
                elif term in words:
                    return category
        return None


class StaffProfile(_Strict):
    """A processor-wide staff-access profile (ACC-4, ACC-11)."""

    description: str
    staff_access: bool
    max_grant_hours: int
    default_grant_hours: int
    review_period_days: int
    lockout_attempts: int
    lockout_window_minutes: int
    # Hours between the GDPA's approval of an account recovery and its completion, during which
    # the controller's administrators and contact persons may cancel it (ACC-13).
    recovery_wait_hours: int = Field(ge=1)
    # Days a controller's support request stays open unless closed earlier (ACC-4).
    support_request_days: int = Field(default=30, ge=1, le=366)
    # A processor whose agreement has its own sub-processor list (Effecttracker, seeds/004) names
    # it here; every controller of the store is then held to that list, whatever its edition.
    subprocessor_list: str | None = None


class ProfilesPolicy(_Strict):
    """All staff-access profiles."""

    version: str
    profiles: dict[str, StaffProfile]


class KeysPolicy(_Strict):
    """When the key-encryption key is rotated, so erased subjects' key remnants die (RET-5)."""

    version: str
    kek_rotation_hours: int = Field(gt=0, le=24 * 31)
    rotate_after_erasure: bool = True
    # The longest an erased subject's remnant may stay openable: hours after the erasure by
    # which the custodian's wrapping key must have been ratcheted (processor.keys.ratchet).
    ratchet_hours: int = Field(default=24, gt=0, le=24 * 31)


class LedgerPolicy(_Strict):
    """How often a witness must cosign once witnesses are in use (AUD-4)."""

    version: str
    witness_interval_hours: int = Field(gt=0, le=24 * 366)


class GdpaTermPolicy(_Strict):
    """How long the GDPA is appointed for at a time (ACC-16)."""

    min_term_years: int = Field(ge=1, le=10)


class SecurityPolicy(_Strict):
    """The IT-security policy staff acknowledge at each change of its version (ACC-15, ACC-16)."""

    version: str
    title: str
    points: list[str]
    gdpa: GdpaTermPolicy


class Policies(_Strict):
    """Every policy in force, loaded once."""

    roles: RolesPolicy
    editions: EditionsPolicy
    accounts: AccountsPolicy
    fields: FieldsPolicy
    profiles: ProfilesPolicy
    # Not part of `version`: no recorded decision depends on it (it times a key operation).
    keys: KeysPolicy
    # Not part of `version` either: it only decides when `status` asks for a witness.
    ledger: LedgerPolicy
    # Not part of `version`: its own version is what each person acknowledges (ACC-15).
    security: SecurityPolicy

    @property
    def version(self) -> str:
        """One string naming every policy file's version, recorded with decisions."""
        parts = (self.roles, self.editions, self.accounts, self.fields, self.profiles)
        return ";".join(p.version for p in parts)


def read_policy_file(name: str) -> dict[str, object]:
    """Read one TOML file shipped in `processor_policies`."""
    path = resources.files("processor_policies").joinpath(name)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"policy file {name}: {exc}") from None


@cache
def load_policies() -> Policies:
    """Load and validate every policy file; a broken file is a one-line configuration error."""
    try:
        return Policies(
            roles=RolesPolicy.model_validate(read_policy_file("roles.toml")),
            editions=EditionsPolicy.model_validate(read_policy_file("editions.toml")),
            accounts=AccountsPolicy.model_validate(read_policy_file("accounts.toml")),
            fields=FieldsPolicy.model_validate(read_policy_file("fields.toml")),
            profiles=ProfilesPolicy.model_validate(read_policy_file("profiles.toml")),
            keys=KeysPolicy.model_validate(read_policy_file("keys.toml")),
            ledger=LedgerPolicy.model_validate(read_policy_file("ledger.toml")),
            security=SecurityPolicy.model_validate(read_policy_file("security.toml")),
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigurationError(f"invalid policy at {where}: {first['msg']}") from None
