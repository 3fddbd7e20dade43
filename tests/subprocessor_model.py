"""The commands of the sub-processor model: what a random sequence does to the registry.

One vocabulary for both stateful properties of sub-processors: the registry's own
(`tests/subprocessors/test_subprocessor_properties.py`, on the aggregate) and the
application's (`tests/test_subprocessors_app_properties.py`, through the services and the
store). Each test draws its commands from its own strategies and judges them with its own
independent model; only the commands are shared, so both speak of the same steps.
A plain module next to `support`, because tests/ is not a package and both folders import it.
"""

from __future__ import annotations

from dataclasses import dataclass

from subprocessors import SubProcessorDetails


@dataclass(frozen=True)
class Propose:
    """Propose sub-processor `sp`, notifying some controllers `days` ahead.

    `notify`, `days` and `editions` drive the registry's model; the application decides the
    notices itself (each controller, 30 days), so its test leaves them at their defaults.
    """

    sp: int
    details: SubProcessorDetails
    notify: frozenset[str] = frozenset()
    days: int = 30
    editions: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Add:
    """Register sub-processor `sp` directly on some editions' lists."""

    sp: int
    details: SubProcessorDetails
    editions: frozenset[str]


@dataclass(frozen=True)
class Object:
    """Controller objects to sub-processor `sp`."""

    sp: int
    controller: str


@dataclass(frozen=True)
class Engage:
    """Engage sub-processor `sp`."""

    sp: int


@dataclass(frozen=True)
class Retire:
    """Retire sub-processor `sp`."""

    sp: int


@dataclass(frozen=True)
class RecordAgreement:
    """Record a (2025-dated) agreement with sub-processor `sp`."""

    sp: int


@dataclass(frozen=True)
class Instruct:
    """Controller instructs transfers to `country` under `basis`."""

    controller: str
    country: str
    basis: str


@dataclass(frozen=True)
class InstructFor:
    """Controller instructs exactly the transfers sub-processor `sp` makes (if it exists)."""

    controller: str
    sp: int


@dataclass(frozen=True)
class Advance:
    """Move the clock forward."""

    hours: int


Command = (
    Propose | Add | Object | Engage | Retire | RecordAgreement | Instruct | InstructFor | Advance
)
