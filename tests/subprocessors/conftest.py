"""Fixtures for the sub-processor tests (a conftest, because tests/ is not a package).

`tests/strategies.py` already owns the module name `strategies`, so this folder's
strategies are loaded under the name `subprocessor_strategies` to keep both importable in
one pytest run.
"""

from __future__ import annotations

import importlib.util
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from processor.kernel import clock as processor_clock
from processor.kernel.clock import FixedClock
from subprocessors import EditionList, TransferPolicy, load_edition_list, load_transfer_policy


def _load_strategies() -> None:
    name = "subprocessor_strategies"
    if name in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("strategies.py"))
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)


_load_strategies()

TODAY = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def transfer_policy() -> TransferPolicy:
    return load_transfer_policy()


@pytest.fixture(scope="session")
def editions() -> dict[str, EditionList]:
    return {name: load_edition_list(name) for name in ("scc", "dpa-2018", "effecttracker")}


@pytest.fixture
def sp_clock():
    """A fixed clock at 2026-11-21 12:00 UTC, in force for the whole test."""
    fixed = FixedClock(TODAY)
    with processor_clock.using(fixed):
        yield fixed
