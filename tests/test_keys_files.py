"""Keys apart from the data, the master key's check value, weak keys and private files (RET-5)."""

from __future__ import annotations

import shutil

import pytest
from cli_helpers import Cli, run_processor
from support import BACKENDS

from processor.app import Processor
from processor.config import Settings
from processor.domain.ids import user_id
from processor.kernel.errors import ConfigurationError
from processor.keys import MasterKey

RIGHT_KEY = "5b1f0c7e9a2d4836b0e1f3a5c7d9e2b4a6c8e0f2d4b6a8c0e2f4a6b8d0c2e4f6"
WRONG_KEY = "e3a1c5f7092b4d6f8a0c2e4b6d8f1a3c5e7b9d0f2a4c6e8b0d2f4a6c8e1b3d5f"
INIT = ("init", "--gdpa", "grete", "--system-manager", "sam")


def _written(settings: Settings) -> list[str]:
    """Everything a store's settings point at that exists on disk."""
    places = [settings.data_dir, settings.key_dir(), settings.master_key_path()]
    return [str(p) for p in places if p.exists()]


@pytest.mark.parametrize(
    "hex_key",
    ["00" * 32, "ff" * 32, "ab" * 32, "deadbeef" * 8, bytes(range(32)).hex(), "0123" * 16],
)
def test_weak_master_keys_are_refused__RET_5(hex_key):
    """All-zero, one repeated byte, short repeated patterns and counting bytes are refused."""
    with pytest.raises(ConfigurationError, match="weak"):
        MasterKey.from_hex(hex_key)


def test_weak_master_key_refused_by_init_writes_nothing__RET_5(settings):
    """`init` with a weak PROCESSOR_MASTER_KEY exits 2 and leaves nothing behind."""
    cli = Cli(settings)
    assert "weak" in cli.fails(2, *INIT, env={"PROCESSOR_MASTER_KEY": "00" * 32})
    assert _written(settings) == []


def test_refused_init_writes_no_master_key__RET_5(settings):
    """An `init` on an existing store whose master key is missing is refused and writes nothing."""
    cli = Cli(settings)
    cli.init()
    key = settings.master_key_path()
    kept = key.read_bytes()
    key.unlink()
    assert "already initialised" in cli.fails(1, *INIT)
    assert not key.exists(), "a refused init wrote a new master key"
    key.write_bytes(kept)
    key.chmod(0o600)
    with Processor.open(settings) as proc:
        assert proc.is_initialised()


@pytest.mark.parametrize("backend", [BACKENDS[0]])
def test_keys_inside_the_data_dir_are_refused_unless_allowed__RET_5(settings):
    """`init` refuses a master key or key store in the data directory, says why, writes nothing."""
    cli = Cli(settings)
    inside = {"PROCESSOR_MASTER_KEY_FILE": str(settings.data_dir / "master.key")}
    error = cli.fails(2, *INIT, env=inside)
    assert "inside the data directory" in error
    assert "erased subjects back" in error
    assert not settings.data_dir.exists()
    store = {"PROCESSOR_KEYSTORE_PATH": str(settings.data_dir / "keys.sqlite")}
    assert "key store" in cli.fails(2, *INIT, env=store)
    assert not settings.data_dir.exists()
    cli.init("--allow-keys-in-data-dir", env={**inside, **store})
    assert (settings.data_dir / "master.key").exists()
    assert (settings.data_dir / "keys.sqlite").exists()


@pytest.mark.parametrize("backend", [BACKENDS[0]])
def test_a_copy_of_the_data_dir_holds_no_key__RET_5(settings, tmp_path):
    """By default no key is in the data directory: a copy of it alone opens nothing."""
    Cli(settings).init()
    names = {p.name for p in settings.data_dir.iterdir()}
    assert "events.sqlite" in names
    assert not names & {"master.key", "keys.sqlite", "keys.sqlite-journal"}
    backup = tmp_path / "backup"
    shutil.copytree(settings.data_dir, backup)
    # The copy carries the store's id, but the original is still where its keys say it is:
    # the copy is refused rather than sharing the original's keys (issue 25).
    with pytest.raises(ConfigurationError, match="is a copy of the store at"):
        Processor.open(Settings(data_dir=backup))
    (backup / "store.id").unlink()  # a copy stripped of its id finds no key at all
    with pytest.raises(ConfigurationError, match="no master key"):
        Processor.open(Settings(data_dir=backup))


@pytest.mark.parametrize("backend", [BACKENDS[0]])
def test_keystore_path_and_master_key_file_options__RET_5(settings, tmp_path):
    """`--keystore-path` and `--master-key-file` put the keys where the operator says."""
    cli = Cli(settings)
    keys, master = tmp_path / "vault" / "keys.sqlite", tmp_path / "vault" / "master.key"
    options = ["--keystore-path", keys, "--master-key-file", master]
    cli.ok(*options, *INIT)
    assert keys.stat().st_mode & 0o777 == 0o600
    assert master.stat().st_mode & 0o777 == 0o600
    assert not (settings.key_dir() / "master.key").exists()
    assert not (settings.key_dir() / "keys.sqlite").exists()
    assert "no master key" in cli.fails(2, "--keystore-path", keys, "users", "list", user="sam")


def test_wrong_master_key_is_detected_before_any_write__RET_5(settings):
    """With a wrong master key `users add` exits 3 on the check value, and stores nothing."""
    cli = Cli(settings)
    cli.init(env={"PROCESSOR_MASTER_KEY": RIGHT_KEY})
    with Processor.open(_with_key(settings, RIGHT_KEY)) as proc:
        before = proc.store.recorder.max_notification_id()
    error = cli.fails(
        3, "users", "add", "eve", "--role", "developer", user="sam",
        env={"PROCESSOR_MASTER_KEY": WRONG_KEY},
    )  # fmt: skip
    assert "master key" in error
    with Processor.open(_with_key(settings, RIGHT_KEY)) as proc:
        assert proc.store.recorder.max_notification_id() == before
        assert proc.find(user_id("eve")) is None


def _with_key(settings: Settings, hex_key: str) -> Settings:
    from dataclasses import replace

    return replace(settings, master_key_hex=hex_key)


@pytest.mark.parametrize("backend", [BACKENDS[0]])
def test_sqlite_files_are_private_and_open_ones_refused__RET_5(settings):
    """Store files are 0600 in 0700 folders; a file or folder others can read is refused."""
    Cli(settings).init()
    files = [settings.data_dir / n for n in ("events.sqlite", "readmodels.sqlite", "ledger.sqlite")]
    files.append(settings.keystore_file())
    for path in files:
        assert path.stat().st_mode & 0o777 == 0o600, path
    for folder in (settings.data_dir, settings.key_dir()):
        assert folder.stat().st_mode & 0o777 == 0o700, folder
    cli = Cli(settings)
    for path, mode, fix in (
        (settings.keystore_file(), 0o644, 0o600),
        (settings.data_dir / "ledger.sqlite", 0o640, 0o600),
        (settings.data_dir, 0o755, 0o700),
    ):
        path.chmod(mode)
        error = cli.fails(2, "users", "list", user="sam")
        assert f"chmod {fix:o} {path}" in error
        path.chmod(fix)


def test_a_subprocess_sees_the_same_keys_as_the_tests__RET_5(settings):
    """The console script finds the master key the test process made (same XDG_CONFIG_HOME)."""
    cli = Cli(settings)
    out = run_processor(["--json", *INIT], cli.env)
    assert out.returncode == 0, out.stderr
    with Processor.open(settings) as proc:
        assert proc.is_initialised()
