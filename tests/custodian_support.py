"""A SoftHSM2 token of the tests' own, and settings that choose a key custodian (RET-5).

SoftHSM2 reads SOFTHSM2_CONF once, when the PKCS#11 library is initialised in a process, so
one token in a temporary folder serves the whole test session; every store labels its keys with
its own store key, so stores never see each other's keys.

Without softhsm2 the PKCS#11 tests skip, except in CI (PROCESSOR_REQUIRE_POSTGRES=1), where
they fail: `.ci/run` installs the package, so a missing one is a broken CI machine.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from support import REQUIRE_POSTGRES

from processor.config import Settings

SOFTHSM_MODULES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
)
TOKEN = "processor-tests"  # noqa: S105 - a token label, not a password
PIN = "1234"
CUSTODIANS = [
    pytest.param("file", id="file"),
    pytest.param("pkcs11", id="pkcs11", marks=pytest.mark.pkcs11),
]


@dataclasses.dataclass(frozen=True)
class Token:
    """A SoftHSM2 token the tests made: its module, label and PIN."""

    module: str
    label: str
    pin: str


def softhsm_module() -> str | None:
    """The SoftHSM2 PKCS#11 module, if installed."""
    return next((m for m in SOFTHSM_MODULES if Path(m).exists()), None)


def _missing(why: str) -> None:
    if REQUIRE_POSTGRES:
        pytest.fail(f"{why}: CI requires SoftHSM2 (apt-get install -y softhsm2)")
    pytest.skip(f"{why}: install softhsm2 to run the PKCS#11 custodian tests")


def make_token(folder: Path) -> Token:
    """Initialise a SoftHSM2 token in `folder` and point SOFTHSM2_CONF at it (once a process)."""
    module = softhsm_module()
    util = shutil.which("softhsm2-util")
    if module is None or util is None:
        _missing("SoftHSM2 is not installed")
    assert module is not None and util is not None
    existing = os.environ.get("SOFTHSM2_CONF")
    if existing and Path(existing).name == "processor-tests-softhsm2.conf":
        return Token(module, TOKEN, PIN)  # this process already made (and loaded) it
    tokens = folder / "tokens"
    tokens.mkdir(parents=True, exist_ok=True)
    conf = folder / "processor-tests-softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n",
        encoding="utf-8",
    )
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(
        [util, "--init-token", "--free", "--label", TOKEN, "--pin", PIN, "--so-pin", PIN],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return Token(module, TOKEN, PIN)


def with_custodian(settings: Settings, kind: str, token: Token | None) -> Settings:
    """`settings` choosing the `file` custodian (the default) or the `pkcs11` one on `token`."""
    if kind == "file":
        return settings
    assert token is not None
    return dataclasses.replace(
        settings,
        custodian="pkcs11",
        pkcs11_module=token.module,
        pkcs11_token=token.label,
        pkcs11_pin=token.pin,
    )


def custodian_env(kind: str, token: Token | None) -> dict[str, str | None]:
    """The environment a CLI run needs for the custodian."""
    if kind == "file" or token is None:
        return {}
    return {
        "PROCESSOR_CUSTODIAN": "pkcs11",
        "PROCESSOR_PKCS11_MODULE": token.module,
        "PROCESSOR_PKCS11_TOKEN": token.label,
        "PROCESSOR_PKCS11_PIN": token.pin,
    }
