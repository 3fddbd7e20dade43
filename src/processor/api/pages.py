"""Cursor pagination: an opaque cursor that says where the next page starts.

The cursor is the position in a stable order (oldest first), base64url-encoded so callers treat
it as opaque; a malformed one is invalid input, never a crash.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Final, TypeVar

from processor.kernel.errors import InvalidInputError

DEFAULT_LIMIT: Final = 100
MAX_LIMIT: Final = 1000
PREFIX: Final = "o:"

T = TypeVar("T")


def encode(offset: int) -> str:
    """The cursor of a position."""
    return base64.urlsafe_b64encode(f"{PREFIX}{offset}".encode()).decode("ascii").rstrip("=")


def decode(cursor: str | None) -> int:
    """The position a cursor names (0 without one)."""
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInputError("invalid cursor: pass back the next_cursor of a page") from None
    if not text.startswith(PREFIX) or not text[len(PREFIX) :].isdigit():
        raise InvalidInputError("invalid cursor: pass back the next_cursor of a page")
    return int(text[len(PREFIX) :])


def page(items: list[T], offset: int, total: int | None = None) -> dict[str, Any]:
    """A page of `items` (already cut to the page's size, starting at `offset`)."""
    total = offset + len(items) if total is None else total
    more = offset + len(items) < total
    return {"items": items, "next_cursor": encode(offset + len(items)) if more else None}


def cut(items: list[T], cursor: str | None, limit: int) -> dict[str, Any]:
    """Cut a whole (small) result into a page."""
    offset = decode(cursor)
    return page(items[offset : offset + limit], offset, len(items))
