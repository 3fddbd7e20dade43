"""Writing a file the user named with `--out`, `--receipt` or `--rejects`, as they meant it.

One place decides what "write to PATH" means, so every command behaves alike:

- a symlink is followed, and its target written (never replaced by a regular file);
- a FIFO, character device or socket is written as a stream, in place (`/dev/stdout`,
  `/dev/full`, a named pipe): it is never unlinked or replaced;
- an existing regular file is refused unless `--force`; with `--force` the new content goes to a
  temporary file beside it that replaces it only once completely written, so a failure leaves the
  old file as it was;
- a new file is written the same way, so a failure leaves nothing behind;
- any failure to write (a full device, a closed pipe) is one `CannotWriteError` (exit 2);
- a new file that holds personal data (`private=True`: exports, rejects) is created 0600, whatever
  the umask, so another account on the machine (a support user with a shell) cannot read it.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import click

from processor.kernel.errors import CannotWriteError, InvalidInputError

if TYPE_CHECKING:
    from collections.abc import Iterator


FORCE = click.option(
    "--force", is_flag=True, help="Replace an existing regular file at the output path."
)


@dataclass(frozen=True)
class Target:
    """Where an output goes, decided before any work is done, so a refusal costs nothing."""

    named: Path
    real: Path
    stream: bool
    exists: bool

    @property
    def shown(self) -> str:
        """The path as the user typed it, for messages."""
        return str(self.named)


DATE_FIELD = "{date}"
"""In an `--out` path, replaced by the day the output is made: one file per day from cron."""


def dated(path: Path, day: date) -> Path:
    """`path` with every `{date}` replaced by `day` (ISO), so a daily job keeps each day's file."""
    text = str(path)
    return Path(text.replace(DATE_FIELD, day.isoformat())) if DATE_FIELD in text else path


def _written_by_us(real: Path, marker: bytes | None) -> bool:
    """Whether the regular file at `real` is an earlier output of the same command.

    Recognised by `marker`, the title the command writes near the start of every format of its
    output; a file that lacks it (anything else the user keeps there) is never replaced
    without `--force`.
    """
    if marker is None:
        return False
    try:
        with real.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    return marker in head


def plan(path: Path, *, force: bool, what: str, ours: bytes | None = None) -> Target:
    """Check that `path` can take the output; refuse (exit 2) what would surprise the user.

    With `ours` (the marker the command writes into its output), an existing file holding it is
    an earlier output of the same command and is replaced as with `--force`, so the same daily
    job can run twice.
    """
    real = Path(os.path.realpath(path))
    try:
        info = real.stat()
    except FileNotFoundError:
        if not real.parent.is_dir():
            raise InvalidInputError(f"no such directory for the {what}: {path.parent}") from None
        return Target(path, real, stream=False, exists=False)
    except OSError as exc:
        raise CannotWriteError(f"cannot write the {what} to {path}: {exc.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise InvalidInputError(f"the {what} path {path} is a directory")
    if stat.S_ISREG(info.st_mode):
        if not force and not _written_by_us(real, ours):
            raise InvalidInputError(
                f"{path} already exists; give --force to replace it with the {what}"
            )
        return Target(path, real, stream=False, exists=True)
    return Target(path, real, stream=True, exists=True)


@contextlib.contextmanager
def writing(target: Target, *, what: str, private: bool = False) -> Iterator[TextIO]:
    """A text handle on `target`; the content lands at the path only if all of it was written."""
    try:
        if target.stream:
            with target.real.open("w", encoding="utf-8", newline="") as handle:
                yield handle
            return
        fd, name = tempfile.mkstemp(prefix=f".{target.real.name}.", dir=target.real.parent)
        temp = Path(name)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                yield handle
                handle.flush()
                os.fsync(handle.fileno())
            if target.exists:
                with contextlib.suppress(OSError):
                    temp.chmod(stat.S_IMODE(target.real.stat().st_mode))
                temp.replace(target.real)
            else:
                _place_new(temp, target, private=private)
        finally:
            temp.unlink(missing_ok=True)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise CannotWriteError(f"cannot write the {what} to {target.shown}: {reason}") from None


def _place_new(temp: Path, target: Target, *, private: bool) -> None:
    """Move a finished file to a path that was free; refuse if something appeared meanwhile.

    The temporary file is 0600 from `mkstemp`; only output without personal data is widened to
    what the umask allows.
    """
    if not private:
        temp.chmod(0o666 & ~_umask())
    try:
        os.link(temp, target.real)
    except FileExistsError:
        raise InvalidInputError(
            f"{target.shown} appeared while the output was written; nothing was replaced"
        ) from None
    except OSError:
        temp.replace(target.real)  # a file system without hard links


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: Path, text: str, *, force: bool, what: str) -> Path:
    """Write `text` to `path` (see `plan` and `writing`); returns the path written."""
    target = plan(path, force=force, what=what)
    with writing(target, what=what) as handle:
        handle.write(text)
    return path
