"""Rebuild the read models beside the live ones and list every difference (AUD-4).

Read models are caches for display; a decision that must be right is taken from the events. A
cache someone edited (`rm_contacts.erased` set on a live contact, `rm_denials` rows deleted) is
still a lie shown to people, so `processor doctor` replays the whole event store into a scratch
in-memory SQLite database with the same projector and compares table by table, row by row.

The scratch projector must not change anything live: the real projector finishes interrupted
shreddings by destroying keys and creates missing system keys on first use. Here shredding only
marks the key as gone for the replay, and system keys are only read, so the key store is left
exactly as found and its own check (`keycheck`) judges it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, cast

import sqlalchemy as sa
from sqlalchemy.pool import StaticPool

from processor.integrity.findings import Finding
from processor.keys import Sealer
from processor.readmodels import tables as t
from processor.readmodels.projector import Projector

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from processor.app import Processor
    from processor.keys import KeyStore

ROW_MISSING: Final = "row missing from the live read model"
ROW_EXTRA: Final = "row in the live read model that no event made"
VALUE_DIFFERS: Final = "value differs"
_ATTEMPTS: Final = 3


class _ReplaySealer(Sealer):
    """Opens sealed values like the live sealer; "shredding" only forgets the key for the replay."""

    def shred(self, subject_ids: Iterable[str], at: datetime) -> int:  # noqa: ARG002
        """Treat the keys as destroyed for the rest of the replay, touching no store."""
        for sid in subject_ids:
            self._cache[sid] = None
        return 0

    def forget(self) -> None:
        """Keep what the replay learnt (shredded keys stay shredded)."""


class _ReadOnlyKeys:
    """The key store as the replay may use it: system keys are read, never created."""

    def __init__(self, keys: KeyStore) -> None:
        self._keys = keys

    def system_key(self, name: str, *, create: bool = True, at: datetime | None = None) -> bytes:  # noqa: ARG002
        """Read a system key; a missing one is a configuration error, not a reason to make one."""
        return self._keys.system_key(name, create=False)

    def __getattr__(self, name: str) -> Any:  # noqa: ANN401 - everything else is the key store's
        return getattr(self._keys, name)


class Rebuilt:
    """A scratch copy of the read models, projected from the events."""

    def __init__(self, proc: Processor) -> None:
        self.engine = sa.create_engine(
            "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
        keys = cast("KeyStore", _ReadOnlyKeys(proc.keys))
        # The live projector's own table, so the scratch copy projects exactly as it does.
        self.projector = Projector(
            proc.store,
            self.engine,
            _ReplaySealer(keys, proc.sealer.erasures),
            keys,
            proc.projector.handlers,
        )

    def close(self) -> None:
        """Drop the scratch database."""
        self.engine.dispose()


def compare_read_models(proc: Processor) -> list[Finding]:
    """Rebuild the read models from the events and compare them with the live ones.

    Both are brought to the same position of the notification log first; if writers keep
    moving it, the comparison is retried a few times before it gives up with a finding.
    """
    rebuilt = Rebuilt(proc)
    try:
        for _ in range(_ATTEMPTS):
            proc.projector.catch_up()
            rebuilt.projector.catch_up()
            if proc.projector.position() == rebuilt.projector.position():
                return _differences(proc.engines.readmodels, rebuilt.engine)
        return [
            Finding(
                check="readmodels",
                problem="the store kept changing during the check; run it again",
                where="rm_tracking",
                key="readmodels",
            )
        ]
    finally:
        rebuilt.close()


def _rows(engine: sa.Engine, table: sa.Table) -> dict[tuple[Any, ...], dict[str, Any]]:
    key = [c.name for c in table.primary_key.columns]
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(sa.select(table))]  # noqa: SLF001
    return {tuple(row[k] for k in key): row for row in rows}


def _differences(live_engine: sa.Engine, rebuilt_engine: sa.Engine) -> list[Finding]:
    findings: list[Finding] = []
    for table in t.PROJECTED_TABLES:
        live, rebuilt = _rows(live_engine, table), _rows(rebuilt_engine, table)
        for key in sorted(live.keys() | rebuilt.keys(), key=repr):
            label = "/".join(str(part) for part in key)
            if key not in live:
                findings.append(Finding("readmodels", ROW_MISSING, table.name, label))
            elif key not in rebuilt:
                findings.append(Finding("readmodels", ROW_EXTRA, table.name, label))
            else:
                findings.extend(
                    Finding(
                        "readmodels",
                        VALUE_DIFFERS,
                        table.name,
                        label,
                        column,
                        live[key][column],
                        rebuilt[key][column],
                    )
                    for column in live[key]
                    if live[key][column] != rebuilt[key][column]
                )
    return findings
