"""The public base URL that signed OpenGDPR fields are built from, never the request's Host.

`results_url` and `processor_certificate` go into bodies we sign: a controller stores them and
follows them later. Built from the `Host` header, anyone who can reach the server could make
us sign a link to their own host. So they come from configuration (`serve --public-url`,
PROCESSOR_PUBLIC_URL); without it, on a loopback address, from the address we are bound to.
"""

from __future__ import annotations

import ipaddress
import os
from typing import Final
from urllib.parse import urlsplit, urlunsplit

from processor.kernel.errors import ConfigurationError

PUBLIC_URL_ENV: Final = "PROCESSOR_PUBLIC_URL"
DEFAULT_BOUND: Final = "http://127.0.0.1:8080/"


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or an address) is this machine only."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def checked(url: str) -> str:
    """`url` as a base ending in `/`; an unusable one is a one-line configuration error.

    https everywhere; plain http only on loopback (a results link is followed with a bearer
    credential, ACC-17).
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigurationError(f"{PUBLIC_URL_ENV} / --public-url must be an absolute https URL")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigurationError(
            f"{PUBLIC_URL_ENV} / --public-url must use https (http only on loopback)"
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ConfigurationError(
            f"{PUBLIC_URL_ENV} / --public-url takes no credentials, query or fragment"
        )
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def configured() -> str | None:
    """PROCESSOR_PUBLIC_URL, checked, or None when unset."""
    text = os.environ.get(PUBLIC_URL_ENV, "").strip()
    return checked(text) if text else None


def for_serving(given: str | None, host: str, port: int) -> tuple[str, bool]:
    """The base URL for `serve`: given, else configured, else the bound loopback address.

    Returns (url, defaulted). Bound to a non-loopback address without a public URL is refused:
    the address we listen on (0.0.0.0, a private address) is not where controllers reach us.
    """
    url = checked(given) if given else configured()
    if url is not None:
        return url, False
    if not is_loopback(host):
        raise ConfigurationError(
            f"serving on {host} needs the public base URL controllers reach us at "
            f"(--public-url https://... or {PUBLIC_URL_ENV}): signed results_url and "
            "processor_certificate are built from it"
        )
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/", True


def default() -> str:
    """For an app built without `serve` (tests, embedding): configured, else the default bind."""
    return configured() or DEFAULT_BOUND
