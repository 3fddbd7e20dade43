"""The one table of read-model handlers, which the projector is given when it is built.

Each handler module says which events it projects (its `HANDLERS`, event class `__qualname__`
-> function); this module imports them downward and joins them into one table. Registration
by import side effects (imports at the bottom of the projector, decorators filling a global)
made the handlers and the projector one circle, and the order of the handlers of one event
depended on which module happened to be imported first. Here both are written down: where
several modules follow one event, their handlers run in the order of `MODULES`.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from processor.notices import handlers as notice_handlers
from processor.readmodels import (
    access_handlers,
    agreement_handlers,
    handlers,
    retention_handlers,
    subprocessor_handlers,
)

if TYPE_CHECKING:
    from types import ModuleType

    from processor.readmodels.projector import Handler, HandlerTable

# In the order their handlers run for one event (the order the projector's imports gave).
MODULES: Final[tuple[ModuleType, ...]] = (
    notice_handlers,
    access_handlers,
    agreement_handlers,
    handlers,
    retention_handlers,
    subprocessor_handlers,
)


def handler_table(modules: tuple[ModuleType, ...] = MODULES) -> HandlerTable:
    """Event `__qualname__` -> the handlers of `modules` for it, in the modules' order."""
    table: dict[str, tuple[Handler, ...]] = {}
    for module in modules:
        own: dict[str, Handler] = module.HANDLERS
        for topic, handler in own.items():
            table[topic] = (*table.get(topic, ()), handler)
    return MappingProxyType(table)


READ_MODEL_HANDLERS: Final[HandlerTable] = handler_table()
