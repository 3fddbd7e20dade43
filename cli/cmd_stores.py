"""`processor stores list / forget / adopt`: the per-store files this account keeps (issue 25)."""

from __future__ import annotations

import click

from processor.storage import identity

from .output import emit
from .state import state


@click.group()
def stores() -> None:
    """The keys and credentials this account keeps per store, and the leftovers of gone ones."""


def _row(kept: identity.KeptStore) -> dict[str, object]:
    return {
        "store_id": kept.store_id,
        "place": kept.place,
        "state": kept.state,
        "folders": [str(f) for f in kept.folders],
    }


@stores.command("list")
@click.pass_context
def stores_list(ctx: click.Context) -> None:
    """Every store this account keeps keys or credentials for, and whether it still exists."""
    st = state(ctx)
    kept = identity.kept_stores()
    rows = [_row(k) for k in kept]
    lines = [f"{k.store_id}  {k.state:<10}  {k.place or '(place never recorded)'}" for k in kept]
    gone = sum(1 for k in kept if k.removable)
    if gone:
        lines.append(f"{gone} gone: `processor stores forget --missing --yes` removes their files")
    emit({"stores": rows}, as_json=st.as_json, text="\n".join(lines) or "no kept stores")


@stores.command("forget")
@click.argument("store_id", required=False)
@click.option("--missing", is_flag=True, help="Every SQLite store known to be gone.")
@click.option("--yes", is_flag=True, help="Really remove: their master keys are destroyed.")
@click.pass_context
def stores_forget(ctx: click.Context, store_id: str | None, missing: bool, yes: bool) -> None:
    """Remove the kept keys and credentials of a store that no longer exists."""
    st = state(ctx)
    removed = identity.forget(store_id, missing=missing, confirmed=yes)
    emit(
        {"removed": [_row(k) for k in removed]},
        as_json=st.as_json,
        text=f"removed the kept files of {len(removed)} store(s)"
        + (f": {', '.join(k.store_id for k in removed)}" if removed else ""),
    )


@stores.command("adopt")
@click.argument("store_id")
@click.pass_context
def stores_adopt(ctx: click.Context, store_id: str) -> None:
    """Give a store moved before it had an id (this --data-dir) the id of its kept keys."""
    st = state(ctx)
    one = identity.adopt(st.settings, store_id)
    emit(
        {"store_id": one.store_id, "data_dir": str(st.settings.data_dir), "was": one.place},
        as_json=st.as_json,
        text=f"{st.settings.data_dir} now opens with the keys of store {one.store_id}",
    )


def register(cli: click.Group) -> None:
    """Attach these commands."""
    cli.add_command(stores)
