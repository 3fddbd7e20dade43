"""The shape every business rule takes, shared by the processor and the sub-processor registry.

A rule is a frozen dataclass named after what it requires, carrying its obligation id and the
facts (and dates) it judged; it says whether it is broken and why in one line that starts with
its name. Aggregates `enforce` command rules, which turns a broken one into the one refusal type
(`RefusedError`, exit 1); use cases that judge a list in order take the `first_broken`.

Part of the small kernel (with errors, clock and the base aggregate): it imports nothing of ours
but `processor.kernel.errors`, so `processor`, `subprocessors` and `ledger` users may all build on
it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, ClassVar

from processor.kernel.errors import RefusedError

if TYPE_CHECKING:
    from collections.abc import Iterable


@dataclass(frozen=True)
class Rule:
    """A requirement that is kept or broken, and says why in one line with its dates."""

    obligation: ClassVar[str] = ""

    @property
    def name(self) -> str:
        """The rule's class name: stable, because reports and tests grep for it."""
        return type(self).__name__

    def is_broken(self) -> bool:
        """Tell whether the requirement is broken."""
        return self._broken()

    @property
    def message(self) -> str:
        """Explain the broken requirement, starting with the rule's name."""
        return f"{self.name}: {self._explain()}"

    def dates(self) -> dict[str, date]:
        """Return the dates the judgement rests on, for findings and reports."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return {key: value for key, value in values.items() if isinstance(value, date)}

    def _broken(self) -> bool:
        raise NotImplementedError

    def _explain(self) -> str:
        raise NotImplementedError


def enforce(rule: Rule) -> None:
    """Refuse the command if `rule` is broken (exit 1 at the CLI)."""
    if rule.is_broken():
        raise RefusedError(rule.message, rule=rule.name)


def first_broken(found: Iterable[Rule]) -> Rule | None:
    """The first broken rule of `found`, in order, or None when all hold."""
    return next((rule for rule in found if rule.is_broken()), None)
