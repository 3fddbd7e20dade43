"""The projector is given one explicit table of read-model handlers (issue 24, item 5).

The handler modules are found here from the sources (every module of `src/processor` that
defines `HANDLERS`), not from a copy of the list, so a new handler module that is not in the
table, a table that drops a handler, a topic that names no event, or a registration import
put back into the projector each fail a test.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

from eventsourcing.domain import DomainEvent

import processor
from processor.integrity.rebuild import Rebuilt
from processor.readmodels import registry
from processor.readmodels.registry import READ_MODEL_HANDLERS

SRC = Path(processor.__file__).resolve().parent
PROJECTOR = SRC / "readmodels" / "projector.py"


def _module_name(path: Path) -> str:
    return ".".join(("processor", *path.relative_to(SRC).with_suffix("").parts))


def handler_modules() -> set[str]:
    """Modules of `src/processor` that define a module-level `HANDLERS` (read from the source)."""
    found = set()
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            targets = (
                [node.target]
                if isinstance(node, ast.AnnAssign)
                else node.targets
                if isinstance(node, ast.Assign)
                else []
            )
            if any(isinstance(t, ast.Name) and t.id == "HANDLERS" for t in targets):
                found.add(_module_name(path))
    return found


def _imported(tree: ast.AST, *, skip_type_checking: bool) -> set[str]:
    """Full names of the modules `tree` imports (`from a import b` gives `a` and `a.b`)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if (
            skip_type_checking
            and isinstance(node, ast.If)
            and isinstance(node.test, ast.Name)
            and node.test.id == "TYPE_CHECKING"
        ):
            node.body = []  # type-only imports: no import at run time
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def event_qualnames() -> set[str]:
    """`__qualname__` of every domain event class of the processor (all its modules loaded)."""
    for info in pkgutil.walk_packages(processor.__path__, "processor."):
        importlib.import_module(info.name)
    seen: set[type] = set()
    stack: list[type] = [DomainEvent]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in seen:
                seen.add(sub)
                stack.append(sub)
    return {cls.__qualname__ for cls in seen}


def test_the_table_holds_every_handler_of_every_handler_module():
    """Each handler module is in the table, and each of its handlers is there for its topic."""
    modules = handler_modules()
    assert len(modules) >= 6, "the handler modules were found"
    assert {m.__name__ for m in registry.MODULES} == modules
    missing = [
        f"{name}: {topic}"
        for name in sorted(modules)
        for topic, handler in importlib.import_module(name).HANDLERS.items()
        if handler not in READ_MODEL_HANDLERS.get(topic, ())
    ]
    assert missing == []
    # Nothing else: the table is exactly the modules' handlers, in the modules' order.
    for topic, handlers in READ_MODEL_HANDLERS.items():
        own = [m.HANDLERS[topic] for m in registry.MODULES if topic in m.HANDLERS]
        assert list(handlers) == own, topic


def test_every_topic_of_the_table_names_a_domain_event():
    """A topic that names no event class would be a handler that never runs (a typo)."""
    unknown = sorted(set(READ_MODEL_HANDLERS) - event_qualnames())
    assert unknown == []


def test_the_projector_imports_no_handler_module_and_no_handler_module_the_projector():
    """Registration is the table's, not import side effects in either direction."""
    modules = handler_modules() | {registry.__name__}
    projector_imports = _imported(
        ast.parse(PROJECTOR.read_text(encoding="utf-8")), skip_type_checking=False
    )
    assert projector_imports & modules == set()
    for name in sorted(handler_modules()):
        path = SRC.joinpath(*name.split(".")[1:]).with_suffix(".py")
        runtime = _imported(ast.parse(path.read_text(encoding="utf-8")), skip_type_checking=True)
        assert "processor.readmodels.projector" not in runtime, name


def test_the_live_and_the_scratch_projector_use_the_table(proc):
    """The processor's projector, and doctor's scratch rebuild, are given this very table."""
    assert proc.projector.handlers is READ_MODEL_HANDLERS
    rebuilt = Rebuilt(proc)
    try:
        assert rebuilt.projector.handlers is READ_MODEL_HANDLERS
    finally:
        rebuilt.close()
