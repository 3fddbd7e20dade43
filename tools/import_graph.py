"""The house drawn from the code's own imports: circles, upward arrows and the root's size.

Every ``import`` in ``src/`` counts, whether at module level, deferred inside a function or only
for type checking: a type-only import is still a file a reader must open to follow the code, and
a deferred one is a circle hidden from the interpreter, not from the reader. Each import is
resolved to the file it names (``from a.b import c`` is ``a/b/c.py`` when that file exists, else
``a/b/__init__.py``), and a package's ``__init__`` is a file like any other.

``python tools/import_graph.py`` prints the figures the house issue names (circles of more than
two files, arrows from a lower layer to a higher one, modules at the root of ``src/processor/``)
and exits 1 when one exceeds its limit; ``tests/test_layering.py`` calls :func:`measure`.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
TOP_PACKAGES = ("processor", "ledger", "subprocessors")

# Layers, lowest first. A module's layer is the first prefix that matches its dotted name; an
# import from a module to one in a higher layer is an upward arrow.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("kernel", ("ledger", "processor.kernel")),
    (
        "domain",
        (
            "subprocessors",
            "processor.domain",
            "processor.notices.domain",
            "processor.breaches.domain",
        ),
    ),
    (
        "platform",
        (
            "processor.config",
            "processor.logs",
            "processor.policies",
            "processor.versions",
            "processor.retention_policy",
            "processor.storage",
        ),
    ),
    ("keys", ("processor.keys",)),
    ("link", ("processor.link", "processor.readmodels", "processor.notices.handlers")),
    ("core", ("processor.app", "processor.notices.post")),
    ("access", ("processor.refusals", "processor.session", "processor.credentials")),
    (
        "services",
        (
            "processor.services",
            "processor.notices",
            "processor.breaches",
            "processor.backup",
            "processor.integrity",
            "processor.verifications",
            "processor.bulk",
        ),
    ),
    ("reports", ("processor.audit",)),
    ("desk", ("processor.desk",)),
    ("faces", ("processor.api", "processor.demo", "processor")),
)

LIMITS = {"circle": 2, "upward": 9, "root": 12}


@dataclass
class House:
    """What :func:`measure` found."""

    modules: dict[str, Path]
    edges: dict[str, set[str]]
    circles: list[list[str]] = field(default_factory=list)
    upward: list[tuple[str, str]] = field(default_factory=list)
    root_modules: list[str] = field(default_factory=list)

    @property
    def largest_circle(self) -> int:
        """The number of files in the largest circle (1 when there is none)."""
        return max((len(c) for c in self.circles), default=1)


def module_name(path: Path) -> str:
    """The dotted name of the module in `path` (a package is named by its folder)."""
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, name: str, known: set[str]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _resolve(alias.name, known)
                if target:
                    found.add(target)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                target = _resolve(f"{base}.{alias.name}", known) if base else None
                if target is None or (target == f"{base}" and f"{base}.{alias.name}" not in known):
                    target = _resolve(base, known)
                if target:
                    found.add(target)
    found.discard(name)
    return found


def _resolve(dotted: str, known: set[str]) -> str | None:
    if dotted.split(".", maxsplit=1)[0] not in TOP_PACKAGES:
        return None
    parts = dotted.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in known:
            return candidate
        parts.pop()
    return None


def layer_of(name: str) -> int:
    """The index in LAYERS of the longest prefix that names the module (unlisted: the top)."""
    best, best_len = len(LAYERS) - 1, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = index, len(prefix)
    return best


def _strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iteratively: recursion depth would grow with the longest chain."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work: list[tuple[str, list[str]]] = [(root, sorted(edges[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, pending = work[-1]
            if pending:
                nxt = pending.pop()
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, sorted(edges.get(nxt, ()))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    result.append(sorted(component))
    return sorted(result, key=len, reverse=True)


def measure() -> House:
    """Read every module of src/ and draw the house."""
    modules = {
        module_name(path): path
        for top in TOP_PACKAGES
        for path in sorted((SRC / top).rglob("*.py"))
    }
    known = set(modules)
    edges = {name: _imports(path, name, known) for name, path in modules.items()}
    house = House(modules=modules, edges=edges)
    house.circles = _strongly_connected(edges)
    for source, targets in sorted(edges.items()):
        for target in sorted(targets):
            if layer_of(target) > layer_of(source):
                house.upward.append((source, target))
    house.root_modules = sorted(
        p.stem for p in (SRC / "processor").glob("*.py") if p.name != "__init__.py"
    )
    return house


def main() -> int:
    """Print the figures; exit 1 when one exceeds its limit."""
    house = measure()
    print(f"{len(house.modules)} modules, {sum(len(t) for t in house.edges.values())} arrows")
    for circle in house.circles:
        print(f"circle of {len(circle)}: {' '.join(circle)}")
    print(f"upward arrows: {len(house.upward)}")
    for source, target in house.upward:
        low_name, high_name = LAYERS[layer_of(source)][0], LAYERS[layer_of(target)][0]
        print(f"  {source} ({low_name}) -> {target} ({high_name})")
    print(
        f"root modules of src/processor/: {len(house.root_modules)}: {' '.join(house.root_modules)}"
    )
    failed = (
        house.largest_circle > LIMITS["circle"]
        or len(house.upward) > LIMITS["upward"]
        or len(house.root_modules) > LIMITS["root"]
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
