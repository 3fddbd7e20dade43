"""Who a breach concerned, found by time travel over the event history (BR-2).

Inputs are the affected systems and the window in which the breach occurred. A system is one of

- `subprocessor:NAME`: a sub-processor held a controller's data during the window when, at some
  moment of it, `decide()`'s rules would have let it process that controller's data for one of
  its activities (engaged or listed, on the controller's list, not objected to, not retired,
  Chapter V in order). The very same facts and rules are used: the controller's facts as
  `SubprocessorRegistry.controller_facts` builds them, the sub-processor's replayed "as of"
  each moment (`facts_as_of`), judged by `may_process`;
- `hosting`: the whole platform, events and keys: every controller;
- `store`: the events store only; its personal values are sealed, so while the key store is
  intact the data are unintelligible to anyone not authorised (Art. 34(3)(a)) and said so;
- `keystore`: the key store only: wrapped data keys, no data values;
- `controller:ID`: one named controller's data.

A data subject counts when it existed and was not yet erased (crypto-shredded) at some moment
when a system held its controller's data in the window. Its categories come from what was set
then: contact data (standard fields), custom and sensitive (Art. 9) fields, consent evidence,
message content not yet shredded. Records are approximate: the profile, its consents and its
messages. Nothing here reads a personal value: only field names, timestamps and counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from eventsourcing.utils import get_topic

from processor.domain.contacts import Contact
from processor.domain.controllers import Controller
from processor.domain.ids import controller_id
from processor.domain.messages import Message
from processor.kernel.errors import InvalidInputError
from processor.services.lookup import find_controller
from subprocessors import facts_as_of, may_process
from subprocessors.domain import effective_at
from subprocessors.facts import start_of

if TYPE_CHECKING:
    from collections.abc import Iterator

    from processor.app import Processor
    from processor.policies import FieldsPolicy
    from processor.services.subprocessor_facts import SubprocessorRegistry

WHOLE: Final = ("hosting", "store", "keystore")
# A sub-processor whose activity is to keep the platform's data holds the messages too; one that
# only carries messages holds the messages it carried.
KEEPS_EVERYTHING: Final = frozenset({"hosting", "storage", "backup", "operations", "development"})
CONTACT_DATA: Final = "contact data"
CUSTOM: Final = "custom fields"
SENSITIVE: Final = "sensitive fields (Art. 9)"
CONSENT: Final = "consent evidence"
CONTENT: Final = "message content"
KEYS: Final = "key material (wrapped data keys)"
UNINTELLIGIBLE: Final = (
    "only sealed data of the events store was exposed and the key store is intact: the data are "
    "unintelligible to any person who is not authorised to access it (Art. 34(3)(a))"
)
KEYS_ONLY: Final = (
    "only wrapped key material was exposed, no data values; the keys are replaced with "
    "`breaches rotate-keys`"
)
_EPSILON = timedelta(microseconds=1)
_PAGE = 1000


def parse_system(text: str) -> str:
    """A system named on the command line, checked for form (names are checked when assessed)."""
    value = text.strip()
    if value in WHOLE:
        return value
    kind, sep, name = value.partition(":")
    if sep and kind in ("subprocessor", "controller") and name.strip():
        return f"{kind}:{name.strip()}"
    raise InvalidInputError(
        f"unknown system {value[:60]!r}: use subprocessor:NAME, hosting, keystore, store "
        "or controller:ID"
    )


@dataclass
class Subject:
    """What the events say about one data subject: when it lived and what was set when."""

    controller: str
    added_at: datetime
    erased_at: datetime | None = None
    fields: list[tuple[datetime, list[str]]] = field(default_factory=list)
    consents: list[tuple[datetime, bool]] = field(default_factory=list)
    messages: list[tuple[datetime, str, datetime | None]] = field(default_factory=list)

    def overlap(self, start: datetime, end: datetime) -> tuple[datetime, datetime] | None:
        """The part of [start, end) in which the subject existed and was not erased."""
        lo = max(start, self.added_at)
        hi = end if self.erased_at is None else min(end, self.erased_at)
        return (lo, hi) if lo < hi else None


@dataclass
class History:
    """Every subject of every controller, and when each controller's data was deleted."""

    subjects: dict[str, Subject] = field(default_factory=dict)
    deleted: dict[str, datetime] = field(default_factory=dict)


def _events(proc: Processor, *classes: type[Any]) -> Iterator[Any]:
    """Every stored event of these classes, in log order (the ledger-covered history)."""
    topics = [get_topic(cls) for cls in classes]
    start = 1
    while notes := proc.store.recorder.select_notifications(
        start=start, limit=_PAGE, topics=topics
    ):
        for note in notes:
            yield proc.store.mapper.to_domain_event(note)
        start = notes[-1].id + 1


def _cls(aggregate: type[Any], name: str) -> type[Any]:
    found: type[Any] = aggregate.__dict__[name]
    return found


def load_history(proc: Processor, controllers: list[str]) -> History:  # noqa: PLR0912 - a branch per event type
    """Replay contact, message and deletion events into per-subject histories."""
    added, rectified = _cls(Contact, "ContactAdded"), _cls(Contact, "ContactRectified")
    subscribed, consented = _cls(Contact, "SubscribedToList"), _cls(Contact, "ConsentGiven")
    erased = _cls(Contact, "ContactErased")
    recorded, shredded = _cls(Message, "MessageRecorded"), _cls(Message, "MessageContentShredded")
    deleted = _cls(Controller, "PersonalDataDeleted")
    refs = {controller_id(ref): ref for ref in controllers}
    history = History()
    messages: dict[str, tuple[str, int]] = {}
    for e in _events(
        proc, added, rectified, subscribed, consented, erased, recorded, shredded, deleted
    ):
        oid = str(e.originator_id)
        at: datetime = e.timestamp
        if isinstance(e, added):
            subject = Subject(controller=e.controller, added_at=at)
            subject.fields.append((at, list(e.fields)))
            subject.consents.append((at, bool(e.consent.get("evidence"))))
            history.subjects[oid] = subject
        elif isinstance(e, deleted):
            ref = refs.get(e.originator_id)
            if ref is not None:
                history.deleted.setdefault(ref, at)
        elif isinstance(e, shredded):
            if oid in messages:
                contact, index = messages[oid]
                when, sp, _ = history.subjects[contact].messages[index]
                history.subjects[contact].messages[index] = (when, sp, at)
        elif isinstance(e, recorded):
            if e.contact in history.subjects:
                subject = history.subjects[e.contact]
                messages[oid] = (e.contact, len(subject.messages))
                subject.messages.append((at, e.subprocessor, None))
        elif oid in history.subjects:
            subject = history.subjects[oid]
            if isinstance(e, erased):
                subject.erased_at = subject.erased_at or at
            elif isinstance(e, rectified):
                subject.fields.append((at, list(e.fields)))
            else:
                subject.consents.append((at, bool(e.consent.get("evidence"))))
    for subject in history.subjects.values():
        gone = history.deleted.get(subject.controller)
        if gone is not None and (subject.erased_at is None or gone < subject.erased_at):
            subject.erased_at = gone
    return history


def categories_and_records(
    subject: Subject, lo: datetime, hi: datetime, fields: FieldsPolicy, messages_of: str | None
) -> tuple[set[str], int]:
    """The categories the subject had in [lo, hi), and its approximate number of records.

    `messages_of` limits message content to the messages a sub-processor carried (None: all).
    """
    found: set[str] = set()
    held: list[str] = []
    for at, names in subject.fields:
        if at <= lo:
            held = names
    held_then = set(held).union(*(n for at, n in subject.fields if lo < at < hi))
    for name in held_then:
        if not name.startswith("custom."):
            found.add(CONTACT_DATA)
        elif fields.is_sensitive(name.removeprefix("custom.")):
            found.add(SENSITIVE)
        else:
            found.add(CUSTOM)
    consents = [evidence for at, evidence in subject.consents if at < hi]
    if any(consents):
        found.add(CONSENT)
    carried = [
        m
        for m in subject.messages
        if m[0] < hi
        and (m[2] is None or m[2] > lo)
        and (messages_of is None or m[1] == messages_of)
    ]
    if carried:
        found.add(CONTENT)
    return found, 1 + len(consents) + len(carried)


Interval = tuple[datetime, datetime]


def subprocessor_intervals(
    registry: SubprocessorRegistry,
    controller: Controller,
    name: str,
    start: datetime,
    end: datetime,
) -> tuple[list[Interval], str | None]:
    """When in [start, end) `decide()`'s rules let `name` process the controller's data.

    Also returns the sub-processor's name when it only carries messages (its messages alone
    count as content), or None when it keeps everything.
    """
    sp = registry.get(name)
    events = list(registry.proc.store.events.get(sp.id))
    facts = registry.controller_facts(controller)
    start = max(start, facts.registered_at)  # no subject of it exists earlier
    if start >= end:
        return [], sp.name
    points = {start}
    points.update(effective_at(e) for e in events)
    points.add(facts.registered_at)
    points.update(i.given_at for i in facts.transfer_instructions)
    now = facts_as_of(events, end)
    if now is not None:
        points.update(start_of(day) for day in now.notices.values())
        points.update(o.at for o in now.objections.values())
    day = start_of(start.date()) + timedelta(days=1)
    while day < end:  # policy dates (a basis struck down) change answers at midnight
        points.add(day)
        day += timedelta(days=1)
    ordered = sorted(p for p in points if start <= p < end)
    intervals: list[Interval] = []
    carrier: str | None = sp.name
    for i, at in enumerate(ordered):
        then = facts_as_of(events, at)
        if then is None:
            continue
        if then.activities & KEEPS_EVERYTHING:
            carrier = None
        allowed = any(
            may_process(facts, then, activity, at, registry.policy).allowed
            for activity in sorted(then.activities)
        )
        if allowed:
            until = ordered[i + 1] if i + 1 < len(ordered) else end
            if intervals and intervals[-1][1] == at:
                intervals[-1] = (intervals[-1][0], until)
            else:
                intervals.append((at, until))
    return intervals, carrier


def assess(
    registry: SubprocessorRegistry,
    systems: list[str],
    start: datetime | None,
    end: datetime,
) -> dict[str, Any]:
    """The impact of a breach of `systems` in [start, end], per controller (BR-2).

    An unknown start means "since the store began". The end is inclusive.
    """
    proc = registry.proc
    refs = registry.controller_refs()
    for system in systems:
        if system.startswith("controller:") and system.split(":", 1)[1] not in refs:
            raise InvalidInputError(f"unknown controller in system {system!r}")
    history = load_history(proc, refs)
    begin = start or datetime(1970, 1, 1, tzinfo=UTC)
    stop = end + _EPSILON
    per: dict[str, dict[str, Any]] = {}
    ids: dict[str, list[str]] = {}
    for ref in refs:
        row, found = _controller_impact(registry, ref, systems, history, begin, stop)
        if row is not None:
            per[ref], ids[ref] = row, found
    unintelligible = bool(systems) and set(systems) <= {"store", "keystore"}
    note = ""
    if unintelligible:
        note = KEYS_ONLY if "store" not in systems else UNINTELLIGIBLE
        if set(systems) == {"store", "keystore"}:
            unintelligible, note = False, ""
    return {
        "systems": list(systems),
        "window": {"from": start.isoformat() if start else None, "to": end.isoformat()},
        "unintelligible": unintelligible,
        "note": note,
        "controllers": [per[ref] for ref in sorted(per)],
        "subjects": sum(c["subjects"] for c in per.values()),
        "records": sum(c["records"] for c in per.values()),
        "subject_ids": ids,
    }


def _exposures(
    registry: SubprocessorRegistry,
    controller: Controller,
    systems: list[str],
    begin: datetime,
    stop: datetime,
) -> list[tuple[list[Interval], str | None]]:
    """For each system, when it held the controller's data in the window (and whose messages)."""
    found: list[tuple[list[Interval], str | None]] = []
    for system in systems:
        if system in WHOLE or system == f"controller:{controller.ref}":
            found.append(([(begin, stop)], None))
        elif system.startswith("subprocessor:"):
            name = system.split(":", 1)[1]
            found.append(subprocessor_intervals(registry, controller, name, begin, stop))
    return found


def _controller_impact(
    registry: SubprocessorRegistry,
    ref: str,
    systems: list[str],
    history: History,
    begin: datetime,
    stop: datetime,
) -> tuple[dict[str, Any] | None, list[str]]:
    """One controller's subjects, records and categories, and the subject ids (None: unaffected)."""
    controller = find_controller(registry.proc, ref)
    exposures = _exposures(registry, controller, systems, begin, stop)
    data_systems = [s for s in systems if s != "keystore"]
    fields = registry.proc.policies.fields
    ids: list[str] = []
    records, categories = 0, set[str]()
    for sid, subject in history.subjects.items():
        if subject.controller != ref:
            continue
        seen = [
            (window, carrier)
            for intervals, carrier in exposures
            for lo, hi in intervals
            if (window := subject.overlap(lo, hi)) is not None
        ]
        if not seen:
            continue
        ids.append(sid)
        best = 1
        for (lo, hi), carrier in seen:
            if not data_systems:
                categories.add(KEYS)
                continue
            found, count = categories_and_records(subject, lo, hi, fields, carrier)
            categories |= found
            best = max(best, count)
        records += best
    if not ids:
        return None, []
    row = {
        "controller": ref,
        "edition": controller.agreement,
        "subjects": len(ids),
        "records": records,
        "categories": sorted(categories),
    }
    return row, ids


def systems_seen_by(systems: list[str], controller: str | None) -> list[str]:
    """The systems as one controller may see them: never another controller's id (ACC-9)."""
    if controller is None:
        return list(systems)
    return [
        s for s in systems if not s.startswith("controller:") or s == f"controller:{controller}"
    ]


def impact_seen_by(impact: dict[str, Any] | None, controller: str | None) -> dict[str, Any] | None:
    """The impact as one controller may see it: its own row, totals and systems (ACC-9).

    The totals over every controller, or another controller's id among the systems, would tell
    one customer about another.
    """
    if impact is None or controller is None:
        return impact
    mine = [c for c in impact.get("controllers", []) if c["controller"] == controller]
    return {
        **impact,
        "systems": systems_seen_by(list(impact.get("systems", [])), controller),
        "controllers": mine,
        "subjects": sum(c["subjects"] for c in mine),
        "records": sum(c["records"] for c in mine),
    }
