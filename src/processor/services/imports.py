"""Importing contacts from CSV in batches (SUBJ-1, SUBJ-2): the throughput path.

Rows are validated one by one; bad rows go to the rejects file with their reason and nothing of
them is stored. Good rows are saved 1,000 at a time: keys first (one insert), then every event of
the batch in one event-store transaction, so a contact is never half-written. Re-importing the
same file adds nothing: rows are matched to existing contacts by blind index, under the
controller's write lock (`processor.services.writelock`), so concurrent imports never add a person
twice.

A row for a person who was erased before is added as a new contact and counted in `added`:
the import cannot tell. Knowing that an address was erased needs something that recognises it
after the erasure, which is exactly what crypto-shredding promises not to keep (RET-5). A
controller that must not re-add people keeps its own suppression list and removes them from
the file before importing.
"""

from __future__ import annotations

import csv
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO

import sqlalchemy as sa

from processor.bulk.contacts import contact_added
from processor.kernel.errors import InvalidInputError, NotFoundError, ProcessorError, RefusedError
from processor.readmodels import tables as t
from processor.services import validation as v
from processor.services.columnmap import (
    HeaderMapper,
    auxiliary,
    header_mapper,
    merge_fallbacks,
)
from processor.services.consent import row_consent
from processor.services.importpresets import preset_mapping
from processor.services.lifecycle import check_account_open
from processor.services.lookup import find_controller
from processor.services.profile import (
    ConsentInput,
    check_sensitive_fields,
    check_sensitive_values,
    clean_profile,
)
from processor.services.writelock import contact_writes

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from processor.domain.contacts import Contact
    from processor.domain.controllers import Controller
    from processor.kernel.aggregate import ProcessorAggregate
    from processor.policies import FieldsPolicy
    from processor.services.contacts import ContactsService
    from processor.session import Session

BATCH = 1000
# The rejects file's own columns: importing a corrected rejects file ignores them.
REJECT_COLUMNS = ("_line", "_reason")
RESERVED = ("consent_at", "consent_requested_at", "consent_evidence", *REJECT_COLUMNS)
CUSTOM = "custom."


@dataclass
class ImportResult:
    """What an import did. `added` includes people erased earlier: erasure leaves no trace."""

    rows: int = 0
    added: int = 0
    subscribed: int = 0
    unchanged: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return dict(self.__dict__)


def _column_key(column: str, standard: Sequence[str]) -> str:
    """The profile key of a CSV column: `custom.NAME` (as returns write it) is the custom NAME."""
    if not column.startswith(CUSTOM):
        return column
    name = column[len(CUSTOM) :]
    if name in standard:
        raise InvalidInputError(
            f"the CSV header column {column!r} names a vocabulary field; call it {name!r}"
        )
    return name


def _rejects_writer(rejects: TextIO | None, header: list[str]) -> Any:  # noqa: ANN401 - csv's writer type is private
    """A CSV writer for the rejects file, with its header already written.

    The header is `_line`, `_reason`, then the file's own columns, so the rejected rows can be
    fixed and the rejects file itself imported again.
    """
    if rejects is None:
        return None
    writer = csv.writer(rejects, lineterminator="\n")
    writer.writerow([*REJECT_COLUMNS, *(h for h in header if h not in REJECT_COLUMNS)])
    return writer


def _checked_profile(
    fields: FieldsPolicy, ctrl: Controller, values: dict[str, str]
) -> dict[str, Any]:
    """A row's profile, cleaned, its free-text values checked for special categories (INSTR-3)."""
    profile = clean_profile(fields, values, require_email=True)
    check_sensitive_values(fields, ctrl, profile)
    return profile


def _column_keys(header: list[str], standard: Sequence[str]) -> dict[str, str]:
    """Each column's profile key, the dropped and fallback columns left out."""
    return {h: _column_key(h, standard) for h in header if not auxiliary(h)}


def _mapper(
    preset: str | None, columns: Mapping[str, str] | None, standard: Sequence[str]
) -> HeaderMapper:
    """The header mapper of a preset overlaid with the user's own maps (theirs win)."""
    base = preset_mapping(preset)
    mine = dict(columns or {})
    merged = {**{k: v for k, v in base.items() if k not in mine}, **mine}
    return header_mapper(merged, standard, RESERVED, optional=base)


class ImportService:
    """Imports a CSV of contacts into one list of one controller."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.proc = session.proc

    @cached_property
    def _contacts_service(self) -> ContactsService:
        """The contacts use cases this one uses, as the same person (made on first use)."""
        from processor.services.contacts import ContactsService

        return ContactsService(self.s)

    def import_csv(
        self,
        controller: str,
        raw: BinaryIO,
        list_name: str,
        consent_method: str,
        consent_channel: str = "email",
        rejects: TextIO | None = None,
        progress: Callable[[int], None] | None = None,
        source: str = "import",
        columns: Mapping[str, str] | None = None,
        preset: str | None = None,
    ) -> ImportResult:
        """Stream `raw` (CSV bytes) into the controller's list.

        `columns` maps other platforms' headers onto fields (`columnmap`), over a platform's
        `preset` (`importpresets`) when one is named; `consent_at` gives the time each consent
        was given, validated (`consent`, SUBJ-2).
        """
        self.s.authorize("contacts.import", command="contacts import", controller=controller)
        ctrl = find_controller(self.proc, controller)
        check_account_open(self.proc, ctrl)
        name = v.list_name(list_name)
        ConsentInput.parse(f"{consent_channel}:{consent_method}")
        from processor.services.csvrows import read_rows

        mapper = _mapper(preset, columns, self.proc.policies.fields.standard)
        header, rows = read_rows(raw, ("email",), mapper)
        fields = self.proc.policies.fields
        keys = _column_keys(header, fields.standard)
        check_sensitive_fields(
            fields,
            ctrl,
            [k for h, k in keys.items() if k not in fields.standard and h not in RESERVED],
        )
        limit = self.proc.policies.accounts.accounts[ctrl.account].max_contacts  # type: ignore[index]
        # Rejected rows keep the file's own header, so the same command imports them again.
        reject_writer = _rejects_writer(rejects, mapper.original if mapper.mapping else header)
        result = ImportResult()
        cells_of: dict[int, list[str]] = {}

        def reject(line: int, reason: str, cells: tuple[str, ...] | None = None) -> None:
            result.rejected += 1
            result.reasons[reason] = result.reasons.get(reason, 0) + 1
            if reject_writer:
                kept = list(cells) if cells is not None else cells_of.get(line, [])
                if len(kept) == len(header):  # a corrected rejects file loses its old reason
                    kept = [c for h, c in zip(header, kept, strict=True) if h not in REJECT_COLUMNS]
                reject_writer.writerow([line, reason, *kept])

        batch: list[tuple[int, dict[str, Any], ConsentInput]] = []
        for row in rows:
            result.rows += 1
            if row.error:
                reject(row.line, row.error, row.cells)
                continue
            # Validation comes first, so a bad row is rejected for being bad, never for the
            # account's limits (which `_save_batch` applies to valid rows only).
            try:
                given = merge_fallbacks(row.values)
                values = {keys[k]: val for k, val in given.items() if k not in RESERVED}
                profile = _checked_profile(fields, ctrl, values)
                consent = row_consent(consent_channel, consent_method, given, self.proc.now())
            except ProcessorError as exc:
                reject(row.line, str(exc), row.cells)
                continue
            batch.append((row.line, profile, consent))
            if reject_writer:
                cells_of[row.line] = list(row.cells)
            if len(batch) >= BATCH:
                self._save_batch(controller, name, batch, limit, reject, result, source)
                batch = []
                cells_of.clear()
                if progress:
                    progress(result.rows)
        if batch:
            self._save_batch(controller, name, batch, limit, reject, result, source)
        if progress:
            progress(result.rows)
        return result

    def _save_batch(
        self,
        controller: str,
        list_name: str,
        batch: list[tuple[int, dict[str, Any], ConsentInput]],
        limit: int | None,
        reject: Callable[[int, str], None],
        result: ImportResult,
        source: str,
    ) -> None:
        """Save one batch under the controller's write lock (see `processor.services.writelock`).

        Another import of the same file waits here, then finds this batch's contacts in the
        read models and subscribes or skips them: one live contact per e-mail (SUBJ-4).
        """
        with self.proc.using_clock(), contact_writes(self.proc, controller):
            self._save_locked(controller, list_name, batch, limit, reject, result, source)

    def _save_locked(
        self,
        controller: str,
        list_name: str,
        batch: list[tuple[int, dict[str, Any], ConsentInput]],
        limit: int | None,
        reject: Callable[[int, str], None],
        result: ImportResult,
        source: str,
    ) -> None:
        contacts = self._contacts_service
        indexes = [contacts.email_index(controller, p["email"]) for _, p, _ in batch]
        existing = self._existing(controller, list_name, indexes)
        room = None if limit is None else limit - contacts.active_count(controller)
        new_ids: dict[str, uuid.UUID] = {}
        # (line, profile, consent, existing contact id or "", e-mail blind index)
        plan: list[tuple[int, dict[str, Any], ConsentInput, str, str]] = []
        for (line, profile, consent), index in zip(batch, indexes, strict=True):
            if index in existing:
                cid, subscribed = existing[index]
                if subscribed:
                    result.unchanged += 1
                    continue
                existing[index] = (cid, True)
                plan.append((line, profile, consent, cid, index))
                continue
            if index in new_ids:
                result.unchanged += 1  # the same e-mail twice in one batch
                continue
            if room is not None and room <= 0:
                reject(line, str(RefusedError(f"account holds at most {limit} contacts (SUBJ-7)")))
                continue
            if room is not None:
                room -= 1
            new_ids[index] = uuid.uuid4()
            plan.append((line, profile, consent, "", index))
        if not plan:
            return
        with self.proc.using_clock():
            self.proc.sealer.new_subjects([str(u) for u in new_ids.values()], self.proc.now())
            matched = self._matched(controller, [p[3] for p in plan if p[3]])
            saving: list[Contact | ProcessorAggregate.Event] = []
            id_iter = iter(new_ids.values())
            for _line, profile, consent, cid, index in plan:
                if cid:
                    agg = matched[cid]
                    agg.subscribe(
                        actor=self.s.user_name,
                        list_name=list_name,
                        consent=contacts.consent_payload(cid, consent),
                    )
                    saving.append(agg)
                    result.subscribed += 1
                else:
                    saving.append(
                        self._added(
                            controller, profile, list_name, consent, source, next(id_iter), index
                        )
                    )
                    result.added += 1
            self.proc.commit(*saving)
            self.proc.sealer.forget()

    def _added(
        self,
        controller: str,
        profile: dict[str, Any],
        list_name: str,
        consent: ConsentInput,
        source: str,
        cid: uuid.UUID,
        email_index: str,
    ) -> ProcessorAggregate.Event:
        """The `ContactAdded` event of a new row, sealed and hinted as `contacts add` does it.

        The same values as `ContactsService.new_contact_with_key`, without the aggregate
        (`processor.bulk.contacts`); its key was created with the batch's. The hint reuses
        the e-mail index the duplicate lookup derived from this very profile.
        """
        values = self._contacts_service.added_values(
            controller, profile, list_name, consent, source, cid, email_index
        )
        return contact_added(cid, **values)

    def _matched(self, controller: str, ids: list[str]) -> dict[str, Contact]:
        """The existing contacts a batch subscribes, their events read in one query.

        Their new event depends on their state (a new list, or a new consent on one they are
        on; the next version), so the aggregate's own `subscribe` decides it, as for one row.
        """
        from processor.domain.contacts import Contact

        found: dict[str, Contact] = {}
        for cid, agg in zip(
            ids, self.proc.store.get_many([uuid.UUID(i) for i in ids]), strict=True
        ):
            if not isinstance(agg, Contact) or agg.controller != controller:
                raise NotFoundError(f"unknown contact {cid}")
            found[cid] = agg
        return found

    def _existing(
        self, controller: str, list_name: str, indexes: list[str]
    ) -> dict[str, tuple[str, bool]]:
        """Live contacts with these e-mail indexes, and whether each is on the list already."""
        c, m = t.contacts, t.memberships
        query = (
            sa.select(c.c.email_index, c.c.contact_id, m.c.subscribed)
            .outerjoin(m, (m.c.contact_id == c.c.contact_id) & (m.c.list_name == list_name))
            .where(
                (c.c.controller == controller)
                & c.c.email_index.in_(set(indexes))
                & c.c.erased.is_(False)
            )
        )
        with self.proc.engines.readmodels.connect() as conn:
            return {
                index: (cid, bool(subscribed)) for index, cid, subscribed in conn.execute(query)
            }
