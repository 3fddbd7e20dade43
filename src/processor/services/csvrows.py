"""Reading an uploaded CSV safely: streamed, BOM-tolerant, bad bytes isolated to their row.

Each physical line is decoded on its own, so one line of invalid UTF-8 rejects only the row
that contains it, and a huge quoted field over many lines rejects only its row.
A physical line is read up to the field limit and no further: a longer one stops the import
with a one-line error there, so a single-line upload of any size never sits in memory whole.
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

from processor.kernel.errors import InvalidInputError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

MAX_FIELD_BYTES = 16 * 1024 * 1024
MAX_LINE_BYTES = MAX_FIELD_BYTES


@dataclass(frozen=True)
class Row:
    """One data row: its first line number in the file, values by header, or why it is bad."""

    line: int
    values: dict[str, str]
    error: str | None = None
    cells: tuple[str, ...] = ()  # the row as read, for a rejects file the user can fix


class _Lines:
    """Decodes line by line and remembers which lines were not valid UTF-8."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.number = 0
        self.bad: set[int] = set()
        self.first = b""

    def _physical(self) -> Iterator[bytes]:
        """The lines of `raw`, each read to the limit at most (a longer one is refused)."""
        while line := self.raw.readline(MAX_LINE_BYTES + 1):
            if len(line) > MAX_LINE_BYTES:
                raise InvalidInputError(
                    f"line {self.number + 1} of the CSV is longer than the field limit "
                    f"({MAX_LINE_BYTES // (1024 * 1024)} MB): the import stopped there"
                )
            yield line

    def __iter__(self) -> Iterator[str]:
        for number, line in enumerate(self._physical(), start=1):
            self.number = number
            if number == 1:
                self.first = line
            if number == 1 and line.startswith(b"\xef\xbb\xbf"):
                line = line[3:]  # noqa: PLW2901 - a UTF-8 BOM is not part of the header
            try:
                yield line.decode("utf-8")
            except UnicodeDecodeError:
                self.bad.add(number)
                yield line.decode("utf-8", errors="replace")


def _looks_like(first: bytes) -> str | None:
    """Which encoding a header line that is not UTF-8 looks like, or None when it is UTF-8.

    UTF-16 decodes as "valid" UTF-8 full of NUL bytes when its text is ASCII, so NULs are the
    sign; the byte-order mark, when present, says which byte order.
    """
    if first.startswith((b"\xff\xfe", b"\xfe\xff")):
        order = "little" if first.startswith(b"\xff\xfe") else "big"
        return f"UTF-16 ({order}-endian, with a byte-order mark)"
    if b"\x00" in first:
        order = "little" if first[1:2] == b"\x00" else "big"
        return f"UTF-16 ({order}-endian, without a byte-order mark)"
    return None


def _unchanged(header: list[str]) -> list[str]:
    return header


def read_rows(
    raw: BinaryIO,
    required: tuple[str, ...],
    columns: Callable[[list[str]], list[str]] | None = None,
) -> tuple[list[str], Iterator[Row]]:
    """Return the header and an iterator of rows; a bad header is a one-line error.

    `columns` maps the lower-cased header before it is checked (`columnmap.header_mapper`).
    """
    csv.field_size_limit(min(sys.maxsize, MAX_FIELD_BYTES))
    lines = _Lines(raw)
    reader = csv.reader(iter(lines))
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInputError("the CSV file is empty") from None
    except csv.Error as exc:
        raise InvalidInputError(f"the CSV header cannot be read: {exc}") from None
    looks = _looks_like(lines.first)
    if 1 in lines.bad or looks:
        raise InvalidInputError(
            f"the CSV file is not UTF-8: it looks like {looks or 'Latin-1 or Windows-1252'}; "
            "save it as UTF-8"
        )
    header = (columns or _unchanged)([h.strip().lower() for h in header])
    missing = [c for c in required if c not in header]
    if missing:
        raise InvalidInputError(
            f"the CSV has no {missing[0]!r} column (header: {','.join(header)[:80]})"
        )
    seen: set[str] = set()
    for name in header:
        if not name:
            raise InvalidInputError("the CSV header has an empty column name")
        if name in seen:
            raise InvalidInputError(f"the CSV header repeats the column {name!r}")
        seen.add(name)

    def rows() -> Iterator[Row]:
        start = lines.number + 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield Row(start, {}, f"unreadable CSV: {exc}")
                start = lines.number + 1
                continue
            end = lines.number
            if not any(c.strip() for c in cells):
                start = end + 1
                continue
            bad = [n for n in range(start, end + 1) if n in lines.bad]
            kept = tuple(cells)
            if bad:
                yield Row(start, {}, f"line {bad[0]} is not valid UTF-8", kept)
            elif len(cells) != len(header):
                yield Row(start, {}, f"expected {len(header)} columns, found {len(cells)}", kept)
            else:
                yield Row(start, dict(zip(header, cells, strict=True)), None, kept)
            start = end + 1

    return header, rows()
