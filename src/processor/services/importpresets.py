"""Column maps for the exports of the platforms users leave (issue 25; SUBJ-1, SUBJ-2).

A Mailchimp audience export has two dozen columns; mapping them by hand took a user four tries.
A preset is the map of one platform's documented export headers onto our fields, written once:

- the person's own fields (e-mail, names, phone, address) onto the vocabulary;
- the consent's time and evidence onto `consent_at` / `consent_evidence`, where the export has
  them, and a double opt-in's sign-up onto `consent_requested_at` (kept apart from the
  confirmation; the consent's own time when there is no confirmation); several columns onto one
  field in the order the better one is read first;
- the platform's own bookkeeping (ratings, geolocation guesses, internal ids, tags, notes,
  time-zone offsets, change times) left out (`-`): the controller's processing needs none of it,
  and some is personal data (IP-derived location) that would be copied for no purpose
  (Art. 5(1)(c) data minimisation).

Every column of a preset is optional (exports differ by list and by what was exported); a
`--map` the user gives wins over the preset's. Columns a preset does not know follow the usual
rules: a look-alike of a field is refused with a suggestion, anything else is kept as a custom
field. Headers are compared lower-cased, as the import reads them.

Sources: Mailchimp, "View or export an audience" and the audience export's columns (the
"Email Address" / merge-field columns, then MEMBER_RATING, OPTIN_TIME, OPTIN_IP, CONFIRM_TIME,
CONFIRM_IP, LATITUDE, LONGITUDE, GMTOFF, DSTOFF, TIMEZONE, CC, REGION, LAST_CHANGED, LEID, EUID,
NOTES, TAGS; the unsubscribed and cleaned exports add UNSUB_* and CLEAN_* columns). Mailchimp
writes its times as `YYYY-MM-DD HH:MM:SS` without an offset; like any time without one, the import
reads them as UTC.
Brevo (Sendinblue), "Export your contacts": the default attributes EMAIL, FIRSTNAME, LASTNAME, SMS,
and LANDLINE_NUMBER, WHATSAPP, EXT_ID, ADDED_TIME, MODIFIED_TIME; Brevo's export has no consent
time. HubSpot, "Export contacts": the property labels (Record ID, First Name, Last Name, Email,
Phone Number, Mobile Phone Number, Street Address, City, Postal Code, Country/Region, Create Date,
Last Activity Date, Lifecycle Stage, Contact owner, Lead Status, Marketing contact status, ...);
no consent time either.
"""

from __future__ import annotations

from dataclasses import dataclass

from processor.kernel.errors import InvalidInputError


@dataclass(frozen=True)
class Preset:
    """One platform's export: its column map, and the columns that tell its file apart."""

    title: str
    columns: tuple[tuple[str, str], ...]
    """(lower-cased header, field or `-`), in precedence order for columns onto one field."""
    signature: frozenset[str]
    """Columns that, all present, mark a file as this platform's export."""

    def mapping(self) -> dict[str, str]:
        """The map as `import_csv` takes it (insertion order is precedence)."""
        return dict(self.columns)


_MAILCHIMP_DROPPED = (
    "member_rating", "latitude", "longitude", "gmtoff", "dstoff", "timezone", "cc", "region",
    "last_changed", "leid", "euid", "notes", "tags", "unsub_time", "unsub_campaign_title",
    "unsub_campaign_id", "unsub_reason", "unsub_reason_other", "clean_time",
    "clean_campaign_title", "clean_campaign_id",
)  # fmt: skip

PRESETS: dict[str, Preset] = {
    "mailchimp": Preset(
        "Mailchimp audience export",
        (
            ("email address", "email"),
            ("first name", "first_name"),
            ("last name", "last_name"),
            ("phone number", "phone"),
            ("address", "address"),
            ("birthday", "custom.birthday"),  # "MM/DD", not a date of birth
            ("confirm_time", "consent_at"),  # a double opt-in's confirmation: the consent
            ("optin_time", "consent_requested_at"),  # its sign-up, kept apart (or the consent)
            ("confirm_ip", "consent_evidence"),
            ("optin_ip", "consent_evidence"),
            *((column, "-") for column in _MAILCHIMP_DROPPED),
        ),
        frozenset({"email address", "member_rating", "leid"}),
    ),
    "brevo": Preset(
        "Brevo (Sendinblue) contact export",
        (
            ("email", "email"),
            ("firstname", "first_name"),
            ("lastname", "last_name"),
            ("sms", "phone"),
            ("landline_number", "-"),
            ("whatsapp", "-"),
            ("ext_id", "-"),
            ("contact id", "-"),
            ("added_time", "-"),  # when Brevo added the contact: not when the person consented
            ("modified_time", "-"),
            ("double_opt-in", "-"),
        ),
        frozenset({"email", "firstname", "lastname", "sms"}),
    ),
    "hubspot": Preset(
        "HubSpot contact export",
        (
            ("email", "email"),
            ("first name", "first_name"),
            ("last name", "last_name"),
            ("mobile phone number", "phone"),
            ("phone number", "phone"),
            ("street address", "address"),
            ("city", "city"),
            ("postal code", "postal_code"),
            ("country/region", "country"),
            ("record id", "-"),
            ("create date", "-"),
            ("last activity date", "-"),
            ("last modified date", "-"),
            ("lifecycle stage", "-"),
            ("contact owner", "-"),
            ("lead status", "-"),
            ("marketing contact status", "-"),
            ("associated company", "-"),
            ("email domain", "-"),
        ),
        frozenset({"record id", "email", "first name", "last name"}),
    ),
}

PREFERENCE: dict[str, int] = {"confirm_time": 0, "confirm_ip": 0}
"""Look-alike columns suggested before their siblings onto the same field (lower first)."""


def detect_preset(header: list[str]) -> str | None:
    """The preset whose signature the (lower-cased) header has, if exactly one has it."""
    present = set(header)
    found = [name for name, preset in PRESETS.items() if preset.signature <= present]
    return found[0] if len(found) == 1 else None


def preset_mapping(name: str | None) -> dict[str, str]:
    """The named preset's map (empty for none); an unknown name is a one-line error."""
    if name is None:
        return {}
    preset = PRESETS.get(name.strip().lower())
    if preset is None:
        raise InvalidInputError(f"unknown preset {name[:40]!r}: one of {', '.join(PRESETS)}")
    return preset.mapping()
