"""Validating a contact's personal fields, one vocabulary everywhere (SUBJ-1).

The same function checks `contacts add`, `--set` and every imported row, so a value refused in
one place is refused in all of them, with the same one-line reason.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from processor.kernel.errors import InvalidInputError, RefusedError
from processor.keys import normalise_email, normalise_phone
from processor.services import validation as v

if TYPE_CHECKING:
    from datetime import datetime

    from processor.domain.controllers import Controller
    from processor.policies import FieldsPolicy

CHANNELS = ("email", "sms")
SENSITIVE_DATA = "sensitive-data"


@dataclass(frozen=True)
class ConsentInput:
    """Consent as typed: `CHANNEL:METHOD[:EVIDENCE]` (SUBJ-2)."""

    channel: str
    method: str
    evidence: str
    given_at: datetime | None = None  # when the person consented, if stated (`consent.as_given`)
    requested_at: datetime | None = None  # a double opt-in's sign-up, kept apart from given_at

    @classmethod
    def parse(cls, text: str) -> ConsentInput:
        """Parse `email:double-opt-in:signup form 2026-03-01`."""
        channel, _, rest = text.partition(":")
        method, _, evidence = rest.partition(":")
        channel, method = channel.strip().lower(), method.strip()
        if channel not in CHANNELS:
            raise InvalidInputError(f"invalid consent channel {channel!r}: use email or sms")
        if not method:
            raise InvalidInputError("consent needs a method: CHANNEL:METHOD[:EVIDENCE]")
        if len(method) > 64 or len(evidence) > 2000:  # noqa: PLR2004 - documented limits
            raise InvalidInputError("consent method or evidence is too long")
        v.no_control(method, "the consent method")
        v.no_control(evidence, "the consent evidence")
        return cls(channel, method, evidence.strip())


def clean_profile(
    fields: FieldsPolicy, values: dict[str, str], *, require_email: bool
) -> dict[str, Any]:
    """Validate and normalise personal fields; custom fields go under `custom`.

    Empty values are dropped. E-mail and phone are checked, but stored as typed (trimmed): the
    normalised forms only feed the blind index.
    """
    profile: dict[str, Any] = {}
    custom: dict[str, str] = {}
    for raw_key, raw_value in values.items():
        key = raw_key.strip()
        value = (raw_value or "").strip()
        if not value:
            continue
        # Control characters break every text output and CSV reader downstream (issue 12); they
        # are looked for before trimming, which would silently drop a leading tab or NEL.
        v.no_control(raw_value, key if key in fields.standard else f"custom field {key}")
        if key in fields.standard:
            if len(value) > fields.max_value_chars:
                raise InvalidInputError(f"{key} is longer than {fields.max_value_chars} characters")
            if key == "email":
                normalise_email(value)
            elif key == "phone":
                normalise_phone(value)
            elif key == "birth_date":
                value = v.iso_date(value, "birth_date", personal=True)
            profile[key] = value
        else:
            v.field_name(key)
            if len(value) > fields.max_custom_value_chars:
                raise InvalidInputError(
                    f"custom field {key} is longer than {fields.max_custom_value_chars} characters"
                )
            custom[key] = value
    if len(custom) > fields.max_custom_fields:
        raise InvalidInputError(f"more than {fields.max_custom_fields} custom fields")
    if custom:
        profile["custom"] = custom
    if require_email and "email" not in profile:
        raise InvalidInputError("an e-mail address is required")
    return profile


def typed_fields(fields: FieldsPolicy, given: dict[str, str], option: str) -> dict[str, str]:
    """Map `--field`/`--set` keys to `clean_profile` keys, refusing what would surprise.

    Vocabulary names match case-insensitively, as CSV headers do (`First_Name` is `first_name`).
    A custom field is named explicitly, `custom.NAME`, so a typo of a vocabulary field can never
    silently become a custom field: an unknown bare key is refused, with the nearest vocabulary
    field suggested when there is one (issue 18 item 8).
    """
    out: dict[str, str] = {}
    for raw, value in given.items():
        prefix, dot, rest = raw.partition(".")
        if dot and prefix.lower() == "custom":
            v.field_name(rest)
            if rest.lower() in fields.standard:
                raise InvalidInputError(
                    f"{option} {raw}: {rest.lower()} is a vocabulary field; give {rest.lower()}=..."
                )
            key = rest
        elif raw.lower() in fields.standard:
            key = raw.lower()
        else:
            near = difflib.get_close_matches(raw.lower(), fields.standard, n=1, cutoff=0.75)
            hint = f"did you mean {near[0]}?" if near else f"for a custom field give custom.{raw}"
            raise InvalidInputError(f"{option} {raw}: not a vocabulary field; {hint}")
        if key in out:
            raise InvalidInputError(f"{option} gives {key} twice")
        out[key] = value
    return out


def check_sensitive_fields(fields: FieldsPolicy, controller: Controller, names: list[str]) -> None:
    """Refuse special-category custom fields until the controller gave notice of them (INSTR-3)."""
    sensitive = [n for n in names if fields.is_sensitive(n)]
    if sensitive:
        # Imported here: reads of a contact import this module, and never judge a field.
        from processor.services.agreements import check_kind

        # A sensitive-data instruction the processor flagged holds nothing up (INSTR-2).
        check_kind(controller, SENSITIVE_DATA)
    if sensitive and not controller.has_instruction(SENSITIVE_DATA):
        raise RefusedError(
            f"custom field {sensitive[0]!r} looks like sensitive data; the controller must first "
            "give an instruction of kind sensitive-data (INSTR-3)",
            rule="SensitiveDataNeedsInstruction",
        )


def check_sensitive_values(
    fields: FieldsPolicy, controller: Controller, profile: dict[str, Any]
) -> None:
    """Refuse custom-field values that speak of a special category (INSTR-3), as names are.

    A free-text column ("NOTES": "Has diabetes") carries special-category data under a harmless
    name; its values are read for the policy's terms (`sensitive_value_terms`, English and
    Danish). The refusal names the field and the category, never the value.
    """
    custom = profile.get("custom") or {}
    if not custom or controller.has_instruction(SENSITIVE_DATA):
        return
    for name, value in custom.items():
        category = fields.sensitive_category(str(value))
        if category is not None:
            raise RefusedError(
                f"custom field {name!r} holds what reads as special-category data "
                f"({category.replace('_', ' ')}); the controller must first give an instruction "
                "of kind sensitive-data (INSTR-3)",
                rule="SensitiveDataNeedsInstruction",
            )


def field_names(profile: dict[str, Any]) -> list[str]:
    """The names of the fields present (non-personal, kept in events in the clear)."""
    names = [k for k in profile if k != "custom"]
    names += [f"custom.{k}" for k in profile.get("custom", {})]
    return sorted(names)
