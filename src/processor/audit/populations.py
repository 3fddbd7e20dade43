"""The populations a sample check draws from (ACC-7, SUB-8): names only, importing nothing.

Kept apart from `sampling` so the command line can offer `--of` without importing the domain
(`access sample`, the alias, is attached to a group whose other commands never sample).
"""

from __future__ import annotations

from typing import Final

STAFF: Final = "staff"
SUBPROCESSORS: Final = "subprocessors"
# Staff-made changes to a controllers' users (ACC-13); every other sample carries them too.
USER_CHANGES: Final = "user-changes"
POPULATIONS: Final = (STAFF, SUBPROCESSORS, USER_CHANGES)
