"""Checks on values typed by users: ids, dates, country codes, KEY=VALUE pairs."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from processor.kernel.errors import InvalidInputError

_REF = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_LIST = re.compile(r"^[^\x00-\x1f]{1,128}$")
_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
_KEY = re.compile(r"^(custom\.)?[A-Za-z][A-Za-z0-9_]{0,63}$", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Every date a user gives, and every simulated time: far enough for any real date, and far enough
# from date.max (9999-12-31) that adding any deadline (days or years) cannot overflow.
MIN_YEAR = 1900
MAX_YEAR = 2999


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


def _in_bounds(year: int, what: str) -> None:
    """Refuse years no deadline may start from.

    Deadlines add up to some years to a date; near `date.max` that overflows, and a date stored
    before the check would break every later command that computes with it (issue 12 item 5).
    """
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidInputError(f"{what} must be between {MIN_YEAR} and {MAX_YEAR}")


def iso_date(value: str, what: str = "date", *, personal: bool = False) -> str:
    """A calendar date in ISO form (YYYY-MM-DD), within MIN_YEAR..MAX_YEAR.

    A personal date (a birth date) is never repeated in the message: errors reach stderr,
    rejects files and logs, none of which may hold personal data.
    """
    shown = "" if personal else f" {value[:40]!r}"
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInputError(f"invalid {what}{shown}: use YYYY-MM-DD") from None
    _in_bounds(day.year, what)
    return day.isoformat()


def iso_datetime(value: str, what: str = "time") -> datetime:
    """An ISO-8601 time within MIN_YEAR..MAX_YEAR; a date alone means midnight UTC; no zone, UTC."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInputError(f"invalid {what} {value[:40]!r}: use ISO-8601") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    _in_bounds(parsed.year, what)
    return parsed


def has_control(value: str) -> bool:
    """Whether `value` holds a C0 or C1 control character (NUL, newline, tab, ESC, DEL...)."""
    return _CONTROL.search(value) is not None


def no_control(value: str, what: str) -> str:
    """`value`, refused when it holds a control character; the value itself is never shown."""
    if has_control(value):
        raise InvalidInputError(f"{what} contains a control character")
    return value


def key_values(pairs: tuple[str, ...] | list[str]) -> dict[str, str]:
    """Parse `KEY=VALUE` pairs; a pair without `=` or with an empty key is invalid input.

    Only the key is ever shown in a message: the value may be personal data.
    """
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InvalidInputError(f"malformed KEY=VALUE: {key[:40]!r} (give KEY=VALUE)")
        if not _KEY.match(key):
            raise InvalidInputError(f"invalid field name {key[:40]!r}")
        if key in out:
            raise InvalidInputError(f"{key} is given twice")
        out[key] = value
    return out
