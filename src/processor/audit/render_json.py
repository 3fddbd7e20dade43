"""The report as JSON: the model itself, for scripts, dashboards and a diff between periods."""

from __future__ import annotations

import json
from typing import Any


def render(model: dict[str, Any]) -> str:
    """The model as one indented JSON document (times as ISO-8601 strings)."""
    return json.dumps(model, indent=2, ensure_ascii=False, default=str) + "\n"
