"""Keeping a logged-in credential in the person's own configuration directory.

`processor login NAME` checks the credential, then keeps it as
`$XDG_CONFIG_HOME/processor/credentials/<store>/<name>` (0600, in 0700 directories), so later
commands with `--as NAME` find it. The file belongs to the operating-system account that logged
in: another account on the machine cannot read it, and a copy of the store holds no credential.
"""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING

from processor.config import config_home
from processor.kernel.errors import ConfigurationError, InvalidInputError

if TYPE_CHECKING:
    from pathlib import Path

    from processor.config import Settings


def kept_path(settings: Settings, name: str) -> Path:
    """Where the credential of `name` for this store is kept."""
    if not name or "/" in name or name.startswith("."):
        raise InvalidInputError(f"invalid user name {name!r}")
    return config_home() / "credentials" / settings.store_key() / name


def keep(settings: Settings, name: str, text: str) -> Path:
    """Write the credential 0600, replacing an older one atomically."""
    path = kept_path(settings, name)
    for folder in (path.parent.parent.parent, path.parent.parent, path.parent):
        folder.mkdir(mode=0o700, exist_ok=True)
    tmp = path.with_name(f".{name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text.strip() + "\n")
    tmp.replace(path)
    return path


def kept(settings: Settings, name: str) -> str | None:
    """The kept credential of `name`, or None; refuse a file others can read."""
    path = kept_path(settings, name)
    if not path.exists():
        return None
    return read_secret_file(path)


def forget(settings: Settings, name: str) -> bool:
    """Remove the kept credential of `name`; True if there was one."""
    path = kept_path(settings, name)
    if path.exists():
        path.unlink()
        return True
    return False


def read_secret_file(path: Path) -> str:
    """Read a credential file, refusing one that others may read."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read credential file {path}: {exc}") from None
    if mode & 0o077:
        raise ConfigurationError(
            f"credential file {path} is readable by others (mode {mode:o}); run chmod 600 on it"
        )
    return text


def write_secret_file(path: Path, text: str) -> None:
    """Write a newly issued credential to a new 0600 file (`--credential-out`)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InvalidInputError(f"{path} exists; the credential file must be new") from None
    except OSError as exc:
        raise InvalidInputError(f"cannot write {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text.strip() + "\n")
