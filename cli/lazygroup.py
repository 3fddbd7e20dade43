"""Command modules loaded on demand, so `processor --help` starts in milliseconds (issue 17).

Importing every command module pulls in SQLAlchemy, eventsourcing and cryptography (about
0.5 s) before click has even parsed the command line. Click's documented "lazy group" pattern
fixes that: the root lists its commands from a static index (`command_index.INDEX`: command
name, short help, and the modules that register or extend it) and imports a module only when
one of its commands runs. `COMMAND_MODULES` in `main.py` stays the one place a module is named;
`tools/cli_reference.py` regenerates the index from the modules themselves, and a test fails
when it is stale. A module missing from the index still works: the group then loads every
module, as before, and is merely slower.
"""

from __future__ import annotations

import gc
import importlib
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from types import ModuleType

# name -> (short help, whether click shortens it to the terminal, modules registering it)
IndexEntry = tuple[str, bool, tuple[str, ...]]


def _import_collector_paused(name: str) -> ModuleType:
    """Import a command module with the cyclic garbage collector paused (issue 28).

    Importing a command module defines a few thousand classes and functions (SQLAlchemy,
    pydantic, the event classes), none of them garbage, yet each allocation burst triggers a
    collection that walks them all again: a tenth of a one-shot command's start-up. Merely
    pausing would defer that work to the first collection after; freezing what the import left
    (`gc.freeze`, the pattern the `gc` documentation gives for start-up) moves it out of every
    later collection. The collector is then restored as it was, so the command itself runs with
    it as usual. A module imported already costs nothing and freezes nothing.
    """
    if name in sys.modules:
        return sys.modules[name]
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return importlib.import_module(name)
    finally:
        if was_enabled:
            gc.freeze()
            gc.enable()


def _tree(group: click.Group) -> dict[str, frozenset[tuple[str, ...]]]:
    """Each top-level command's subtree as a set of paths (to see what a module changed)."""

    def paths(command: click.Command, prefix: tuple[str, ...]) -> set[tuple[str, ...]]:
        found = {prefix}
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                found |= paths(sub, (*prefix, name))
        return found

    return {name: frozenset(paths(cmd, (name,))) for name, cmd in group.commands.items()}


def build_index(package: str, modules: Iterable[str]) -> dict[str, IndexEntry]:
    """The index of `modules` as they register today (see `IndexEntry`).

    Built in a fresh interpreter: which module extends which group is seen by importing the
    modules one by one, which only works where none of them was imported yet.
    """
    import json
    import subprocess
    import sys

    script = (
        "import json, sys\n"
        "from processor_cli.lazygroup import index_here\n"
        "print(json.dumps(index_here(sys.argv[1], json.loads(sys.argv[2]))))\n"
    )
    done = subprocess.run(  # noqa: S603 - this interpreter, our own script
        [sys.executable, "-c", script, package, json.dumps(list(modules))],
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return {name: (text, bool(cut), tuple(mods)) for name, (text, cut, mods) in data.items()}


def index_here(package: str, modules: Iterable[str]) -> dict[str, IndexEntry]:
    """`build_index` in this interpreter, which must not have imported any of `modules`."""
    group = click.Group()
    touched: dict[str, list[str]] = {}
    for module_name in modules:
        before = _tree(group)
        importlib.import_module(f"{package}.{module_name}").register(group)
        for name, subtree in _tree(group).items():
            if before.get(name) != subtree:
                touched.setdefault(name, [])
                if module_name not in touched[name]:
                    touched[name].append(module_name)
    return {
        name: (*_help_source(group.commands[name]), tuple(touched[name]))
        for name in sorted(group.commands)
        if not group.commands[name].hidden
    }


def _help_source(command: click.Command) -> tuple[str, bool]:
    """The root's list text: an explicit short help (kept whole) or the help's first sentence."""
    import inspect

    if command.short_help:
        return inspect.cleandoc(command.short_help), False
    return _shortened(command.help or "", 10**6), True


def _shortened(text: str, limit: int) -> str:
    """`text` shortened as click shortens a command's help for its parent's list."""
    return click.Command(None, help=text).get_short_help_str(limit)


class LazyGroup(click.Group):
    """A click group whose subcommands live in modules imported on first use."""

    def __init__(
        self,
        *args: Any,  # noqa: ANN401
        package: str = "",
        modules: tuple[str, ...] = (),
        index: dict[str, IndexEntry] | None = None,
        indexed_modules: tuple[str, ...] = (),
        **kwargs: Any,  # noqa: ANN401
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_package = package
        self.lazy_modules = modules
        self.lazy_index: dict[str, IndexEntry] = dict(index or {})
        self._loaded: set[str] = set()
        # A module the index does not know (added since it was generated) may register anything:
        # then the index cannot be trusted to be complete, and every module is loaded.
        self.index_complete = set(modules) <= set(indexed_modules)

    def _load(self, wanted: set[str]) -> None:
        for module_name in self.lazy_modules:  # registration order matters (extensions)
            if module_name in wanted and module_name not in self._loaded:
                self._loaded.add(module_name)
                module = _import_collector_paused(f"{self.lazy_package}.{module_name}")
                module.register(self)

    def load_all(self) -> None:
        """Import and register every command module."""
        self._load(set(self.lazy_modules))

    def _modules_for(self, name: str) -> set[str]:
        """The modules that register `name`, closed over the commands those modules extend."""
        needed = set(self.lazy_index[name][2])
        while True:
            more = {
                m
                for _help, _cut, mods in self.lazy_index.values()
                if needed & set(mods)
                for m in mods
            }
            if more <= needed:
                return needed
            needed |= more

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The command names, from the index when it is complete."""
        if not self.index_complete:
            self.load_all()
            return super().list_commands(ctx)
        return sorted(set(self.lazy_index) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command, importing the modules that define it first."""
        if cmd_name in self.lazy_index and self.index_complete:
            self._load(self._modules_for(cmd_name))
        elif cmd_name not in self.commands:
            # Not indexed (a typo, or a command added since the index was generated): only
            # loading everything can tell.
            self.load_all()
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of `--help`, from the index, without importing any command module."""
        if not self.index_complete:
            super().format_commands(ctx, formatter)
            return
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            loaded = self.commands.get(name)
            if loaded is not None:
                if loaded.hidden:
                    continue
                text = loaded.get_short_help_str(limit)
            else:
                text, cut, _mods = self.lazy_index[name]
                if cut:
                    text = _shortened(text, limit)
            rows.append((name, text))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _quoted(text: str) -> str:
    """`text` as a Python literal in ruff's preferred double quotes."""
    import json

    return json.dumps(text, ensure_ascii=False) if "\\" not in text else repr(text)


def render_index(package: str, modules: tuple[str, ...]) -> str:
    """The source of `command_index.py` for `modules` (written by tools/cli_reference.py)."""
    index = build_index(package, modules)
    lines = [
        '"""Generated by tools/cli_reference.py from the command modules; do not edit by hand.',
        "",
        "The lazy root group (`lazygroup.LazyGroup`) lists commands from here without importing",
        "them; a test fails when this file differs from what the modules register.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "INDEXED_MODULES: tuple[str, ...] = (",
        *(f"    {_quoted(name)}," for name in modules),
        ")",
        "",
        "INDEX: dict[str, tuple[str, bool, tuple[str, ...]]] = {",
    ]
    for name, (text, cut, mods) in index.items():
        listed = ", ".join(map(_quoted, mods)) + ("," if len(mods) == 1 else "")
        lines.append(f"    {_quoted(name)}: (")
        lines.append(f"        {_quoted(text)},")
        lines.append(f"        {cut!r},")
        lines.append(f"        ({listed}),")
        lines.append("    ),")
    lines.append("}")
    return "\n".join(lines) + "\n"
