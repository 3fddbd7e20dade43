"""Blind indexes: find a contact by e-mail or phone without storing either in plaintext.

The index is an HMAC under a per-controller key over a normalised value, so the same address
typed with other case, surrounding space or Unicode composition finds the same contact, and
two controllers' indexes of one address are unrelated.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

from processor.errors import InvalidInputError

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_STRIP = re.compile(r"[\s\-().]")
_PHONE = re.compile(r"^\+?[0-9]{6,15}$")
MAX_EMAIL = 254


def normalise_email(value: str) -> str:
    """NFC, trimmed, case-folded; raises InvalidInputError for something that is not an e-mail."""
    text = unicodedata.normalize("NFC", value).strip().casefold()
    if len(text) > MAX_EMAIL or not _EMAIL.match(text):
        raise InvalidInputError("invalid e-mail address")
    return text


def normalise_phone(value: str) -> str:
    """NFC, trimmed, separators removed; keeps a leading + for international numbers."""
    text = _PHONE_STRIP.sub("", unicodedata.normalize("NFC", value).strip())
    if text.startswith("00"):
        text = "+" + text[2:]
    if not _PHONE.match(text):
        raise InvalidInputError("invalid phone number")
    return text


def pseudonym(key: bytes, contact_id: str) -> str:
    """A stable pseudonym for a contact: not reversible without the controller's pseudonym key."""
    return "p-" + hmac.new(key, contact_id.encode(), hashlib.sha256).hexdigest()[:20]


def blind_index(key: bytes, kind: str, normalised: str) -> str:
    """HMAC-SHA256 of `kind:value`, truncated to 128 bits (hex)."""
    mac = hmac.new(key, f"{kind}:{normalised}".encode(), hashlib.sha256)
    return mac.hexdigest()[:32]
