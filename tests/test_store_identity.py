"""A store keeps its identity when its folder moves; leftovers of gone stores can be removed
(issue 25: "a store is tied to its folder's absolute path").
"""

from __future__ import annotations

import pytest
from cli_helpers import Cli
from support import BACKENDS

from processor.config import STORE_ID_FILE, Settings


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A configuration directory of this test's own: `stores list` sees only its stores."""
    folder = tmp_path / "config"
    folder.mkdir()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(folder))
    return folder / "processor"


def _store(tmp_path, name: str) -> Cli:
    cli = Cli(Settings(data_dir=tmp_path / name))
    cli.init()
    return cli


def test_a_moved_store_opens_with_its_keys_and_credentials(tmp_path, home):
    """`init` pins `store.id`; after `mv` the store opens where it now is, and its key folder
    records the new place.
    """
    cli = _store(tmp_path, "first")
    pinned = (tmp_path / "first" / STORE_ID_FILE).read_text(encoding="ascii").strip()
    (tmp_path / "first").rename(tmp_path / "moved")
    moved = Cli(Settings(data_dir=tmp_path / "moved"))
    moved.credentials = cli.credentials
    out = moved.ok("status", user="grete")
    assert out["store"] == str((tmp_path / "moved").resolve())
    listed = moved.ok("stores", "list")["stores"]
    assert [(s["store_id"], s["state"], s["place"]) for s in listed] == [
        (pinned, "present", str((tmp_path / "moved").resolve()))
    ]


def test_a_store_moved_before_it_had_an_id_is_adopted(tmp_path, home):
    """An older store (no `store.id`) moved away finds no master key; the refusal points to
    `stores list` and `stores adopt`, after which it opens with its own keys again.
    """
    cli = _store(tmp_path, "old")
    pinned = (tmp_path / "old" / STORE_ID_FILE).read_text(encoding="ascii").strip()
    (tmp_path / "old" / STORE_ID_FILE).unlink()  # as a store made before ids were pinned
    (tmp_path / "old").rename(tmp_path / "new")
    new = Cli(Settings(data_dir=tmp_path / "new"))
    new.credentials = cli.credentials
    error = new.fails(2, "status", user="grete")
    assert "no master key" in error and "processor stores adopt" in error
    (row,) = new.ok("stores", "list")["stores"]
    assert (row["store_id"], row["state"]) == (pinned, "missing")
    new.fails(2, "stores", "adopt", "0123456789abcdef")
    new.ok("stores", "adopt", pinned)
    assert new.ok("status", user="grete")["counts"]["events"] > 0
    new.fails(2, "stores", "adopt", pinned)  # it has its id now


def test_the_files_of_gone_stores_are_listed_and_removed_only_with_yes(tmp_path, home):
    """`stores forget --missing` removes only stores known to be gone, and only with --yes;
    a present store is refused by name.
    """
    import shutil

    _store(tmp_path, "gone")
    keep = _store(tmp_path, "kept")
    gone_id = (tmp_path / "gone" / STORE_ID_FILE).read_text(encoding="ascii").strip()
    kept_id = (tmp_path / "kept" / STORE_ID_FILE).read_text(encoding="ascii").strip()
    shutil.rmtree(tmp_path / "gone")
    states = {s["store_id"]: s["state"] for s in keep.ok("stores", "list")["stores"]}
    assert states == {gone_id: "missing", kept_id: "present"}
    error = keep.fails(2, "stores", "forget", "--missing")
    assert "--yes" in error and (home / "stores" / gone_id).is_dir()
    keep.fails(2, "stores", "forget", kept_id, "--yes")
    removed = keep.ok("stores", "forget", "--missing", "--yes")["removed"]
    assert [r["store_id"] for r in removed] == [gone_id]
    assert not (home / "stores" / gone_id).exists()
    assert [s["store_id"] for s in keep.ok("stores", "list")["stores"]] == [kept_id]
    assert keep.ok("status", user="grete")["counts"]["events"] > 0


@pytest.mark.parametrize("backend", [BACKENDS[1]])
def test_a_postgresql_store_is_listed_but_never_forgotten(settings, home):
    """A PostgreSQL store is known by its database URL: listed, never removed by `forget`."""
    cli = Cli(settings)
    cli.init()
    (row,) = cli.ok("stores", "list")["stores"]
    assert row["state"] == "postgresql" and row["place"].startswith("postgresql://")
    cli.fails(2, "stores", "forget", row["store_id"], "--yes")
    assert cli.ok("stores", "forget", "--missing", "--yes")["removed"] == []
