"""Consent as given (SUBJ-2): when the person gave it, as the controller states it.

A consent is recorded with two times: `given_at`, when the person consented (from an import's
`consent_at` column or `contacts add --consent-at`), and `recorded_at`, when the processor
recorded it (the event's own time). Without a stated time the consent is taken as given when it
is recorded; an import file that has a consent-time column but an empty cell is refused for that
row (never an invented time). A stated time keeps the offset it was given in. It is checked
before anything is stored: ISO-8601, not in the future
(a consent cannot be given after it is recorded), and not before 1990 (older dates are typing
errors, and a marketing consent that old could not be shown to be current).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from processor.kernel.errors import InvalidInputError
from processor.services.profile import ConsentInput

if TYPE_CHECKING:
    from collections.abc import Mapping

EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
DATE_ONLY = len("2019-05-01")


def consent_time(text: str, now: datetime, what: str = "consent_at") -> datetime:
    """Parse a stated consent time, or refuse it with a one-line error that does not echo it.

    A date alone means the start of that day in UTC; a time without an offset is read as UTC
    (exports of other platforms mostly write UTC, and a guess of a local zone would be hidden).
    """
    value = text.strip()
    try:
        if len(value) == DATE_ONLY:
            parsed = datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        else:
            parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(
            f"{what} is not an ISO-8601 date or time (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS+HH:MM)"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if parsed > now:
        raise InvalidInputError(f"{what} is in the future: consent is given before it is recorded")
    if parsed < EARLIEST:
        raise InvalidInputError(f"{what} is before 1990")
    return parsed  # with the offset it was stated in: when, as the controller gave it (SUBJ-2)


def as_given(consent: ConsentInput, stated: str | None, now: datetime) -> ConsentInput:
    """The consent with its stated time, when one is stated (empty means: not stated)."""
    if stated is None or not stated.strip():
        return consent
    return dataclasses.replace(consent, given_at=consent_time(stated, now))


def row_consent(
    channel: str, method: str, values: Mapping[str, str], now: datetime
) -> ConsentInput:
    """An import row's consent: the file's channel and method, the row's evidence and time.

    A file with a consent-time column states when each person consented; a row whose cell is
    empty does not know, and is refused rather than recorded as consenting at import time: the
    processor never invents a consent's time (SUBJ-2). A file without the column records every
    consent as given when it is imported, and says so (`consent_at` absent).

    `consent_requested_at` is a double opt-in's sign-up: with a `consent_at` (its confirmation)
    both are kept, apart; without one it is the consent's own time (a single opt-in).
    """
    consent = ConsentInput.parse(f"{channel}:{method}:{values.get('consent_evidence', '')}")
    stated = values.get("consent_at")
    requested = values.get("consent_requested_at")
    if requested is not None and requested.strip():
        asked = consent_time(requested, now, "consent_requested_at")
        if stated is None or not stated.strip():
            # A single opt-in: the sign-up is the consent.
            return dataclasses.replace(consent, given_at=asked)
        given = consent_time(stated, now)
        if asked > given:
            raise InvalidInputError(
                "consent_requested_at is after consent_at: a sign-up comes before its confirmation"
            )
        return dataclasses.replace(consent, given_at=given, requested_at=asked)
    if stated is not None and not stated.strip():
        raise InvalidInputError(
            "consent_at is empty: the file does not say when this person consented "
            "(fill it in, or import without the consent-time column)"
        )
    return as_given(consent, stated, now)
