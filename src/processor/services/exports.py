"""Exports for access and portability requests (SUBJ-4, SUBJ-6): JSON and CSV.

Exports stream contact by contact, so exporting a large controller keeps memory flat. Every
export is recorded as a `DataExported` event with the SHA-256 of what was written.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
from functools import cached_property
from typing import TYPE_CHECKING, Any, TextIO

import sqlalchemy as sa

from processor.kernel.errors import InvalidInputError
from processor.readmodels import tables as t
from processor.services.csvcells import neutralise
from processor.services.lookup import find_controller

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from processor.domain.contacts import Contact
    from processor.services.access import AccessService
    from processor.services.contacts import ContactsService
    from processor.session import Session

FORMATS = ("json", "csv")
_WRITE_BATCH = 500  # contacts per write to the output (the batch `_all` reads)


class _HashingWriter(io.TextIOBase):
    """Writes through to a text stream while hashing the UTF-8 bytes written."""

    def __init__(self, target: TextIO) -> None:
        self.target = target
        self.sha = hashlib.sha256()

    def write(self, text: str) -> int:
        self.sha.update(text.encode("utf-8"))
        return self.target.write(text)


class ExportService:
    """Exports one subject or all of a controller's contacts."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.proc = session.proc

    @cached_property
    def _contacts_service(self) -> ContactsService:
        """The contacts use cases this one uses, as the same person (made on first use)."""
        from processor.services.contacts import ContactsService

        return ContactsService(self.s)

    @cached_property
    def _access_service(self) -> AccessService:
        """The access use cases this one uses, as the same person (made on first use)."""
        from processor.services.access import AccessService

        return AccessService(self.s)

    def export(
        self,
        controller: str,
        out: TextIO,
        *,
        contact: str | None = None,
        email: str | None = None,
        everything: bool = False,
        data_format: str = "json",
        progress: Callable[[int, int], None] | None = None,
    ) -> dict[str, Any]:
        """Write the export to `out`; returns a summary (count, sha256).

        With `everything`, `progress(done, total)` is told after each batch of contacts (the
        CLI draws a bar on a terminal from it). The export streams: contacts are read 500 at a
        time, with their keys fetched in one query per batch.
        """
        if data_format not in FORMATS:
            raise InvalidInputError(f"unknown format {data_format!r}: json or csv")
        chosen = [x for x in (contact, email) if x is not None]
        if len(chosen) + int(everything) != 1:
            raise InvalidInputError("give exactly one of --contact, --email or --all")
        permission = "export.all" if everything else "export.contact"
        user = self.s.authorize(permission, command="export", controller=controller)
        ctrl = find_controller(self.proc, controller)
        if everything:
            aggregates: Iterator[Contact] = self._all(controller, progress)
        else:
            one = self._contacts_service.load(controller, chosen[0])
            if user.controller is not None:
                self._access_service.record_subject_read(controller, str(one.id), "export")
            aggregates = iter([one])
        writer = _HashingWriter(out)
        meta: dict[str, Any] = {
            "format": "processor-export/1",
            "controller": controller,
            "scope": "all" if everything else "contact",
            "exported_at": self.proc.now().isoformat(),
            "exported_by": self.s.user_name,
            "simulation": self.proc.simulation,
        }
        if data_format == "json":
            count = self._json(writer, meta, aggregates)
        else:
            count = self._csv(writer, controller, aggregates, everything=everything)
        digest = writer.sha.hexdigest()
        # Written out before the export is recorded: a full device fails the export instead.
        out.flush()
        with self.proc.using_clock():
            ctrl.record_export(
                actor=self.s.user_name,
                scope=str(meta["scope"]),
                contacts=count,
                data_format=data_format,
                sha256=digest,
            )
            self.proc.commit(ctrl)
        return {**meta, "contacts": count, "sha256": digest, "format": data_format}

    def _ids(self, controller: str) -> list[str]:
        with self.proc.engines.readmodels.connect() as conn:
            return [
                r[0]
                for r in conn.execute(
                    sa.select(t.contacts.c.contact_id)
                    .where((t.contacts.c.controller == controller) & t.contacts.c.erased.is_(False))
                    .order_by(t.contacts.c.added_at, t.contacts.c.contact_id)
                )
            ]

    def _all(
        self, controller: str, progress: Callable[[int, int], None] | None = None
    ) -> Iterator[Contact]:
        ids = self._ids(controller)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            self.proc.sealer.prefetch(chunk)
            # One query for the batch's events, as for its keys (issue 17), not one per contact.
            yield from self.proc.store.get_many([uuid.UUID(cid) for cid in chunk])
            self.proc.sealer.forget()
            if progress is not None:
                progress(start + len(chunk), len(ids))

    def _json(
        self, out: _HashingWriter, meta: dict[str, Any], aggregates: Iterator[Contact]
    ) -> int:
        head = json.dumps(meta, ensure_ascii=False, indent=2)
        out.write(head[:-2] + ',\n  "contacts": [')
        # One encoder for every contact (`json.dumps` with options builds one per call), and
        # one write per batch: the bytes, and so the recorded SHA-256, are the same.
        encode = json.JSONEncoder(ensure_ascii=False).encode
        view = self._contacts_service.view
        pending: list[str] = []
        count = 0
        for agg in aggregates:
            pending.append(("\n    " if count == 0 else ",\n    ") + encode(view(agg)))
            count += 1
            if len(pending) >= _WRITE_BATCH:
                out.write("".join(pending))
                pending.clear()
        pending.append("\n  ]\n}\n")
        out.write("".join(pending))
        return count

    def _csv(
        self,
        out: _HashingWriter,
        controller: str,
        aggregates: Iterator[Contact],
        *,
        everything: bool,
    ) -> int:
        standard = list(self.proc.policies.fields.standard)
        if everything:
            names: set[str] = set()
            for agg in self._all(controller):
                names.update(f[7:] for f in agg.fields if f.startswith("custom."))
            custom = sorted(names)
        else:
            aggs = list(aggregates)
            custom = sorted({f[7:] for a in aggs for f in a.fields if f.startswith("custom.")})
            aggregates = iter(aggs)
        columns = [
            "contact_id",
            *standard,
            *custom,
            "lists",
            "unsubscribed_lists",
            "restricted",
            "objected",
            "erased",
            "source",
            "added_at",
            "consents",
        ]
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        count = 0
        for agg in aggregates:
            view = self._contacts_service.view(agg)
            fields = view["fields"] if isinstance(view["fields"], dict) else {}
            row: dict[str, Any] = {"contact_id": view["contact_id"]}
            row.update({k: fields.get(k, "") for k in standard})
            row.update({k: fields.get("custom", {}).get(k, "") for k in custom})
            row["lists"] = ";".join(n for n, m in view["lists"].items() if m["subscribed"])
            row["unsubscribed_lists"] = ";".join(
                n for n, m in view["lists"].items() if not m["subscribed"]
            )
            for flag in ("restricted", "objected", "erased"):
                row[flag] = str(view[flag]).lower()
            row["source"] = view["source"]
            row["added_at"] = view["added_at"]
            row["consents"] = json.dumps(view["consents"], ensure_ascii=False)
            writer.writerow({k: neutralise(str(val)) for k, val in row.items()})
            count += 1
        return count
