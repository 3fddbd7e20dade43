"""Global options anywhere: `processor lists show acme news --json` works as `--json` first does.

Users put `--json` and `--as NAME` at the end as often as at the start. Rather than give every
command hidden copies of the root's options (which each would have to feed back into the root's
settings), the command line is rearranged once, before click parses it: each root option found
after a subcommand name moves to just before the first subcommand. The walk follows the command
tree, so it knows which tokens are values of a subcommand's own options (`--reason --json`
keeps its value) and which options a subcommand defines itself under the same name (`login
--credential-file` stays with `login`). Nothing after `--` moves. `--help` is untouched.
"""

from __future__ import annotations

import click


def _root_options(root: click.Command) -> dict[str, click.Option]:
    """The root's options that can move, by every name they answer to (help and version stay)."""
    found: dict[str, click.Option] = {}
    for param in root.params:
        if isinstance(param, click.Option) and not param.is_eager:
            for name in (*param.opts, *param.secondary_opts):
                found[name] = param
    return found


def _own_option(command: click.Command, name: str) -> click.Option | None:
    """The option `command` itself defines under `name`, if any."""
    for param in command.params:
        if isinstance(param, click.Option) and name in (*param.opts, *param.secondary_opts):
            return param
    return None


def _values_taken(option: click.Option, token: str) -> int:
    """How many following tokens are this option's values (`--opt=value` takes none)."""
    if "=" in token or option.is_flag or option.count:
        return 0
    return max(option.nargs, 1)


def hoist_global_options(root: click.Group, argv: list[str]) -> list[str]:
    """`argv` with the root's options moved from after a subcommand to before the first one."""
    movable = _root_options(root)
    command: click.Command = root
    kept: list[str] = []
    moved: list[str] = []
    first_sub: int | None = None
    i = 0
    while i < len(argv):
        token = argv[i]
        if token == "--":  # noqa: S105 - the end-of-options marker, not a password
            kept.extend(argv[i:])
            break
        name = token.split("=", 1)[0]
        if token.startswith("-") and len(token) > 1:
            own = _own_option(command, name)
            if own is None and command is not root and name in movable:
                take = _values_taken(movable[name], token)
                moved.extend(argv[i : i + 1 + take])
                i += 1 + take
                continue
            take = _values_taken(own, token) if own is not None else 0
            kept.extend(argv[i : i + 1 + take])
            i += 1 + take
            continue
        if isinstance(command, click.Group):
            # get_command, not .commands: the root loads its command modules lazily.
            sub = command.get_command(click.Context(command), token)
            if sub is not None:
                if first_sub is None:
                    first_sub = len(kept)
                command = sub
        kept.append(token)
        i += 1
    if not moved or first_sub is None:
        return kept
    return kept[:first_sub] + moved + kept[first_sub:]
