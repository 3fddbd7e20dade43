"""Blind indexes: find a contact by e-mail or phone without storing either in plaintext.

The index is an HMAC under a per-controller key over a normalised value, so the same address
typed with other case, surrounding space or Unicode composition finds the same contact, and
two controllers' indexes of one address are unrelated.

E-mail identity (`normalise_email`) merges only spellings of one mailbox, never two mailboxes:
* the domain is an IDNA name: UTS 46 mapping (case, full-width forms, NFC) and IDNA 2008
  (non-transitional, so `straße.de` stays apart from `strasse.de`), compared in its ASCII
  (punycode) form, so `bücher.de`, `BÜCHER.de` and `xn--bcher-kva.de` are one domain;
* the local part belongs to the receiving server, which may tell case apart but in practice
  does not: it is trimmed, width-mapped (full-width letters become ASCII, as in the PRECIS
  username profile, RFC 8265), lower-cased with `str.lower` (never `casefold`, which would
  turn `straße` into `strasse` and make two people one) and put in NFC, so NFC and NFD
  input are one person. No other compatibility mapping (NFKC) is applied to it: `ﬁ` and `fi`
  may be different mailboxes.
Changing this rule changes every blind index: `EMAIL_RULE` is part of the read models' schema
fingerprint, so a store rebuilds its indexes with the new rule when it is next opened.
"""

from __future__ import annotations

import hmac
import re
import unicodedata

import idna

from processor.kernel.errors import InvalidInputError

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_STRIP = re.compile(r"[\s\-().]")
_PHONE = re.compile(r"^\+?[0-9]{6,15}$")
MAX_EMAIL = 254


EMAIL_RULE = 2  # 1: NFC + casefold; 2: IDNA domain, lower-cased width-mapped local part


def _width_mapped(text: str) -> str:
    """Full-width and half-width forms replaced by their ordinary characters, nothing else."""
    if text.isascii():  # no ASCII character has a <wide> or <narrow> decomposition
        return text
    return "".join(
        unicodedata.normalize("NFKC", ch)
        if unicodedata.decomposition(ch).startswith(("<wide>", "<narrow>"))
        else ch
        for ch in text
    )


def normalise_domain(value: str) -> str:
    """The ASCII (punycode) form of a mail domain, lower case; InvalidInputError if not a name."""
    if value.isascii():
        return value.lower()
    try:
        return idna.encode(value, uts46=True, transitional=False).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError):
        raise InvalidInputError("invalid e-mail address") from None


def normalise_email(value: str) -> str:
    """The address as one mailbox: see the module docstring for the rule.

    Raises InvalidInputError (without echoing the value) for something that is not an e-mail.
    """
    text = _width_mapped(unicodedata.normalize("NFC", value).strip())
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise InvalidInputError("invalid e-mail address")
    text = unicodedata.normalize("NFC", local.lower()) + "@" + normalise_domain(domain)
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
    return "p-" + hmac.digest(key, contact_id.encode(), "sha256").hex()[:20]


def blind_index(key: bytes, kind: str, normalised: str) -> str:
    """HMAC-SHA256 of `kind:value`, truncated to 128 bits (hex)."""
    return hmac.digest(key, f"{kind}:{normalised}".encode(), "sha256").hex()[:32]
