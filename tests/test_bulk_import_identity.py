"""The bulk import path stores what the one-by-one path stores (issue 17, SUBJ-1, SUBJ-2).

`contacts import` builds each new contact's `ContactAdded` event directly (no aggregate,
`processor.bulk.contacts`) and commits a batch at once; `contacts add` builds a `Contact`
aggregate per person, and subscribes an existing contact to a new list through its aggregate.
The same CSV, imported into one store and added row by row into another under the same fixed
clock, must give the same events (compared after decryption, with contact ids numbered in order
of appearance and nonces gone with the ciphertext), one key per subject, the same ledger leaves
(count, order, topic, version), and the same read-model rows (contact ids numbered likewise,
blind indexes and pseudonyms derived with each store's own keys). A re-import of the same file
adds nothing on either path, and rows matched to existing contacts are subscribed to a new list.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from support import START, UNDERTAKING, drop_schemas, login, make_settings, sign_agreement

from processor.app import Processor
from processor.kernel.clock import FixedClock
from processor.keys.keystore import subject_keys
from processor.keys.sealing import open_with_key
from processor.link.tables import leaves
from processor.readmodels import tables as t
from processor.services.contacts import EVIDENCE, PROFILE, SOURCE
from processor.services.setup import initialise

CONTROLLER = "acme"

# (email, first_name, phone, shoe_size, consent_evidence): 40 people, above the bulk writers'
# threshold, with phones, a custom field, evidence on some rows and the same person twice.
PEOPLE = [
    (
        f"p{i}@example.dk",
        f"P{i}",
        f"+45 11 22 {i:02d} 44" if i % 3 == 0 else "",
        str(36 + i % 9) if i % 4 == 0 else "",
        f"signup form {i}" if i % 5 == 0 else "",
    )
    for i in range(40)
]
FIRST = [*PEOPLE, ("P7@Example.dk", "P7", "", "", "")]  # the same e-mail again, other case
# Existing people (some already on `news`) and new ones, for the `offers` list.
SECOND = [PEOPLE[1], PEOPLE[2], ("new1@example.dk", "New", "", "41", ""), PEOPLE[3],
          ("new2@example.dk", "Newer", "+4599887766", "", "ticked box")]  # fmt: skip


def _csv(rows: list[tuple[str, str, str, str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["email", "first_name", "phone", "custom.shoe_size", "consent_evidence"])
    writer.writerows(rows)
    writer.writerow(["not-an-e-mail", "Bad", "", "", ""])  # rejected, stores nothing
    return out.getvalue().encode()


def _bulk(proc: Processor, rows: list[tuple[str, str, str, str, str]], list_name: str) -> Any:
    alice = login(proc, "alice")
    result = alice.imports.import_csv(CONTROLLER, io.BytesIO(_csv(rows)), list_name, "form")
    proc.end_command()
    return result


def _one_by_one(
    proc: Processor, rows: list[tuple[str, str, str, str, str]], list_name: str
) -> None:
    alice = login(proc, "alice")
    for email, first, phone, shoe, evidence in rows:
        alice.contacts.add(
            CONTROLLER,
            list_name,
            email,
            f"email:form:{evidence}",
            phone=phone or None,
            first_name=first or None,
            fields={"shoe_size": shoe} if shoe else None,
            source="import",
        )
        proc.end_command()


class _Store:
    """One store of the comparison, set up identically, and what it holds after `start`."""

    def __init__(self, backend: str, folder: Path) -> None:
        self.settings, self.schemas = make_settings(backend, folder)
        self.proc = initialise(
            self.settings,
            gdpa_undertaking=UNDERTAKING,
            manager_undertaking=UNDERTAKING,
            gdpa="grete",
            system_manager="sam",
            clock=FixedClock(START),
        )
        login(self.proc, "sam").controllers.register(
            CONTROLLER, "Acme A/S", "DK", "paying", "scc", admin="alice"
        )
        sign_agreement(self.proc, CONTROLLER)
        login(self.proc, "alice")  # a first login rotates the handed-over credential
        self.start = int(self.proc.store.recorder.max_notification_id() or 0)
        self.before = self._rows()

    def close(self) -> None:
        self.proc.close()
        if self.schemas:
            drop_schemas(*self.schemas)

    def events(self) -> list[dict[str, Any]]:
        """Every event after `start`, decoded, its sealed values opened with their subject key."""
        proc = self.proc
        notes = proc.store.recorder.select_notifications(
            start=self.start, limit=10_000, inclusive_of_start=False
        )
        found = []
        for note in notes:
            event = vars(proc.store.mapper.to_domain_event(note)).copy()
            subject = str(event["originator_id"])
            key = proc.keys.subject_keys([subject])[subject]
            assert key is not None
            for name, purpose in (("profile", PROFILE), ("source", SOURCE)):
                if name in event:
                    event[name] = open_with_key(key, subject, purpose, event[name])
            if event.get("consent", {}).get("evidence"):
                event["consent"] = {
                    **event["consent"],
                    "evidence": open_with_key(key, subject, EVIDENCE, event["consent"]["evidence"]),
                }
            found.append(event)
        return found

    def leaves(self) -> list[tuple[str, int]]:
        """The ledger's leaves after `start`, in leaf order, as (topic, version)."""
        with self.proc.engines.ledger.connect() as conn:
            positions = [
                int(p)
                for p in conn.execute(
                    sa.select(leaves.c.position)
                    .where(leaves.c.position > self.start)
                    .order_by(leaves.c.leaf_index)
                ).scalars()
            ]
        notes = self.proc.store.recorder.select_notifications(
            start=self.start, limit=10_000, inclusive_of_start=False
        )
        by_position = {n.id: (n.topic, n.originator_version) for n in notes}
        assert positions == sorted(by_position)  # every new record signed, in log order
        return [by_position[p] for p in positions]

    def _rows(self) -> dict[str, list[tuple[Any, ...]]]:
        with self.proc.engines.readmodels.connect() as conn:
            return {
                table.name: [tuple(r) for r in conn.execute(sa.select(table))]
                for table in t.PROJECTED_TABLES
            }

    def new_rows(self) -> dict[str, Counter[tuple[Any, ...]]]:
        """Read-model rows added since `start`, per table (as multisets)."""
        now = self._rows()
        return {
            name: Counter(rows) - Counter(self.before[name])
            for name, rows in now.items()
            if Counter(rows) - Counter(self.before[name])
        }

    def key_count(self) -> tuple[int, int]:
        """(subject keys, distinct key bytes) of the contacts in the read model."""
        with self.proc.engines.readmodels.connect() as conn:
            ids = [r[0] for r in conn.execute(sa.select(t.contacts.c.contact_id))]
        with self.proc.engines.keys.connect() as conn:
            stored = conn.execute(
                sa.select(sa.func.count()).where(subject_keys.c.subject_id.in_(ids))
            ).scalar_one()
        opened = self.proc.keys.subject_keys(ids)
        return int(stored), len({k for k in opened.values() if k is not None})

    def labels(self, ids: dict[str, str]) -> dict[Any, str]:
        """Stand-ins for this store's contact ids, blind indexes and pseudonyms."""
        projector = self.proc.projector
        out: dict[Any, str] = dict(ids)
        for email, _first, phone, _shoe, _evidence in [*FIRST, *SECOND]:
            indexes = projector.indexes_of(CONTROLLER, {"email": email, "phone": phone})
            out[indexes["email_index"]] = f"email-index:{email.lower()}"
            if indexes["phone_index"]:
                out[indexes["phone_index"]] = f"phone-index:{phone}"
        for cid, label in ids.items():
            out[projector.pseudonym(CONTROLLER, cid)] = f"pseudonym:{label}"
        return out


def _numbered(events: list[dict[str, Any]]) -> dict[str, str]:
    """Contact ids numbered in order of first appearance in the log."""
    ids: dict[str, str] = {}
    for event in events:
        ids.setdefault(str(event["originator_id"]), f"contact-{len(ids)}")
    return ids


def _normalised_events(events: list[dict[str, Any]], ids: dict[str, str]) -> list[list[Any]]:
    """Each event's attributes in their stored order (the record's JSON key order), ids numbered."""
    return [list({**e, "originator_id": ids[str(e["originator_id"])]}.items()) for e in events]


def _normalised_rows(
    rows: dict[str, Counter[tuple[Any, ...]]], labels: dict[Any, str]
) -> dict[str, Counter[tuple[Any, ...]]]:
    def label(value: Any) -> Any:
        return labels.get(value, value) if isinstance(value, str) else value

    return {
        name: Counter({tuple(label(v) for v in row): n for row, n in counted.items()})
        for name, counted in rows.items()
    }


@pytest.fixture
def two_stores(backend: str):
    """A store for the bulk path and one for the one-by-one path, set up identically."""
    with tempfile.TemporaryDirectory(prefix="processor-identity-") as folder:
        bulk = _Store(backend, Path(folder) / "bulk")
        try:
            single = _Store(backend, Path(folder) / "single")
        except BaseException:
            bulk.close()
            raise
        try:
            yield bulk, single
        finally:
            bulk.close()
            single.close()


def _assert_same(bulk: _Store, single: _Store) -> None:
    bulk_events, single_events = bulk.events(), single.events()
    assert bulk_events, "nothing was stored"
    bulk_ids, single_ids = _numbered(bulk_events), _numbered(single_events)
    assert _normalised_events(bulk_events, bulk_ids) == _normalised_events(
        single_events, single_ids
    )
    assert bulk.leaves() == single.leaves()
    assert bulk.key_count() == single.key_count() == (len(bulk_ids), len(bulk_ids))
    assert _normalised_rows(bulk.new_rows(), bulk.labels(bulk_ids)) == _normalised_rows(
        single.new_rows(), single.labels(single_ids)
    )


def test_bulk_import_stores_what_adding_one_by_one_stores__SUBJ_1__SUBJ_2(two_stores):
    """New contacts: the same events after decryption, keys, ledger leaves and read-model rows."""
    bulk, single = two_stores
    result = _bulk(bulk.proc, FIRST, "news")
    assert (result.added, result.unchanged, result.rejected) == (40, 1, 1)
    _one_by_one(single.proc, FIRST, "news")
    _assert_same(bulk, single)
    assert {e["originator_topic"] for e in bulk.events() if "originator_topic" in e} == {
        "processor.domain.contacts:Contact"
    }


def test_reimport_and_matched_rows_store_what_one_by_one_stores__SUBJ_1(two_stores):
    """A re-import adds nothing on either path; rows matched to existing contacts subscribe
    them to the new list with the same events as `contacts add` of an existing e-mail.
    """
    bulk, single = two_stores
    _bulk(bulk.proc, FIRST, "news")
    _one_by_one(single.proc, FIRST, "news")
    end = (bulk.proc.store.recorder.max_notification_id(),
           single.proc.store.recorder.max_notification_id())  # fmt: skip
    again = _bulk(bulk.proc, FIRST, "news")
    _one_by_one(single.proc, FIRST, "news")
    assert (again.added, again.subscribed, again.unchanged) == (0, 0, 41)
    assert (bulk.proc.store.recorder.max_notification_id(),
            single.proc.store.recorder.max_notification_id()) == end  # fmt: skip
    matched = _bulk(bulk.proc, SECOND, "offers")
    assert (matched.added, matched.subscribed) == (2, 3)
    _one_by_one(single.proc, SECOND, "offers")
    _assert_same(bulk, single)
    versions = Counter(e["originator_version"] for e in bulk.events())
    assert versions[2] == 3  # the three existing people's `SubscribedToList`, version 2
