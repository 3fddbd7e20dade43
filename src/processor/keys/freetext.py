"""Free text at rest: every reason, note, instruction text, legal ground and file name is sealed.

Free text may name a person ("Anne Quixote (anne@example.dk) asked"), so it gets the same
treatment as a profile (RET-3, RET-5): it is sealed before it reaches an aggregate, so events,
snapshots and read models only hold the token, and it becomes unreadable when its key goes.

- Text about one data subject is sealed with that subject's key: the erasure shreds it.
- Other text of a controller is sealed with the controller's records key, which the deletion of
  the controller's data destroys (`PersonalDataDeleted`, RET-1/RET-2).
- Processor-wide text (staff reviews, supervision findings, ...) is sealed with the processor's
  records key.

Opening never raises for a destroyed key: the text reads `[erased]`. Every function takes the
`Sealer` (the processor's `proc.sealer`), which is all it uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from processor.kernel.errors import RefusedError
from processor.keys.sealing import ERASED, records_subject

if TYPE_CHECKING:
    from datetime import datetime

    from processor.keys.sealing import Sealer

_SEALED: Final = "s1."
ERASED_TEXT: Final = str(ERASED)


def create_records_key(sealer: Sealer, controller: str | None, at: datetime) -> None:
    """Create the records key of a controller (or of the processor, for None)."""
    sealer.new_subjects([records_subject(controller)], at)


def seal_for_subject(sealer: Sealer, subject_id: str, purpose: str, text: str) -> str:
    """Seal text about one data subject with that subject's key (empty text stays empty)."""
    if not text:
        return text
    return sealer.seal(subject_id, purpose, text)


def seal_records(
    sealer: Sealer,
    controller: str | None,
    purpose: str,
    text: str,
    *,
    or_processor: bool = False,
) -> str:
    """Seal a controller's (or, for None, the processor's) free text with its records key.

    Empty text stays empty: there is nothing to hide and no key is needed. A controller whose
    data was deleted has no records key any more, so it takes no new free text, unless
    `or_processor` lets the processor's records key keep it (closing a deleted account's users).
    """
    if not text:
        return text
    subject = records_subject(controller)
    if sealer.key(subject) is None and or_processor:
        subject = records_subject(None)
    if sealer.key(subject) is None:
        raise RefusedError(
            f"{controller}: the controller's data is already deleted, no new records are kept",
            rule="ControllerDataMustNotBeDeleted",
        )
    return sealer.seal(subject, purpose, text)


def seal_records_optional(
    sealer: Sealer, controller: str | None, purpose: str, text: str | None
) -> str | None:
    """`seal_records` for an optional field: None stays None."""
    return None if text is None else seal_records(sealer, controller, purpose, text)


def open_for_subject(sealer: Sealer, subject_id: str, purpose: str, token: str) -> str:
    """Open text sealed with a subject's key; `[erased]` once the subject is erased."""
    return _open(sealer, subject_id, purpose, token)


def open_records(sealer: Sealer, controller: str | None, purpose: str, token: str) -> str:
    """Open a controller's (or the processor's) free text; `[erased]` after its deletion."""
    return _open(sealer, records_subject(controller), purpose, token)


def open_records_optional(
    sealer: Sealer, controller: str | None, purpose: str, token: str | None
) -> str | None:
    """`open_records` for an optional field: None stays None."""
    return None if token is None else open_records(sealer, controller, purpose, token)


def _open(sealer: Sealer, subject: str, purpose: str, token: str) -> str:
    # Text that was never sealed (empty, or written by the system, such as a sweep's rule
    # citation) is shown as it is.
    if not token.startswith(_SEALED):
        return token
    opened = sealer.open(subject, purpose, token)
    return ERASED_TEXT if opened is ERASED else str(opened)
