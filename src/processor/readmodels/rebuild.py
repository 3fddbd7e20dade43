"""A full rebuild of the read models: the whole notification log replayed in large pages.

`Projector.catch_up` is tuned for a command's few new events (a page of 1,000 notifications, a
commit per page). A rebuild replays everything, so it reads pages five times as large and
fetches the subject keys of a page in one query. On PostgreSQL it reads the next page on a
second thread while this one is applied (the driver releases the GIL while the server works); on
SQLite the read is the process's own CPU, and reading ahead measured no faster (issue 17).
Each page is applied by the very handlers `catch_up` uses, through the same `_Writes`, so the
rows are those of an incremental projection (`tests/test_rebuild_identity.py` compares them
byte for byte); only the page size, the read-ahead and the commit per page differ.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Final

from eventsourcing.sqlite import SQLiteDatastore

from processor.readmodels import tables as t
from processor.readmodels.projector import TRACKING_NAME
from processor.readmodels.writes import Writes

if TYPE_CHECKING:
    from collections.abc import Sequence

    from eventsourcing.persistence import Notification

    from processor.readmodels.projector import Projector

REBUILD_PAGE: Final = 5000


def _read(projector: Projector, after: int) -> Sequence[Notification]:
    return projector.store.recorder.select_notifications(
        start=after, limit=REBUILD_PAGE, inclusive_of_start=False
    )


class _Inline:
    """The executor's `submit`, run at once: SQLite's page is read when it is needed."""

    def submit(self, fn: Any, *args: Any) -> Future[Any]:  # noqa: ANN401
        done: Future[Any] = Future()
        done.set_result(fn(*args))
        return done


def rebuild(projector: Projector) -> int:
    """Empty every projected table and replay the whole event store; returns events applied."""
    with projector.engine.begin() as conn:
        for table in reversed(t.PROJECTED_TABLES):
            conn.execute(table.delete())
        conn.execute(
            t.tracking.update().where(t.tracking.c.name == TRACKING_NAME).values(position=0)
        )
    decode = projector.store.mapper.to_domain_event
    applied = 0
    recorder: Any = projector.store.recorder
    read_ahead = not isinstance(recorder.datastore, SQLiteDatastore)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rebuild-read") as threads:
        pool: ThreadPoolExecutor | _Inline = threads if read_ahead else _Inline()
        ahead = pool.submit(_read, projector, 0)
        while True:
            with projector.engine.begin() as conn:
                # The tracking row's lock first, as in `catch_up`: a concurrent projector waits.
                position = conn.execute(
                    t.tracking.update()
                    .where(t.tracking.c.name == TRACKING_NAME)
                    .values(position=t.tracking.c.position)
                    .returning(t.tracking.c.position)
                ).scalar_one()
                notes = ahead.result()
                if notes and notes[0].id <= position:
                    # Another projector applied some of this page meanwhile: read from where it
                    # stopped (a rebuild never applies an event twice).
                    notes = _read(projector, position)
                if not notes:
                    return applied
                ahead = pool.submit(_read, projector, notes[-1].id)
                events = [decode(n) for n in notes]
                projector.prefetch_keys(events)
                writes = Writes(conn)
                handlers: dict[type[Any], Sequence[Any]] = {}
                for note, domain_event in zip(notes, events, strict=True):
                    kind = type(domain_event)
                    found = handlers.get(kind)
                    if found is None:
                        found = handlers[kind] = projector.handlers.get(kind.__qualname__, ())
                    for handler in found:
                        handler(projector, writes, domain_event, note.id)
                writes.flush()
                if writes.shred:
                    projector.sealer.shred(list(writes.shred), max(writes.shred.values()))
                conn.execute(
                    t.tracking.update()
                    .where(t.tracking.c.name == TRACKING_NAME)
                    .values(position=notes[-1].id)
                )
                applied += len(notes)
            projector.sealer.forget()  # a page's keys are not kept beyond its page
