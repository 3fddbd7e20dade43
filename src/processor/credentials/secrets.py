"""What a credential is: a random secret with a public id, stored only as its SHA-256 digest.

The secret carries 256 bits from the operating system's generator, so a plain SHA-256 digest is
enough: there is nothing to guess, and a copy of the store (which holds only digests) yields no
working credential. The id lets logs and events name which credential was used or refused
without holding anything secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Final

PREFIX: Final = "pcr1"
_ID_BYTES: Final = 6
_SECRET_BYTES: Final = 32


@dataclass(frozen=True)
class Credential:
    """A freshly issued credential: the text handed to the person, once."""

    credential_id: str
    text: str

    @property
    def digest(self) -> str:
        """What the store keeps."""
        return digest_of(self.text)


def new_credential() -> Credential:
    """A new random credential (`pcr1_<id>_<secret>`)."""
    cid = secrets.token_hex(_ID_BYTES)
    return Credential(cid, f"{PREFIX}_{cid}_{secrets.token_urlsafe(_SECRET_BYTES)}")


def digest_of(text: str) -> str:
    """The SHA-256 digest of a credential's text, in hex."""
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()


def credential_id_of(text: str) -> str | None:
    """The public id inside a credential's text, or None when it is not one of ours."""
    parts = text.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX or len(parts[1]) != 2 * _ID_BYTES:  # noqa: PLR2004
        return None
    return parts[1]


def matches(text: str, digest: str | None) -> bool:
    """Whether `text` is the credential whose digest is `digest` (constant time)."""
    if digest is None or credential_id_of(text) is None:
        return False
    return hmac.compare_digest(digest_of(text), digest)
