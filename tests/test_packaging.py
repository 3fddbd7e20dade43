"""The wheel holds every package and policy file, and building it is quiet (issue 18 §4)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Source folders and the import names they install under (pyproject.toml `package-dir`).
INSTALLED_AS = {"src": "", "cli": "processor_cli", "policies": "processor_policies"}


def _expected_files() -> set[str]:
    """Every module and policy file of the source tree, by its path inside the wheel."""
    wanted: set[str] = set()
    for folder, name in INSTALLED_AS.items():
        base = ROOT / folder
        for path in base.rglob("*"):
            if path.suffix not in {".py", ".toml"} or "__pycache__" in path.parts:
                continue
            if any(part.endswith(".egg-info") for part in path.parts):
                continue
            inside = path.relative_to(base).as_posix()
            wanted.add(f"{name}/{inside}" if name else inside)
    return wanted


@pytest.mark.slow
def test_wheel_holds_every_package_and_policy_and_builds_quietly(tmp_path):
    """`pip wheel` prints no warning, and the wheel holds every module (incl. subpackages such
    as `processor.credentials`) and every policy file, so an installed `processor` works.
    """
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    log = result.stdout + result.stderr
    assert result.returncode == 0, log
    ours = [line for line in log.splitlines() if "warning" in line.lower()]
    assert ours == [], "\n".join(ours)
    (wheel,) = tmp_path.glob("processor-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    missing = sorted(_expected_files() - names)
    assert missing == [], f"not in the wheel (list the package in pyproject.toml): {missing}"
    assert "processor_policies/subprocessors/scc.toml" in names
    assert "processor/py.typed" in names


@pytest.mark.slow
def test_make_installs_quietly(tmp_path):
    """`make demo` on a fresh clone prints no warnings (issue 18 item 4): the Makefile's own
    install commands (pip's upgrade, then the editable install), run into a fresh virtualenv,
    print nothing at all. With one `--quiet`, the upgraded pip still passed setuptools'
    "BuildBackendWarning: Editable installation" notes through.
    """
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    lines = [ln.split("#")[0].split() for ln in makefile.splitlines() if "pip install" in ln]
    assert len(lines) == 2, lines
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = str(venv / "bin" / "python")
    for command in lines:
        args = [python if word == "$(BIN)/python" else word for word in command]
        editable = '".[dev]"' in args
        args = [str(ROOT) if word == '".[dev]"' else word for word in args]
        assert args[0] == python
        result = subprocess.run(
            [*args, *(["--no-deps"] if editable else [])],
            cwd=ROOT, capture_output=True, text=True, check=False, timeout=600,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert result.stdout + result.stderr == "", " ".join(command)
