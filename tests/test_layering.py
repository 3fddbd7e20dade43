"""The house stays clean: arrows only downward, no circle of more than two files (issue 24).

`tools/import_graph.py` draws the import graph from every import in `src/` (type-only and
deferred ones included) and `pyproject.toml`'s import-linter contract names the layers; both run
here, so a change that ties the middle into a circle again fails `make test`, not only `make lint`.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _graph_tool():
    spec = importlib.util.spec_from_file_location(
        "import_graph", ROOT / "tools" / "import_graph.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["import_graph"] = module
    spec.loader.exec_module(module)
    return module


graph = _graph_tool()


@pytest.fixture(scope="module")
def house():
    return graph.measure()


def test_no_circle_of_more_than_two_files(house) -> None:
    big = [c for c in house.circles if len(c) > graph.LIMITS["circle"]]
    assert not big, f"import circles of more than two files: {big}"


def test_at_most_nine_arrows_run_upward(house) -> None:
    assert len(house.upward) <= graph.LIMITS["upward"], "\n".join(
        f"{a} -> {b}" for a, b in house.upward
    )


def test_no_lower_module_imports_the_application_or_a_session(house) -> None:
    top = {"processor.app", "processor.session", "processor.desk"}
    for source, targets in house.edges.items():
        if graph.layer_of(source) < graph.layer_of("processor.app"):
            assert not targets & top, f"{source} imports {sorted(targets & top)}"


def test_the_root_of_the_package_holds_at_most_twelve_modules(house) -> None:
    assert len(house.root_modules) <= graph.LIMITS["root"], house.root_modules


def test_the_kernel_imports_nothing_of_the_processor_outside_itself(house) -> None:
    for source, targets in house.edges.items():
        if source.startswith("processor.kernel"):
            outside = {t for t in targets if not t.startswith("processor.kernel")}
            assert not outside, f"{source} imports {sorted(outside)}"


def test_the_domain_and_the_subprocessor_registry_import_only_the_kernel(house) -> None:
    for source, targets in house.edges.items():
        if source.startswith(("processor.domain", "subprocessors")):
            above = {t for t in targets if graph.layer_of(t) > graph.layer_of("processor.domain")}
            assert not above, f"{source} imports {sorted(above)}"


def test_the_measure_finds_a_circle_and_an_upward_arrow() -> None:
    """The tool itself can fail: a made-up three-file circle and an upward arrow are found."""
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert graph._strongly_connected(edges) == [["a", "b", "c"]]
    assert graph.layer_of("processor.kernel.errors") < graph.layer_of("processor.app")
    assert graph.layer_of("processor.services.contacts") > graph.layer_of("processor.session")


def test_the_import_linter_contract_is_kept() -> None:
    lint_imports = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    if not Path(lint_imports).exists():
        pytest.fail("lint-imports is not installed: install the dev extras (`make test` does)")
    result = subprocess.run(
        [lint_imports, "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
