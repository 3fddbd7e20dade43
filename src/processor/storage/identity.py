"""A store's identity apart from its folder, and the per-store files a person keeps (issue 25).

Each store keeps files in the person's configuration directory: its keys (`stores/<id>/`: the
master key, the SQLite key store, the checkpoint log, the last verification) and the credentials
`processor login` kept (`credentials/<id>/`). The id used to be derived from the data directory's
absolute path, so moving a store's folder lost its keys, and the folders of deleted stores stayed
behind. Now an SQLite store pins its id in its data directory (`store.id`, `Settings.store_key`):
the same folders are found wherever the store moves. Each key folder records where its store was
last opened (`store.path`), so `processor stores list` can tell which folders belong to stores
that no longer exist, and `processor stores forget` removes them.

Removing a key folder destroys the store's master key: whatever data of it survives anywhere can
never be read again. So only folders whose recorded SQLite store is gone are offered, one named
folder or all of them, and nothing is removed without `--yes`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from processor.config import STORE_ID_FILE, Settings, config_home, read_store_id
from processor.kernel.errors import ConfigurationError, InvalidInputError, NotFoundError

STORE_PATH_FILE = "store.path"
"""In a key folder: where its store was last opened (a data directory, or a database label)."""


def _write_atomically(path: Path, text: str) -> None:
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        Path(name).replace(path)
    finally:
        Path(name).unlink(missing_ok=True)


def pin(settings: Settings) -> None:
    """Pin an SQLite store's id in its data directory and note the store's place in its key folder.

    The id pinned is the one the store is known by now (derived from its path the first time),
    so nothing else moves. Best effort: a read-only data directory or configuration directory
    changes nothing about how the store opens now.
    """
    with contextlib.suppress(OSError):
        if not settings.database_url and read_store_id(settings.data_dir) is None:
            _write_atomically(settings.data_dir / STORE_ID_FILE, settings.store_key() + "\n")
        folder = settings.key_dir()
        if folder.is_dir():
            place = settings.store_label()
            recorded = folder / STORE_PATH_FILE
            if not recorded.exists() or recorded.read_text(encoding="utf-8").strip() != place:
                _write_atomically(recorded, place + "\n")


def check_not_a_copy(settings: Settings) -> None:
    """Refuse to open a copy of an SQLite store with the keys of the store it was copied from.

    A moved store and a copied one carry the same `store.id`. After a move the place its key
    folder records is gone; after a copy it still holds the store. Two stores sharing one key
    store and one checkpoint log would shred each other's keys and break each other's ledger
    custody, so a copy is refused: restore it with `processor restore`, which makes a store of
    its own, or move it instead.
    """
    if settings.database_url:
        return
    pinned = read_store_id(settings.data_dir)
    if pinned is None:
        return
    try:
        place = (settings.key_dir() / STORE_PATH_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return
    here = settings.store_label()
    if not place or place == here:
        return
    try:
        there = read_store_id(Path(place))
    except ConfigurationError:  # a damaged id there: not the same store
        there = None
    if there == pinned:
        raise ConfigurationError(
            f"{here} is a copy of the store at {place} (the same store.id {pinned}); a copy "
            "cannot share that store's keys and checkpoint log. Move a store rather than "
            "copy it, or make a store of its own from a backup with `processor restore`"
        )


@dataclass(frozen=True)
class KeptStore:
    """The files this account keeps for one store, and whether that store still exists."""

    store_id: str
    place: str | None
    """Where the store was last opened; None for a folder from before places were recorded."""
    state: str
    """`present`, `missing` (an SQLite store no longer there), `postgresql` (not checked here) or
    `unknown` (no place recorded)."""
    folders: tuple[Path, ...]

    @property
    def removable(self) -> bool:
        """Only an SQLite store known to be gone may have its keys forgotten."""
        return self.state == "missing"


def _state(store_id: str, place: str | None) -> str:
    if place is None:
        return "unknown"
    if place.startswith("postgresql://"):
        return "postgresql"
    data_dir = Path(place)
    try:
        pinned = read_store_id(data_dir)
    except Exception:  # noqa: BLE001 - a damaged id file still means a store is there
        return "present"
    if pinned is not None:
        return "present" if pinned == store_id else "missing"
    return "present" if (data_dir / "events.sqlite").exists() else "missing"


def kept_stores(home: Path | None = None) -> list[KeptStore]:
    """Every store this account keeps keys or credentials for, by id."""
    base = home or config_home()
    folders: dict[str, list[Path]] = {}
    for kind in ("stores", "credentials"):
        parent = base / kind
        if parent.is_dir():
            for folder in sorted(parent.iterdir()):
                if folder.is_dir():
                    folders.setdefault(folder.name, []).append(folder)
    found = []
    for store_id, paths in sorted(folders.items()):
        recorded = base / "stores" / store_id / STORE_PATH_FILE
        try:
            place: str | None = recorded.read_text(encoding="utf-8").strip() or None
        except OSError:
            place = None
        found.append(KeptStore(store_id, place, _state(store_id, place), tuple(paths)))
    return found


def forget(
    store_id: str | None, *, missing: bool, confirmed: bool, home: Path | None = None
) -> list[KeptStore]:
    """Remove the kept folders of a store that no longer exists (or of every such store).

    Refused for a store that is present or on PostgreSQL: its keys may still be the only way to
    read it. `--missing` takes only SQLite stores known to be gone; a folder of unknown place
    goes only when named. Without `confirmed`, refused with what would be removed.
    """
    if (store_id is None) == (not missing):
        raise InvalidInputError("name a store id, or give --missing (not both)")
    kept = kept_stores(home)
    if store_id is not None:
        chosen = [k for k in kept if k.store_id == store_id]
        if not chosen:
            raise NotFoundError(f"no kept files for store {store_id[:32]!r}")
        (one,) = chosen
        # Named by its id, a folder from before places were recorded may go too: the person
        # knows which store it was. Listed in bulk, only stores known to be gone do.
        if one.state not in ("missing", "unknown"):
            raise InvalidInputError(
                f"store {one.store_id} is {one.state} ({one.place}): its keys may still be the "
                "only way to read it; nothing removed"
            )
    else:
        chosen = [k for k in kept if k.removable]
    if chosen and not confirmed:
        raise InvalidInputError(
            f"this destroys the master key and kept credentials of {len(chosen)} store(s) "
            f"({', '.join(k.store_id for k in chosen)}); nothing of them can be read again. "
            "Give --yes to remove them"
        )
    for one in chosen:
        for folder in one.folders:
            shutil.rmtree(folder)
    return chosen


def adopt(settings: Settings, store_id: str, home: Path | None = None) -> KeptStore:
    """Pin `store_id` in a moved SQLite store that has no `store.id` yet (it moved before ids).

    The id must be one whose keys this account keeps and whose recorded place is gone or was
    never recorded; opening the store then checks the master key against the key store's check
    value, so a wrong id is refused at the first command, not silently used.
    """
    if settings.database_url:
        raise InvalidInputError("a PostgreSQL store is known by its database URL; nothing to adopt")
    if not (settings.data_dir / "events.sqlite").exists():
        raise InvalidInputError(f"no SQLite store in {settings.data_dir}")
    pinned = read_store_id(settings.data_dir)
    if pinned is not None:
        raise InvalidInputError(
            f"{settings.data_dir} already has its id ({pinned}); nothing adopted"
        )
    keys = (home or config_home()) / "stores" / store_id
    chosen = [k for k in kept_stores(home) if k.store_id == store_id]
    if not chosen or not keys.is_dir():
        raise NotFoundError(f"no kept keys for store {store_id[:32]!r}")
    (one,) = chosen
    if one.state not in ("missing", "unknown"):
        raise InvalidInputError(
            f"store {store_id} is {one.state} at {one.place}: it is not the moved one"
        )
    _write_atomically(settings.data_dir / STORE_ID_FILE, store_id + "\n")
    return one
