"""The audit policy (`policies/audit.toml`): rhythm, processing, risks and measures.

How often samples and reviews are due, and the processor's description of its processing,
risks and measures (ACC-7, AUD-3, AUD-6, SUBJ-9).

Validated by pydantic like every other policy file, so a broken file is a one-line
configuration error and every due date can name the policy version it came from.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from processor.kernel.errors import ConfigurationError
from processor.policies import read_policy_file

Level = Literal["low", "medium", "high"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rhythm(_Strict):
    """How often the GDPA must sample the access log and review the risk and policy."""

    sample_every_days: int = Field(ge=1)
    sample_size: int = Field(ge=1)
    risk_review_every_days: int = Field(ge=1)
    policy_review_every_days: int = Field(ge=1, le=366)  # AUD-6: at least once a year


class Processing(_Strict):
    """Art. 30(2)(b): what the processor does for every controller."""

    categories: tuple[str, ...]
    subjects: tuple[str, ...]
    purposes: tuple[str, ...]


class Measure(_Strict):
    """One technical or organisational measure, described generally (Art. 30(2)(d))."""

    id: str
    text: str


class Risk(_Strict):
    """A risk the processor assessed, and the measures that answer it (SUBJ-9, AUD-6)."""

    id: str
    text: str
    likelihood: Level
    impact: Level
    measures: tuple[str, ...]


class AuditPolicy(_Strict):
    """The whole audit policy; every risk's measures must exist."""

    version: str
    rhythm: Rhythm
    processing: Processing
    measures: tuple[Measure, ...]
    risks: tuple[Risk, ...]

    @model_validator(mode="after")
    def _measures_exist(self) -> AuditPolicy:
        known = {m.id for m in self.measures}
        for risk in self.risks:
            missing = [m for m in risk.measures if m not in known]
            if missing:
                raise ValueError(f"risk {risk.id} names unknown measures {missing}")
        return self

    def measure(self, measure_id: str) -> Measure:
        """A measure by id."""
        return next(m for m in self.measures if m.id == measure_id)


@cache
def audit_policy() -> AuditPolicy:
    """Load and validate `audit.toml` once."""
    try:
        return AuditPolicy.model_validate(read_policy_file("audit.toml"))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigurationError(f"policy file audit.toml: {where}: {first['msg']}") from None
