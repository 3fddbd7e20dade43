"""What a carrier receives for a message: only what the activity needs (SUB-9).

A sub-processor that carries e-mail needs the address and the content; one that carries SMS,
the phone number and the text. Nothing else of the contact (names, other fields, lists,
consents, the contact's id) leaves for a carrier, so a carrier's breach exposes no more than
its activity required (SCC 7.5, C.2; Art. 5(1)(c) data minimisation). The fields are fixed per
channel here, in one place, so the handoff and its test read the same table.
"""

from __future__ import annotations

from typing import Any

CARRIER_FIELDS: dict[str, str] = {"email": "email", "sms": "phone"}
"""The one profile field a carrier of each channel receives: the address it delivers to."""

CONTENT_FIELDS: dict[str, tuple[str, ...]] = {"email": ("subject", "body"), "sms": ("body",)}
"""The message's own content each channel carries (an SMS has no subject)."""


def handed_over(channel: str) -> list[str]:
    """The names of what a carrier of `channel` receives, as the access log records them."""
    return ["message_id", CARRIER_FIELDS[channel], *CONTENT_FIELDS[channel]]


def carrier_item(
    message_id: str, channel: str, profile: dict[str, Any], content: dict[str, Any]
) -> dict[str, Any]:
    """One message as its carrier receives it: its id, the address, and the content."""
    return {
        "message_id": message_id,
        "channel": channel,
        "to": str(profile[CARRIER_FIELDS[channel]]),
        **{name: content[name] for name in CONTENT_FIELDS[channel] if name in content},
    }
