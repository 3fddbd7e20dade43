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
from processor.services.importpresets import PREFERENCE, PRESETS, detect_preset

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from pathlib import Path

CONSENT_COLUMNS = ("consent_at", "consent_requested_at", "consent_evidence")
CUSTOM = "custom."
DROP = "-"
"""`--map 'SOURCE=-'`: the column is not imported (another platform's metadata; minimisation)."""
DROPPED = "dropped:"
"""How a dropped column is named after mapping (never a field)."""
FALLBACK = "|"
"""`consent_at|2`: a second column mapped onto the same field, read when the first is empty."""
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
    "optin_time": "consent_requested_at",
    "opt-in time": "consent_requested_at",
    "opt-in date": "consent_requested_at",
    "confirm_time": "consent_at",
    "consent date": "consent_at",
    "subscribed at": "consent_at",
    "samtykke": "consent_at",
    "optin_ip": "consent_evidence",
}
"""Headers other platforms write, for the suggestion only: nothing is mapped without `--map`."""


def parse_maps(pairs: Iterable[str], standard: Sequence[str]) -> dict[str, str]:
    """`SOURCE=FIELD` pairs as a mapping of lower-cased source header to field.

    The field is a vocabulary field, `consent_at`, `consent_requested_at`, `consent_evidence`,
    `custom.NAME` or `-` (left out).
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
    if target in standard or target in CONSENT_COLUMNS or target == DROP:
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


def auxiliary(column: str) -> bool:
    """A mapped column that is not itself a field: dropped, or a fallback of another."""
    return column.startswith(DROPPED) or FALLBACK in column


def merge_fallbacks(values: Mapping[str, str]) -> dict[str, str]:
    """A row's values with fallbacks read where their field's first column is empty.

    The dropped and fallback columns themselves are left out.
    """
    merged = {k: v for k, v in values.items() if not auxiliary(k)}
    for key, value in values.items():
        if FALLBACK in key:
            base = key.split(FALLBACK, 1)[0]
            if not merged.get(base, "").strip() and value.strip():
                merged[base] = value
    return merged


class HeaderMapper:
    """What `read_rows` applies to the (lower-cased) header before anything else.

    It renames the mapped columns, refuses a mapping of a column the file does not have (unless
    a preset made it optional) or a mapped column onto a field another column of the file
    already is, and refuses unmapped columns that look like vocabulary fields, with one complete
    `--map` suggestion for all of them. Several mapped columns onto one field are read in the
    order they were mapped: the first non-empty one counts (`merge_fallbacks`).
    """

    def __init__(
        self,
        mapping: Mapping[str, str],
        standard: Sequence[str],
        reserved: Sequence[str],
        optional: Iterable[str] = (),
    ) -> None:
        self.mapping = dict(mapping)
        self.standard = standard
        self.reserved = reserved
        self.optional = frozenset(optional)
        self.original: list[str] = []

    def __call__(self, header: list[str]) -> list[str]:
        """The renamed header; the original is kept for the rejects file."""
        self.original = list(header)
        missing = sorted(set(self.mapping) - set(header) - self.optional)
        if missing:
            raise InvalidInputError(f"--map names a column the CSV does not have: {missing[0]!r}")
        renamed = {column: column for column in header if column not in self.mapping}
        taken: dict[str, int] = {}
        for source, target in self.mapping.items():  # in the order mapped: precedence
            if source not in header:
                continue
            if target == DROP:
                renamed[source] = DROPPED + source
                continue
            if target in renamed.values() and target not in taken:
                raise InvalidInputError(f"two CSV columns would both be {target!r}")
            taken[target] = taken.get(target, 0) + 1
            n = taken[target]
            renamed[source] = target if n == 1 else f"{target}{FALLBACK}{n}"
        result = [renamed[column] for column in header]
        doubtful = [
            column
            for column in result
            if not (
                column in self.standard
                or column in self.reserved
                or column.startswith(CUSTOM)
                or auxiliary(column)
            )
            and suggestion(column, self.standard) is not None
        ]
        if doubtful:
            raise InvalidInputError(_complete_suggestion(doubtful, header, self.standard))
        return result


def _complete_suggestion(doubtful: list[str], header: list[str], standard: Sequence[str]) -> str:
    """One line naming every doubtful column and one complete set of `--map` options for them.

    Two columns that look like the same field are both suggested onto it, in the order that
    reads the better one first (a double opt-in's confirmation before its sign-up); a file that
    looks like a known platform's export names its preset.
    """
    guesses = {column: suggestion(column, standard) or "" for column in doubtful}
    ordered = sorted(doubtful, key=lambda c: (PREFERENCE.get(c, 1), doubtful.index(c)))
    described = "; ".join(f"{c!r} looks like {guesses[c]}" for c in doubtful)
    maps = " ".join(f"--map '{c}={guesses[c]}'" for c in ordered)
    preset = detect_preset(header)
    hint = f" This looks like a {PRESETS[preset].title}: --preset {preset}." if preset else ""
    return (
        f"unmapped CSV columns: {described}. Map them all with: {maps} (several onto one field:"
        f" the first non-empty counts; '=-' leaves a column out; custom.NAME keeps it as a "
        f"custom field).{hint}"
    )


def header_mapper(
    mapping: Mapping[str, str],
    standard: Sequence[str],
    reserved: Sequence[str],
    optional: Iterable[str] = (),
) -> HeaderMapper:
    """The header mapper of `mapping` (see `HeaderMapper`)."""
    return HeaderMapper(mapping, standard, reserved, optional)
