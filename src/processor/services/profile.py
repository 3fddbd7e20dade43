"""Validating a contact's personal fields, one vocabulary everywhere (SUBJ-1).

The same function checks `contacts add`, `--set` and every imported row, so a value refused in
one place is refused in all of them, with the same one-line reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from processor.blindindex import normalise_email, normalise_phone
from processor.errors import InvalidInputError, RefusedError
from processor.services import validation as v

if TYPE_CHECKING:
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
        if key in fields.standard:
            if len(value) > fields.max_value_chars:
                raise InvalidInputError(f"{key} is longer than {fields.max_value_chars} characters")
            if key == "email":
                normalise_email(value)
            elif key == "phone":
                normalise_phone(value)
            elif key == "birth_date":
                value = v.iso_date(value, "birth_date")
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


def check_sensitive_fields(fields: FieldsPolicy, controller: Controller, names: list[str]) -> None:
    """Refuse special-category custom fields until the controller gave notice of them (INSTR-3)."""
    sensitive = [n for n in names if fields.is_sensitive(n)]
    if sensitive and not controller.has_instruction(SENSITIVE_DATA):
        raise RefusedError(
            f"custom field {sensitive[0]!r} looks like sensitive data; the controller must first "
            "give an instruction of kind sensitive-data (INSTR-3)",
            rule="SensitiveDataNeedsInstruction",
        )


def field_names(profile: dict[str, Any]) -> list[str]:
    """The names of the fields present (non-personal, kept in events in the clear)."""
    names = [k for k in profile if k != "custom"]
    names += [f"custom.{k}" for k in profile.get("custom", {})]
    return sorted(names)
