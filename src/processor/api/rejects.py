"""The rejected rows of an HTTP import: line and reason, never the row's cells.

The command writes a rejects file with each row's own cells, on the operator's disk. Over HTTP
the answer lists each rejected row's line number and reason only, so no value of the upload
comes back (a response can be logged or cached anywhere on its way); the client has its own
file, and the line numbers say which rows to fix.
"""

from __future__ import annotations

import csv
import io
from typing import Any, Final

MAX_LISTED: Final = 10_000
LINE: Final = "_line"


class RejectsCollector(io.TextIOBase):
    """A text sink for the import's rejects CSV that keeps `(line, reason)` of each row.

    The service's CSV writer writes one row per `write` call; the header row (its first
    cell is `_line`) is skipped. At most `MAX_LISTED` rows are kept; `truncated` says if more.
    """

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, Any]] = []
        self.truncated = False

    def writable(self) -> bool:
        """A sink: it is written to."""
        return True

    def write(self, text: str) -> int:
        """Keep the line and reason of the row(s) in `text`."""
        for cells in csv.reader(io.StringIO(text)):
            if not cells or cells[0] == LINE:
                continue
            if len(self.rows) >= MAX_LISTED:
                self.truncated = True
                continue
            line = int(cells[0]) if cells[0].isdigit() else None
            self.rows.append({"line": line, "reason": cells[1] if len(cells) > 1 else ""})
        return len(text)
