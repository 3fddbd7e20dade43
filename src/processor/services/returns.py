"""Return of a controller's data (RET-2, SUBJ-6): a complete, standard-format copy in a directory.

One JSON Lines file and one CSV file per data set (contacts, consents, list memberships,
messages), and a `manifest.json` with the row count and SHA-256 of every file. Data files are
written first and the manifest last, so a directory with a manifest is a complete return; the
`DataReturned` event is recorded only then, and a `return` instruction waits for it.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import uuid
from functools import cached_property
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from processor.kernel.errors import InvalidInputError
from processor.keys import seal_records
from processor.readmodels import tables as t
from processor.retention_policy import decision_policy_version
from processor.services.csvcells import neutralise
from processor.services.lifecycle import RETURN_TO
from processor.services.lookup import find_controller

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from processor.domain.contacts import Contact
    from processor.domain.controllers import Controller
    from processor.domain.messages import Message
    from processor.services.contacts import ContactsService
    from processor.services.lifecycle import LifecycleService
    from processor.services.messages import MessagesService
    from processor.session import Session

FORMAT = "processor-return/1"
COLUMNS = {
    "consents": ["contact_id", "list", "channel", "method", "evidence", "given_at", "recorded_at"],
    "memberships": ["contact_id", "list", "subscribed", "since", "unsubscribed_at"],
    "messages": [
        "message_id",
        "contact_id",
        "channel",
        "sent_at",
        "content_expires_at",
        "content_erased",
        "subject",
        "body",
    ],
}
DATASETS = ("contacts", "consents", "memberships", "messages")
CONTACT_TAIL = ["source", "added_at", "added_by", "restricted", "objected"]
BATCH = 500


class ReturnService:
    """Writes the standard-format return of all of a controller's data."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.proc = session.proc

    @cached_property
    def _lifecycle_service(self) -> LifecycleService:
        """The lifecycle use cases this one uses, as the same person (made on first use)."""
        from processor.services.lifecycle import LifecycleService

        return LifecycleService(self.s)

    @cached_property
    def _contacts_service(self) -> ContactsService:
        """The contacts use cases this one uses, as the same person (made on first use)."""
        from processor.services.contacts import ContactsService

        return ContactsService(self.s)

    @cached_property
    def _messages_service(self) -> MessagesService:
        """The messages use cases this one uses, as the same person (made on first use)."""
        from processor.services.messages import MessagesService

        return MessagesService(self.s)

    def write(self, controller: str, out_dir: Path, *, force: bool = False) -> dict[str, Any]:
        """Write the return into `out_dir` and record it; returns the manifest.

        Files already in the directory are never overwritten unless `force`; files this call
        created are removed again if it fails, so a failed return leaves the directory as it was.
        """
        self.s.authorize("export.all", command="export", controller=controller)
        ctrl = find_controller(self.proc, controller)
        if (out_dir / "manifest.json").exists() and not force:
            raise InvalidInputError(
                f"{out_dir} already holds a return (manifest.json); give --force to replace it"
            )
        if out_dir.exists() and not out_dir.is_dir():
            raise InvalidInputError(f"{out_dir} is not a directory")
        if not out_dir.parent.is_dir():
            raise InvalidInputError(f"no such directory: {out_dir.parent}")
        ours = [out_dir / f"{n}.{x}" for n in DATASETS for x in ("jsonl", "csv")]
        taken = [p.name for p in ours if p.exists()]
        if taken and not force:
            raise InvalidInputError(
                f"{out_dir} already holds {taken[0]}; give --force to replace it"
            )
        created = out_dir.exists()
        out_dir.mkdir(mode=0o700, exist_ok=True)  # personal data: not for other accounts
        fresh = [p for p in ours if not p.exists()]
        try:
            manifest = self._write(ctrl, controller, out_dir)
        except BaseException:
            for path in fresh:
                path.unlink(missing_ok=True)
            (out_dir / "manifest.json.partial").unlink(missing_ok=True)
            if not created:
                with contextlib.suppress(OSError):
                    out_dir.rmdir()
            raise
        for path in [*ours, out_dir / "manifest.json"]:  # personal data; others may list the folder
            with contextlib.suppress(OSError):
                path.chmod(0o600)
        return manifest

    def _write(self, ctrl: Controller, controller: str, out_dir: Path) -> dict[str, Any]:
        names: set[str] = set()
        rows = self._jsonl(out_dir, controller, names)
        custom = sorted(names)
        standard = list(self.proc.policies.fields.standard)
        columns = {
            "contacts": ["contact_id", *standard, *(f"custom.{n}" for n in custom), *CONTACT_TAIL],
            **COLUMNS,
        }
        files: dict[str, dict[str, Any]] = {}
        for dataset, count in rows.items():
            _csv_from_jsonl(out_dir, dataset, columns[dataset])
            for suffix in ("jsonl", "csv"):
                path = out_dir / f"{dataset}.{suffix}"
                files[path.name] = {"dataset": dataset, "rows": count, "sha256": _sha256(path)}
        return_to = self._lifecycle_service.termination_texts(ctrl)["return_to"] or ctrl.name
        manifest = {
            "format": FORMAT,
            "controller": controller,
            "controller_name": ctrl.name,
            "return_to": return_to,
            "returned_at": self.proc.now().isoformat(),
            "returned_by": self.s.user_name,
            "simulation": self.proc.simulation,
            "counts": rows,
            "files": files,
        }
        partial = out_dir / "manifest.json.partial"
        partial.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", "utf-8")
        digest = _sha256(partial)
        partial.replace(out_dir / "manifest.json")
        with self.proc.using_clock():
            ctrl.record_return(
                actor=self.s.user_name,
                return_to=seal_records(self.proc.sealer, controller, RETURN_TO, return_to),
                files={name: dict(info) for name, info in files.items()},
                manifest_sha256=digest,
                policy_version=decision_policy_version(self.proc.policies),
            )
            self.proc.commit(ctrl)
        return {**manifest, "out": str(out_dir), "manifest_sha256": digest}

    # -- data sets ------------------------------------------------------------------------------

    def _jsonl(self, out_dir: Path, controller: str, custom: set[str]) -> dict[str, int]:
        counts = dict.fromkeys(DATASETS, 0)
        handles = {name: (out_dir / f"{name}.jsonl").open("w", encoding="utf-8") for name in counts}
        try:

            def put(dataset: str, row: dict[str, Any]) -> None:
                handles[dataset].write(json.dumps(row, ensure_ascii=False) + "\n")
                counts[dataset] += 1

            for agg in self._contacts(controller):
                view = self._contacts_service.view(agg)
                fields = dict(view["fields"]) if isinstance(view["fields"], dict) else {}
                custom.update(fields.get("custom", {}))
                tail = {k: view[k] for k in CONTACT_TAIL}
                put("contacts", {"contact_id": view["contact_id"], "fields": fields, **tail})
                for c in view["consents"]:
                    put("consents", {"contact_id": view["contact_id"], **c})
                for name, m in view["lists"].items():
                    put("memberships", {"contact_id": view["contact_id"], "list": name, **m})
            for message in self._messages(controller):
                put("messages", self._messages_service.view(message))
        finally:
            for handle in handles.values():
                handle.close()
        return counts

    def _ids(self, query: sa.Select[tuple[str]]) -> list[str]:
        with self.proc.engines.readmodels.connect() as conn:
            return [str(r[0]) for r in conn.execute(query)]

    def _contacts(self, controller: str) -> Iterator[Contact]:
        c = t.contacts.c
        ids = self._ids(
            sa.select(c.contact_id)
            .where((c.controller == controller) & c.erased.is_(False))
            .order_by(c.added_at, c.contact_id)
        )
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            self.proc.sealer.prefetch(chunk)
            for cid in chunk:
                yield self.proc.store.repository.get(uuid.UUID(cid))
            self.proc.sealer.forget()

    def _messages(self, controller: str) -> Iterator[Message]:
        m = t.messages.c
        ids = self._ids(
            sa.select(m.message_id).where(m.controller == controller).order_by(m.number)
        )
        for mid in ids:
            yield self.proc.store.repository.get(uuid.UUID(mid))


def _flat(row: dict[str, Any], column: str) -> str:
    if column.startswith("custom."):
        value = row.get("fields", {}).get("custom", {}).get(column[7:], "")
    elif column in row:
        value = row[column]
    else:
        value = row.get("fields", {}).get(column, "")
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _csv_from_jsonl(out_dir: Path, dataset: str, columns: list[str]) -> None:
    """The CSV twin of a JSON Lines file, one row per line (memory stays flat)."""
    source = out_dir / f"{dataset}.jsonl"
    with (
        source.open(encoding="utf-8") as lines,
        (out_dir / f"{dataset}.csv").open("w", encoding="utf-8", newline="") as handle,
    ):
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for line in lines:
            row = json.loads(line)
            writer.writerow([neutralise(_flat(row, col)) for col in columns])


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()
