"""The HTML report in a real browser: Debian's headless Chromium draws it and its charts (AUD-1).

The page is rendered to a PNG that must not be blank, and a copy of it with a test-only script
appended measures every chart's marks with `getBBox` and writes the counts into the DOM, which
`--dump-dom` returns. PROCESSOR_CHROMIUM names another binary. Without Chromium the test
skips with the reason; CI sets
PROCESSOR_REQUIRE_BROWSER=1, which turns that skip into a failure (tests/conftest.py).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from support import login
from test_audit_report import planted_story

from processor.audit import render_html
from processor.audit.report import build_report

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
MEASURE = """<script>
(function () {
  var out = {};
  document.querySelectorAll('figure.chart').forEach(function (figure) {
    var drawn = 0;
    figure.querySelectorAll('svg .mark').forEach(function (mark) {
      var box = mark.getBBox();
      if (box.width > 0 && box.height > 0) { drawn += 1; }
    });
    out[figure.getAttribute('data-chart')] = drawn;
  });
  var pre = document.createElement('pre');
  pre.id = 'measured-marks';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>"""


def chromium() -> str:
    """The Chromium binary, or skip with the reason (CI's require flag makes that a failure)."""
    given = os.environ.get("PROCESSOR_CHROMIUM")
    candidates = [given] if given else [shutil.which("chromium"), "/usr/bin/chromium"]
    found = next((c for c in candidates if c and os.access(c, os.X_OK)), None)
    if found is None:
        pytest.skip(
            "browser test: headless Chromium not found (apt-get install chromium; `make test` "
            "does it as root); CI requires it with PROCESSOR_REQUIRE_BROWSER=1"
        )
    return found


def run_chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium once with its own profile directory."""
    return subprocess.run(
        [binary, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def png_pixels(path: Path) -> tuple[int, int, bytes]:
    """Width, height and the inflated image data (filter bytes included) of a PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    offset, width, height, idat = 8, 0, 0, b""
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        offset += 12 + length
    return width, height, zlib.decompress(idat)


def not_blank(raw: bytes) -> float:
    """The share of bytes that are neither 0 nor 255.

    A blank (single-colour white) page has rows of 255s, or of 0s under the Sub/Up filters, so
    this share is near zero; text and coloured charts make it large.
    """
    return (len(raw) - raw.count(0) - raw.count(255)) / max(1, len(raw))


@pytest.fixture
def report_file(acme, clock, tmp_path):
    planted_story(acme, clock)
    model = build_report(login(acme, "grete").session)
    path = tmp_path / "report.html"
    path.write_text(render_html.render(model), encoding="utf-8")
    return path, model


def test_chromium_renders_the_report_and_draws_every_chart__AUD_1(report_file, tmp_path):
    """The screenshot is not blank and every chart has marks with a real size in the browser."""
    binary = chromium()
    path, model = report_file
    shot = tmp_path / "report.png"
    done = run_chromium(
        binary, tmp_path / "profile-shot", f"--screenshot={shot}", "--window-size=1100,2400",
        path.as_uri(),
    )  # fmt: skip
    assert shot.exists(), done.stderr[-2000:]
    width, height, raw = png_pixels(shot)
    assert (width, height) == (1100, 2400)
    assert not_blank(raw) > 0.01

    measured = tmp_path / "measured.html"
    measured.write_text(
        path.read_text(encoding="utf-8").replace("</body>", MEASURE + "</body>"), encoding="utf-8"
    )
    dumped = run_chromium(
        binary, tmp_path / "profile-dom", "--virtual-time-budget=5000", "--dump-dom",
        measured.as_uri(),
    )  # fmt: skip
    found = re.search(r'<pre id="measured-marks">(.*?)</pre>', dumped.stdout, re.DOTALL)
    assert found, f"the measuring script left no result: {dumped.stderr[-2000:]}"
    marks = json.loads(html.unescape(found.group(1)))
    expected = {c["id"] for c in model["charts"]} | {
        f"breach-{b['reference']}" for b in model["breaches"]["breaches"]
    }
    assert set(marks) == expected
    assert all(count > 0 for count in marks.values()), marks
