"""structlog is imported on the first log call, and configured as `configure` asked (issue 17).

`processor.logs.configure` runs for every CLI command; importing structlog there cost a
command that logs nothing about a tenth of its start-up. These tests run in a fresh
interpreter, where structlog is not yet loaded, as in a CLI process.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

_PROBE = """
import sys
from processor import logs
logs.configure(sys.argv[1], json=True)
before = "structlog" in sys.modules
logs.get_logger("probe").info("imported", email="anne.nielsen@example.dk", count=3)
logs.get_logger("probe").debug("below the level")
sys.stdout.write("BEFORE %s AFTER %s" % (before, "structlog" in sys.modules))
"""


def _probe(level: str) -> tuple[str, str]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, level],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout, done.stderr


def test_configure_does_not_import_structlog_and_the_first_log_call_does():
    """Configuring logs loads nothing; the first call loads structlog with the redaction chain."""
    out, err = _probe("INFO")
    assert out == "BEFORE False AFTER True"
    lines = err.strip().splitlines()
    assert len(lines) == 1, err  # the debug line is filtered by the configured level
    entry = json.loads(lines[0])
    assert entry["event"] == "imported"
    assert entry["email"] == "[redacted]"
    assert entry["count"] == 3
    assert entry["level"] == "info"


def test_an_unknown_level_fails_at_configure():
    """A wrong PROCESSOR_LOG_LEVEL is still refused at once, before anything is logged."""
    from processor import logs
    from processor.kernel.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="unknown PROCESSOR_LOG_LEVEL"):
        logs.configure("LOUD")
