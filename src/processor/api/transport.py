"""How `processor serve` keeps access encrypted in transit (ACC-17).

Every access to personal data by a controller or its representatives goes over TLS (SCC C.2,
DPA18 Bilag 2). The server either terminates TLS itself, with the certificate and key the
operator configured (`--tls-cert`/`--tls-key`, PROCESSOR_TLS_CERT/PROCESSOR_TLS_KEY, handed to
uvicorn), or the operator declares that it runs behind a proxy that does
(`--behind-tls-proxy`). Plain HTTP is served on a loopback address only, where nothing leaves
the machine; anywhere else it is refused before the server starts. The choice is made here,
once, so the command line only passes options through.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from processor.api.publicurl import is_loopback
from processor.kernel.errors import ConfigurationError

TLS_CERT_ENV: Final = "PROCESSOR_TLS_CERT"
TLS_KEY_ENV: Final = "PROCESSOR_TLS_KEY"

OWN: Final = "tls"
"""The server terminates TLS itself."""
PROXY: Final = "tls-proxy"
"""A proxy the operator declared terminates TLS in front of the server."""
LOOPBACK: Final = "loopback"
"""Plain HTTP on a loopback address: nothing crosses a network."""


@dataclass(frozen=True)
class Transport:
    """What protects the connections `serve` accepts, and uvicorn's TLS settings for it."""

    kind: str
    certfile: Path | None = None
    keyfile: Path | None = None

    @property
    def scheme(self) -> str:
        """The scheme a client on the bound address uses."""
        return "https" if self.kind == OWN else "http"

    def describe(self) -> str:
        """One phrase for the start-up line."""
        return {
            OWN: "TLS terminated here",
            PROXY: "TLS terminated by the declared proxy",
            LOOPBACK: "plain HTTP on loopback only",
        }[self.kind]


def _readable(path: Path, option: str) -> Path:
    if not path.is_file() or not os.access(path, os.R_OK):
        raise ConfigurationError(f"{option}: no readable file at the path given")
    return path


def for_serving(
    host: str,
    cert: str | None,
    key: str | None,
    *,
    behind_tls_proxy: bool = False,
) -> Transport:
    """The transport for `serve` on `host`, or a one-line ConfigurationError (exit 2).

    Certificate and key go together; a server that terminates TLS itself does not also claim a
    proxy does. Without either, only a loopback address may be served in plain HTTP.
    """
    if (cert is None) != (key is None):
        raise ConfigurationError("--tls-cert and --tls-key go together (give both or neither)")
    if cert is not None and key is not None:
        if behind_tls_proxy:
            raise ConfigurationError(
                "give either --tls-cert/--tls-key or --behind-tls-proxy, not both"
            )
        return Transport(
            OWN, _readable(Path(cert), "--tls-cert"), _readable(Path(key), "--tls-key")
        )
    if behind_tls_proxy:
        return Transport(PROXY)
    if not is_loopback(host):
        raise ConfigurationError(
            f"serving plain HTTP on {host} is refused: all access must be encrypted in transit "
            "(give --tls-cert and --tls-key, or --behind-tls-proxy when a proxy terminates TLS)"
        )
    return Transport(LOOPBACK)
