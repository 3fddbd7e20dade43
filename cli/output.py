"""Printing results: one JSON document with `--json`, readable text otherwise."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import click


def _default(value: Any) -> Any:  # noqa: ANN401
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def to_json(data: Any) -> str:  # noqa: ANN401
    """Serialise a result (dates as ISO-8601)."""
    return json.dumps(data, indent=2, ensure_ascii=False, default=_default)


def _text(data: Any, indent: int = 0) -> list[str]:  # noqa: ANN401
    pad = "  " * indent
    lines: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, dict | list) and value:
                lines.append(f"{pad}{key}:")
                lines.extend(_text(value, indent + 1))
            else:
                shown = "" if value is None else ("-" if value in ({}, []) else value)
                lines.append(f"{pad}{key}: {shown}")
    elif isinstance(data, list):
        for item in data:
            if isinstance(item, dict):
                inner = _text(item, indent + 1)
                if inner:
                    lines.append(f"{pad}- {inner[0].strip()}")
                    lines.extend(inner[1:])
            else:
                lines.append(f"{pad}- {item}")
    else:
        lines.append(f"{pad}{data}")
    return lines


def emit(data: Any, *, as_json: bool, text: str | None = None) -> None:  # noqa: ANN401
    """Print `data` as JSON, or `text` (when given) or a plain rendering of `data`."""
    if as_json:
        click.echo(to_json(data))
    elif text is not None:
        click.echo(text)
    else:
        click.echo("\n".join(_text(data)))
