"""Other platforms' column names, mapped onto the field vocabulary (SUBJ-1, SUBJ-2).

Lists arrive as exports from other platforms: "Email Address", "Mobile", "Fornavn", an opt-in
time column. `contacts import --map 'SOURCE=FIELD'` (repeatable) or `--map-file` (TOML or CSV)
says which column is which field. A column the user did not map and that looks like a field
of the vocabulary is refused with a suggestion: silently keeping "Email Address" as a custom
field would lose the e-mail, and an opt-in time kept as a custom field would lose the consent's
date (SUBJ-2). Column names are headers, never personal data, so they may be echoed.
"""

from __future__ import annotations

import csv
import difflib
import re
import tomllib
from typing import TYPE_CHECKING

from processor.kernel.errors import InvalidInputError
from processor.services import validation as v

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from pathlib import Path

CONSENT_COLUMNS = ("consent_at", "consent_evidence")
CUSTOM = "custom."
MAX_MAP_FILE_BYTES = 64 * 1024

ALIASES: dict[str, str] = {
    "email address": "email",
    "e-mail": "email",
    "e-mail address": "email",
    "e-mailadresse": "email",
    "emailadresse": "email",
    "mail": "email",
    "mobile": "phone",
    "mobile number": "phone",
    "mobil": "phone",
    "mobilnummer": "phone",
    "telefon": "phone",
    "phone number": "phone",
    "fornavn": "first_name",
    "first name": "first_name",
    "given name": "first_name",
    "efternavn": "last_name",
    "last name": "last_name",
    "surname": "last_name",
    "adresse": "address",
    "postnummer": "postal_code",
    "zip": "postal_code",
    "zip code": "postal_code",
    "by": "city",
    "land": "country",
    "køn": "gender",
    "fødselsdato": "birth_date",
    "birthday": "birth_date",
    "optin_time": "consent_at",
    "opt-in time": "consent_at",
    "opt-in date": "consent_at",
    "confirm_time": "consent_at",
    "consent date": "consent_at",
    "subscribed at": "consent_at",
    "samtykke": "consent_at",
    "optin_ip": "consent_evidence",
}
"""Headers other platforms write, for the suggestion only: nothing is mapped without `--map`."""


def parse_maps(pairs: Iterable[str], standard: Sequence[str]) -> dict[str, str]:
    """`SOURCE=FIELD` pairs as a mapping of lower-cased source header to field.

    The field is a vocabulary field, `consent_at`, `consent_evidence` or `custom.NAME`.
    """
    found: dict[str, str] = {}
    for pair in pairs:
        source, sep, target = pair.rpartition("=")
        source, target = source.strip().lower(), target.strip().lower()
        if not sep or not source or not target:
            raise InvalidInputError(f"--map takes SOURCE=FIELD, not {pair[:80]!r}")
        found_before = found.get(source)
        if found_before is not None and found_before != target:
            raise InvalidInputError(f"--map maps the column {source!r} twice")
        found[source] = _target(target, standard)
    return found


def _target(target: str, standard: Sequence[str]) -> str:
    if target in standard or target in CONSENT_COLUMNS:
        return target
    if target.startswith(CUSTOM):
        v.field_name(target[len(CUSTOM) :])
        return target
    near = difflib.get_close_matches(target, [*standard, *CONSENT_COLUMNS], n=1, cutoff=0.6)
    hint = f"did you mean {near[0]}?" if near else f"for a custom field write custom.{target}"
    raise InvalidInputError(f"--map to {target!r}: not a vocabulary field; {hint}")


def load_map_file(path: Path, standard: Sequence[str]) -> dict[str, str]:
    """Read a mapping file: TOML or CSV.

    TOML maps `"Email Address" = "email"`, at the top level or under `[columns]`; a CSV has
    `source,field` rows (a `source,field` header line is allowed).
    """
    try:
        raw = path.read_bytes()[: MAX_MAP_FILE_BYTES + 1]
        if len(raw) > MAX_MAP_FILE_BYTES:
            raise InvalidInputError(f"the mapping file is larger than {MAX_MAP_FILE_BYTES} bytes")
        text = raw.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"cannot read the mapping file: {type(exc).__name__}") from None
    if path.suffix.lower() == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InvalidInputError(f"the mapping file is not valid TOML: {exc}") from None
        table = data.get("columns", data)
        if not isinstance(table, dict) or not all(isinstance(x, str) for x in table.values()):
            raise InvalidInputError(
                'the mapping file maps each column to a field: "SOURCE" = "FIELD"'
            )
        pairs = [f"{source}={target}" for source, target in table.items()]
    elif path.suffix.lower() == ".csv":
        rows = [r for r in csv.reader(text.splitlines()) if any(c.strip() for c in r)]
        if rows and [c.strip().lower() for c in rows[0]] == ["source", "field"]:
            rows = rows[1:]
        if any(len(r) != 2 for r in rows):  # noqa: PLR2004 - source and field
            raise InvalidInputError("each row of a CSV mapping file is SOURCE,FIELD")
        pairs = [f"{source}={target}" for source, target in rows]
    else:
        raise InvalidInputError("a mapping file is .toml or .csv")
    return parse_maps(pairs, standard)


def _plain(column: str) -> str:
    return re.sub(r"[^0-9a-zæøå]+", "_", column.lower()).strip("_")


def suggestion(column: str, standard: Sequence[str]) -> str | None:
    """The field an unmapped column looks like, or None when it is plainly a custom field."""
    known = [*standard, *CONSENT_COLUMNS]
    if column in ALIASES:
        return ALIASES[column]
    plain = _plain(column)
    if plain in known and plain != column:
        return plain
    near = difflib.get_close_matches(plain, known, n=1, cutoff=0.8)
    return near[0] if near and near[0] != column else None


def header_mapper(
    mapping: Mapping[str, str], standard: Sequence[str], reserved: Sequence[str]
) -> Callable[[list[str]], list[str]]:
    """The function `read_rows` applies to the (lower-cased) header before anything else.

    It renames the mapped columns, refuses a mapping of a column the file does not have or two
    columns onto one field, and refuses unmapped columns that look like vocabulary fields.
    """

    def apply(header: list[str]) -> list[str]:
        missing = sorted(set(mapping) - set(header))
        if missing:
            raise InvalidInputError(f"--map names a column the CSV does not have: {missing[0]!r}")
        renamed = [mapping.get(column, column) for column in header]
        twice = sorted({c for c in renamed if renamed.count(c) > 1})
        if twice:
            raise InvalidInputError(f"two CSV columns would both be {twice[0]!r}")
        doubtful = []
        for column in renamed:
            if column in standard or column in reserved or column.startswith(CUSTOM):
                continue
            near = suggestion(column, standard)
            if near is not None:
                doubtful.append(f"{column!r} looks like {near} (--map '{column}={near}')")
        if doubtful:
            raise InvalidInputError(
                "unmapped CSV columns: " + "; ".join(doubtful[:3])
                + "; or name a column custom.NAME to keep it as a custom field"
            )  # fmt: skip
        return renamed

    return apply
