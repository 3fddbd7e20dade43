"""What the controller tells its data subjects, drawn from live state (SUBJ-10).

The controller must inform the people on its lists (Art. 13 when it collects from them, Art. 14
when it does not) and say whether an automated decision with legal or similar effect is made
about them (Art. 22). The processor helps as far as the processing allows (SCC 9.1, C.3): this
pack is generated per controller from what the store holds now, not from a template:

- **what is collected**: the field names its contacts actually have (from `ContactAdded` and
  `ContactRectified`), never their values;
- **from where**: how its contacts came in (entered one by one, imported from a file, over the
  HTTP API or the command line) and how their consents were collected (the consent methods);
- **for which purpose**: its own documented instructions (their kind and text) and the
  processing the agreement covers;
- **who else receives it**: the sub-processors in use for it and any transfer outside the EEA;
- **automated decisions**: none. The processor sends what the controller instructs to whom it
  chooses; the only automatic judgements are consent, list and account-limit checks that
  withhold a message, which have no legal or similarly significant effect.

The controller's administrator asks for its own pack; the GDPA for any controller's.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any, Final

import sqlalchemy as sa

from processor.audit import record
from processor.audit.reading import event_class, stored_events
from processor.domain.contacts import Contact
from processor.keys import open_for_subject, open_records
from processor.readmodels import tables as t
from processor.services.contacts import SOURCE
from processor.services.controllers import INSTRUCTION_TEXT
from processor.services.lookup import find_controller

if TYPE_CHECKING:
    from processor.session import Session

COMMAND: Final = "audit inform-pack"
ORIGINS: Final = {
    "manual": "entered one by one by the controller's users",
    "import": "imported from a file or list the controller provided",
}
CHANNELS: Final = {
    "cli": "the command line",
    "http": "the HTTP API",
    "python": "an embedded integration",
    "": "not recorded (added before the request channel was kept)",
}
NO_AUTOMATED_DECISION: Final = (
    "No decision based solely on automated processing, including profiling, with legal or "
    "similarly significant effects is made (Art. 22 GDPR). Messages are sent as the controller "
    "instructs to the lists it chooses; the only automatic checks (consent, list membership, "
    "restriction, objection, account limits) withhold a message and have no such effect."
)


def _contact_ids(s: Session, ref: str) -> set[str]:
    with s.proc.engines.readmodels.connect() as conn:
        rows = conn.execute(
            sa.select(t.contacts.c.contact_id).where(t.contacts.c.controller == ref)
        ).scalars()
        return {str(r) for r in rows}


def _origins(s: Session, ref: str) -> tuple[list[str], dict[str, int], dict[str, int]]:
    """Field names in use, how contacts came in (source kind) and over which channel."""
    proc = s.proc
    mine = _contact_ids(s, ref)
    added = event_class(Contact, "ContactAdded")
    fields: set[str] = set()
    sources: Counter[str] = Counter()
    channels: Counter[str] = Counter()
    for _, e in stored_events(proc, added, event_class(Contact, "ContactRectified")):
        cid = str(e.originator_id)
        if cid not in mine:
            continue
        fields.update(e.fields)
        if isinstance(e, added):
            # The source is sealed with the subject's key: an erased contact's reads "[erased]".
            kind = open_for_subject(proc.sealer, cid, SOURCE, e.source).partition(":")[0]
            sources[ORIGINS.get(kind, kind)] += 1
            channels[CHANNELS.get(e.channel, e.channel)] += 1
    return sorted(fields), dict(sorted(sources.items())), dict(sorted(channels.items()))


def _consent_methods(s: Session, ref: str) -> dict[str, int]:
    c, k = t.consents, t.contacts
    with s.proc.engines.readmodels.connect() as conn:
        rows = conn.execute(
            sa.select(c.c.method, sa.func.count())
            .join(k, k.c.contact_id == c.c.contact_id)
            .where(k.c.controller == ref)
            .group_by(c.c.method)
        ).all()
    return {str(method): int(n) for method, n in sorted(rows)}


def inform_pack(s: Session, ref: str) -> dict[str, Any]:
    """What the controller needs to inform its data subjects (SUBJ-10), from live state."""
    s.authorize("audit.pack", command=COMMAND, controller=ref)
    ctrl = find_controller(s.proc, ref)
    entry = record.controller_entry(s, ref)
    fields, sources, channels = _origins(s, ref)
    instructions = [
        {
            "number": n,
            "kind": i.kind,
            "text": open_records(s.proc.sealer, ref, INSTRUCTION_TEXT, i.text),
            "given_at": i.given_at.isoformat(),
            "in_force": ctrl.may_rely_on(n),
        }
        for n, i in enumerate(ctrl.instructions, 1)
    ]
    return {
        "pack": "information to data subjects (Art. 13, 14 and 22 GDPR; SCC 9.1, C.3)",
        "controller": ref,
        "at": s.proc.now().isoformat(),
        "what_is_collected": {
            "fields_in_use": fields,
            "special_categories": entry["categories_of_data"]["special_categories"],
            "also_recorded": [
                "list memberships and unsubscriptions",
                "consents: list, channel, method, when given, with evidence",
                "messages sent: when, channel, list",
            ],
        },
        "from_where": {
            "contacts_by_origin": sources,
            "contacts_by_request_channel": channels,
            "consents_by_method": _consent_methods(s, ref),
        },
        "purposes": {
            "instructions": instructions,
            "processing": entry["purposes"],
        },
        "recipients": {
            "subprocessors": entry["subprocessors"],
            "third_country_transfers": entry["third_country_transfers"],
        },
        "automated_decisions": {"made": False, "statement": NO_AUTOMATED_DECISION},
    }
