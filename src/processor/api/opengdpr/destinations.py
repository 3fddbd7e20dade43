"""Where a status callback may go: public addresses only, resolved once and pinned (SSRF).

A controller's administrator names the callback URLs, and the server then makes requests to
them from inside our network. Without care that is a way to reach what only the server can:
the cloud metadata service (169.254.169.254), the database, an admin port on loopback. So:

- a URL whose host is an address in a non-public range (loopback, link-local, private,
  unique-local, multicast, unspecified, reserved, shared; IPv4 and IPv6, IPv4-mapped included),
  or the name `localhost`, is refused when it is registered;
- at delivery the name is resolved once, every address it resolves to must be public, and the
  connection goes to that checked address (the name is still sent as Host and TLS SNI, and the
  certificate is checked against it), so a second DNS answer cannot move it (DNS rebinding);
- redirects are not followed, and no proxy from the environment is used.

The operator may allow ranges (PROCESSOR_CALLBACK_ALLOW=127.0.0.0/8,::1/128, or `serve
--callback-allow`): a controller's endpoint on the same private network, or the tests'.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit, urlunsplit

import httpx

from processor.kernel.errors import ConfigurationError, InvalidInputError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

ALLOW_ENV: Final = "PROCESSOR_CALLBACK_ALLOW"
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# Resolves (host, port) to addresses; `socket.getaddrinfo` in production.
Resolver = Callable[[str, int], list[str]]

_NAMED: Final[tuple[tuple[str, str], ...]] = (
    ("is_unspecified", "unspecified"),
    ("is_loopback", "loopback"),
    ("is_link_local", "link-local"),
    ("is_multicast", "multicast"),
    ("is_private", "private"),
    ("is_reserved", "reserved"),
)
_UNIQUE_LOCAL: Final = ipaddress.ip_network("fc00::/7")
_SHARED: Final = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT, not global


class CallbackDestinationError(InvalidInputError):
    """A callback URL points (or resolves) to an address the operator did not allow."""


def parse_allow(text: str | Iterable[str] | None) -> tuple[Network, ...]:
    """Networks from "a/n,b/m" (or a list of them); a bad one is a configuration error."""
    if text is None:
        text = os.environ.get(ALLOW_ENV, "")
    items = text.split(",") if isinstance(text, str) else list(text)
    networks: list[Network] = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigurationError(
                f"{ALLOW_ENV} / --callback-allow: {item[:60]!r} is not an address range"
            ) from None
    return tuple(networks)


def kind_of(address: Address) -> str | None:
    """The non-public range `address` is in ("loopback", "private", ...), or None if public."""
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            found = kind_of(mapped)
            return None if found is None else f"IPv4-mapped {found}"
        if address in _UNIQUE_LOCAL:
            return "unique-local"
    elif address in _SHARED:
        return "shared (carrier-grade NAT)"
    for attribute, name in _NAMED:
        if getattr(address, attribute):
            return name
    return None if address.is_global else "non-global"


@dataclass(frozen=True)
class Destinations:
    """The rule: public addresses, plus the ranges the operator allowed."""

    allow: tuple[Network, ...] = ()
    resolve: Resolver | None = None

    def refusal(self, address: str) -> str | None:
        """Why `address` may not be called back, or None when it may."""
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        kind = kind_of(ip)
        mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
        if kind is None or any(a in net for a in (ip, mapped) if a for net in self.allow
                               if net.version == a.version):  # fmt: skip
            return None
        return f"{address} ({kind})"

    def check_url(self, url: str) -> None:
        """Refuse at registration what is bad without resolving (unless allowed).

        That is a non-public literal address, or `localhost`; a name is checked again,
        resolved, at each delivery.
        """
        host = urlsplit(url).hostname or ""
        if host.rstrip(".").lower() == "localhost" or host.lower().endswith(".localhost"):
            why = self.refusal("127.0.0.1")
            if why is not None:
                raise CallbackDestinationError(_refused(f"{host} (loopback)"))
            return
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            return
        why = self.refusal(str(literal))
        if why is not None:
            raise CallbackDestinationError(_refused(why))

    def pin(self, url: str) -> str:
        """Resolve the URL's host once; the address to connect to, if every answer is allowed."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            addresses = (self.resolve or _getaddrinfo)(host, port)
        except OSError:
            raise CallbackDestinationError(f"callback host {host} does not resolve") from None
        if not addresses:
            raise CallbackDestinationError(f"callback host {host} does not resolve")
        for address in addresses:
            why = self.refusal(address)
            if why is not None:
                raise CallbackDestinationError(_refused(f"{host} resolves to {why}"))
        return addresses[0]


def _refused(why: str) -> str:
    return (
        f"callback URL refused: {why} (only public addresses, unless the operator allows "
        f"the range in {ALLOW_ENV})"
    )


def _getaddrinfo(host: str, port: int) -> list[str]:
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in found))


def pinned_post(
    url: str,
    address: str,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
    verify: bool | ssl.SSLContext = True,
) -> httpx.Response:
    """POST `body` to `url`, connecting to `address` (already checked), never re-resolving.

    The URL's host goes in the Host header and as TLS server name (SNI and certificate check);
    redirects are answered as they are (not followed); proxies from the environment are ignored.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    shown = f"[{address}]" if ":" in address else address
    target = urlunsplit((parts.scheme, f"{shown}:{port}", parts.path or "/", parts.query, ""))
    host_header = host if parts.port is None else f"{host}:{parts.port}"
    with httpx.Client(
        verify=verify, trust_env=False, follow_redirects=False, timeout=timeout
    ) as client:
        return client.post(
            target,
            content=body,
            headers={**headers, "Host": host_header},
            extensions={"sni_hostname": host},
        )


def from_options(allow: str | Sequence[str] | None, resolve: Resolver | None) -> Destinations:
    """The rule from the OpenGDPR options (None: PROCESSOR_CALLBACK_ALLOW)."""
    return Destinations(parse_allow(allow), resolve)
