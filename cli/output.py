"""Printing results: one JSON document with `--json`, readable text otherwise."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import click


def _default(value: Any) -> Any:  # noqa: ANN401
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def to_json(data: Any) -> str:  # noqa: ANN401
    """Serialise a result (dates as ISO-8601)."""
    import json  # not at the top: `processor --help` does without it

    return json.dumps(data, indent=2, ensure_ascii=False, default=_default)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(value: object) -> str:
    r"""`value` as text with control characters escaped (`\n`, `\x00`), never raw.

    Stored values from before control characters were refused, or from a free-text field, must
    not break a column, clear a terminal or forge a line of output.
    """
    text = str(value)
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def _text(data: Any, indent: int = 0) -> list[str]:  # noqa: ANN401
    pad = "  " * indent
    lines: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, dict | list) and value:
                lines.append(f"{pad}{printable(key)}:")
                lines.extend(_text(value, indent + 1))
            else:
                shown = "" if value is None else ("-" if value in ({}, []) else value)
                lines.append(f"{pad}{printable(key)}: {printable(shown)}")
    elif isinstance(data, list):
        for item in data:
            if isinstance(item, dict):
                inner = _text(item, indent + 1)
                if inner:
                    lines.append(f"{pad}- {inner[0].strip()}")
                    lines.extend(inner[1:])
            else:
                lines.append(f"{pad}- {printable(item)}")
    else:
        lines.append(f"{pad}{printable(data)}")
    return lines


_printed_json = [False]


def start_invocation() -> None:
    """Forget what an earlier invocation in this process printed (tests run many in one)."""
    _printed_json[0] = False


def printed_json() -> bool:
    """Whether this invocation already printed its JSON document (a report that exits 1)."""
    return _printed_json[0]


def emit(data: Any, *, as_json: bool, text: str | None = None) -> None:  # noqa: ANN401
    """Print `data` as JSON, or `text` (when given) or a plain rendering of `data`."""
    if as_json:
        _printed_json[0] = True
        click.echo(to_json(data))
    elif text is not None:
        click.echo(text)
    else:
        click.echo("\n".join(_text(data)))
