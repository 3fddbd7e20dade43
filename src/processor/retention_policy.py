"""The retention policy (`policies/retention.toml`), validated by pydantic (RET-1, RET-2, RET-7).

A file of its own, next to the agreement terms it completes: the agreements fix the 120 days and
the demo's 30 + 90 days; this file fixes what they leave to the processor (batch size, the days
under an explicit instruction, how long sent message content is kept).
"""

from __future__ import annotations

from functools import cache

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from processor.kernel.errors import ConfigurationError
from processor.policies import Policies, read_policy_file


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InstructionDays(_Strict):
    """Days after the effective date when data is due under an explicit instruction (RET-2)."""

    delete_after_days: int = Field(ge=0)
    return_after_days: int = Field(ge=0)


class MessageContentRetention(_Strict):
    """Hours sent message content is kept, per staff-access profile (RET-7)."""

    hours_by_profile: dict[str, int] = Field(default_factory=dict)

    def hours(self, profile: str) -> int | None:
        """The hours for `profile`, or None when content is kept until the data is deleted."""
        return self.hours_by_profile.get(profile)


class RetentionPolicy(_Strict):
    """Everything `policies/retention.toml` says."""

    version: str
    sweep_batch_size: int = Field(gt=0, le=10_000)
    instructions: InstructionDays
    message_content: MessageContentRetention


@cache
def load_retention_policy() -> RetentionPolicy:
    """Load and validate `retention.toml`; a broken file is a one-line configuration error."""
    try:
        return RetentionPolicy.model_validate(read_policy_file("retention.toml"))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigurationError(f"invalid policy at retention.{where}: {first['msg']}") from None


def decision_policy_version(policies: Policies) -> str:
    """The policy versions a retention decision depends on, as recorded with it."""
    return f"{policies.version};{load_retention_policy().version}"
