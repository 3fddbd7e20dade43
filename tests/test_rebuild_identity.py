"""A full rebuild stores exactly the rows the incremental projection stored (issue 17).

`processor.readmodels.rebuild.rebuild` has a loop of its own (large pages, a
read-ahead thread, one commit per page); the incremental path is `Projector.catch_up`, run by
every command. The rebuild is only a projection if it gives the same tables: these tests fill
every read-model table through real commands (imports large enough for the bulk writers,
re-imports, a single add, a rectification, an unsubscription, a restriction, an erasure, a
campaign, an instruction, a refusal), then rebuild and compare every projected table as the
database driver returns it, on both backends, with pages small enough that the rebuild spans
many of them.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
import sqlalchemy as sa
from support import login

import processor.readmodels.rebuild
from processor.app import Processor
from processor.kernel.errors import AccessDeniedError
from processor.readmodels import tables as t

MANY = 40  # above the bulk writers' threshold, so the pages take the bulk path
CSV_MANY = "email,first_name,phone\n" + "".join(
    f"p{i}@many.example,P{i},+45 12 34 {i:04d}\n" for i in range(MANY)
)
CSV_A = "email,first_name\nada@example.com,Ada\nbo@example.com,Bo\ncy@example.com,Cy\n"
CSV_B = "email,first_name\nada@example.com,Ada\nBO@example.com,Bo\ndee@example.com,Dee\n"


def _fill(proc: Processor) -> None:
    alice = login(proc, "alice")
    alice.imports.import_csv("acme", io.BytesIO(CSV_MANY.encode()), "many", "form")
    alice.imports.import_csv("acme", io.BytesIO(CSV_A.encode()), "news", "form")
    alice.imports.import_csv("acme", io.BytesIO(CSV_B.encode()), "offers", "form")
    alice.contacts.add("acme", "news", "eve@example.com", "email:form", first_name="Eve")
    ada = alice.contacts.id_by_email("acme", "ada@example.com")
    bo = alice.contacts.id_by_email("acme", "bo@example.com")
    cy = alice.contacts.id_by_email("acme", "cy@example.com")
    assert ada and bo and cy
    alice.contacts.update("acme", ada, {"email": "ada@new.example", "city": "Aarhus"})
    alice.contacts.unsubscribe("acme", bo, "offers")
    alice.contacts.set_state("restrict", "acme", bo, "asked to")
    alice.messages.send("acme", "news", "email", "Hi", "Body")
    alice.erasure.erase("acme", "request", contact=cy)
    alice.controllers.instruct("acme", "general", "Send weekly.", {"day": "monday"})
    with pytest.raises(AccessDeniedError):  # a refusal: a denial row
        login(proc, "ben").contacts.add("acme", "news", "zed@example.com", "email:form")
    proc.end_command()


def _stored(proc: Processor) -> dict[str, list[tuple[Any, ...]]]:
    """Every projected table as the driver returns it (no SQLAlchemy types), in a fixed order."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with proc.engines.readmodels.connect() as conn:
        schema = (conn.get_execution_options().get("schema_translate_map") or {}).get(None)
        for table in t.PROJECTED_TABLES:
            name = f'"{schema}"."{table.name}"' if schema else f'"{table.name}"'
            cols = ", ".join(f'"{c.name}"' for c in table.columns)
            rows = conn.exec_driver_sql(f"SELECT {cols} FROM {name}").fetchall()
            out[table.name] = sorted(
                (tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in rows),
                key=repr,  # JSON columns have no order in PostgreSQL; rows as they compare
            )
    return out


@pytest.fixture
def small_pages(monkeypatch):
    """Pages of 7 notifications: the rebuild crosses many pages and reads ahead across them."""
    monkeypatch.setattr(processor.readmodels.rebuild, "REBUILD_PAGE", 7)


def test_rebuild_stores_the_rows_of_the_incremental_projection_byte_for_byte(acme, small_pages):
    """A rebuild of every read model gives exactly the rows that command-by-command catch-up gave."""
    _fill(acme)
    live = _stored(acme)
    assert all(live[f"rm_{name}"] for name in ("contacts", "memberships", "consents", "messages"))
    applied = processor.readmodels.rebuild.rebuild(acme.projector)
    assert applied == acme.store.recorder.max_notification_id()
    assert _stored(acme) == live
    assert acme.projector.position() == acme.store.recorder.max_notification_id()


def test_rebuild_in_one_page_equals_the_rebuild_in_many(acme):
    """The page size changes nothing: one large page gives the same rows as the live tables."""
    _fill(acme)
    live = _stored(acme)
    processor.readmodels.rebuild.rebuild(acme.projector)
    assert _stored(acme) == live


def test_rebuild_then_catch_up_applies_nothing_twice(acme, small_pages):
    """After a rebuild the tracking position is the end of the log: catch-up finds nothing."""
    _fill(acme)
    processor.readmodels.rebuild.rebuild(acme.projector)
    assert acme.projector.catch_up() == 0
    login(acme, "alice").contacts.add("acme", "news", "fay@example.com", "email:form")
    live = _stored(acme)
    processor.readmodels.rebuild.rebuild(acme.projector)
    assert _stored(acme) == live


def test_rebuild_keeps_erased_contacts_unindexed__RET_5(acme, small_pages):
    """RET-5: an erased contact's blind indexes stay empty after a rebuild (its key is gone)."""
    _fill(acme)
    processor.readmodels.rebuild.rebuild(acme.projector)
    with acme.engines.readmodels.connect() as conn:
        erased = conn.execute(
            sa.select(t.contacts.c.email_index, t.contacts.c.phone_index).where(
                t.contacts.c.erased.is_(True)
            )
        ).all()
    assert erased == [(None, None)]
