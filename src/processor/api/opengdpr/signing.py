"""Signatures over exact bodies: Ed25519 with the processor's ledger key.

OpenGDPR asks for an X.509 certificate from a public CA and an RSA/ECDSA signature (FIPS 186-4).
We sign with the Ed25519 key that already signs the ledger's checkpoints and receipts (Ed25519
is in FIPS 186-5), so a controller trusts one key for everything the processor asserts; the key
is published as PEM (`processor_certificate` in `/discovery`) and as the ledger's verifier key.
The signature covers the body bytes exactly as sent: a verifier checks them before parsing.

OpenDSR 2.0 (the spec's current name) carries the same two headers as `X-OpenDSR-*` (sections
7.4, 8.3, 8.6, 9.3); OpenGDPR answers keep `X-OpenGDPR-*`. A callback carries both sets, since
section 10.1 has every party honour the OpenGDPR headers too: the signature is the same bytes.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Final

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


PREFIXES: Final = {"opengdpr": "X-OpenGDPR", "opendsr": "X-OpenDSR"}


class BodySigner:
    """Signs response and callback bodies."""

    def __init__(self, key: Ed25519PrivateKey, domain: str) -> None:
        self.key = key
        self.domain = domain

    def signature(self, body: bytes) -> str:
        """The base64 Ed25519 signature of `body`."""
        return base64.b64encode(self.key.sign(body)).decode("ascii")

    def headers(self, body: bytes, *protocols: str) -> dict[str, str]:
        """The domain and signature headers for `body`, once per protocol (default OpenGDPR)."""
        signature = self.signature(body)
        out: dict[str, str] = {}
        for protocol in protocols or ("opengdpr",):
            out[f"{PREFIXES[protocol]}-Processor-Domain"] = self.domain
            out[f"{PREFIXES[protocol]}-Signature"] = signature
        return out

    def public_pem(self) -> str:
        """The public key as PEM (SubjectPublicKeyInfo)."""
        return (
            self.key.public_key()
            .public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
            .decode("ascii")
        )
