"""Checks on values typed by users: ids, dates, country codes, KEY=VALUE pairs."""

from __future__ import annotations

import re
from datetime import date, datetime

from processor.errors import InvalidInputError

_REF = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_LIST = re.compile(r"^[^\x00-\x1f]{1,128}$")
_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


def controller_ref(value: str) -> str:
    """A controller id: lower-case letters, digits, `-` and `_`."""
    if not _REF.match(value):
        raise InvalidInputError(
            f"invalid controller id {value!r}: use lower-case letters, digits, '-' or '_'"
        )
    return value


def user_name(value: str) -> str:
    """A user name: letters, digits and `._@-`."""
    if not _NAME.match(value):
        raise InvalidInputError(f"invalid user name {value!r}")
    return value


def country(value: str) -> str:
    """An ISO 3166 alpha-2 country code, upper-cased."""
    code = value.strip().upper()
    if not _COUNTRY.match(code):
        raise InvalidInputError(f"invalid country code {value!r}: use two letters, e.g. DK")
    return code


def list_name(value: str) -> str:
    """A list name: 1-128 printable characters."""
    name = value.strip()
    if not _LIST.match(name):
        raise InvalidInputError(f"invalid list name {value!r}")
    return name


def field_name(value: str) -> str:
    """A custom field name: a letter, then letters, digits or `_`."""
    if not _FIELD.match(value):
        raise InvalidInputError(f"invalid field name {value!r}")
    return value


def iso_date(value: str, what: str = "date") -> str:
    """A calendar date in ISO form (YYYY-MM-DD)."""
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise InvalidInputError(f"invalid {what} {value!r}: use YYYY-MM-DD") from None


def iso_datetime(value: str, what: str = "time") -> datetime:
    """An ISO-8601 time; a date alone means midnight UTC; no zone means UTC."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInputError(f"invalid {what} {value!r}: use ISO-8601") from None
    if parsed.tzinfo is None:
        from datetime import UTC

        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def key_values(pairs: tuple[str, ...] | list[str]) -> dict[str, str]:
    """Parse `KEY=VALUE` pairs; a pair without `=` or with an empty key is invalid input."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidInputError(f"malformed KEY=VALUE: {pair[:40]!r}")
        out[field_name(key.strip())] = value
    return out
