"""How agreement and account events change the controllers read model (INSTR-5, RET-4).

An accepted amendment changes the edition in force and an upgrade the account type; the row
follows, so listings and the sub-processor seeding (which counts an edition's controllers) see it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from processor.readmodels import tables as t

if TYPE_CHECKING:
    from processor.readmodels.projector import Handler, Projector
    from processor.readmodels.writes import Writes


def _ref(p: Projector, e: Any) -> str:  # noqa: ANN401 - an event
    ref: str = p.store.repository.get(e.originator_id, version=e.originator_version).ref
    return ref


def _amendment_accepted(p: Projector, w: Writes, e: Any, _pos: int) -> None:  # noqa: ANN401
    w.execute(
        t.controllers.update().where(t.controllers.c.ref == _ref(p, e)).values(agreement=e.edition)
    )


def _account_upgraded(p: Projector, w: Writes, e: Any, _pos: int) -> None:  # noqa: ANN401
    w.execute(
        t.controllers.update().where(t.controllers.c.ref == _ref(p, e)).values(account=e.account)
    )


# The events this module projects, for the table in `readmodels/registry.py`.
HANDLERS: dict[str, Handler] = {
    "Controller.AmendmentAccepted": _amendment_accepted,
    "Controller.AccountUpgraded": _account_upgraded,
}
