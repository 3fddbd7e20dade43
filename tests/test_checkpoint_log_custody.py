"""The checkpoint log's custody and the log's identity (AUD-4, issue 23 section 4).

The attacker here holds the shell account that keeps the outside checkpoint log, not the
database: they delete it, empty it or cut it, hoping the store starts a new one without a word
(it used to, and the next rollback by a database administrator went unseen). The store knows
what it published (its own signed checkpoints, in the database) and refuses, until a GDPA
re-anchors the log on the record. Beside it: every store signs under its own origin, so one
witness can serve many stores, old stores keep their legacy origin, and `status` asks for a
witness that has gone quiet.
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from cli_helpers import check_contract, cli_env, describe
from click.testing import CliRunner
from processor_cli.cmd_witness import load_witness, make_server
from processor_cli.main import cli
from support import UNDERTAKING, drop_schemas, login, make_settings, sign_agreement

from ledger import CheckpointLog
from processor.app import Processor
from processor.audit.status import StatusService
from processor.domain.ids import store_id
from processor.domain.store import Store
from processor.kernel.errors import ConfigurationError, IntegrityFailureError, RefusedError
from processor.keys.freetext import open_records
from processor.link.origin import legacy_origin
from processor.link.tables import checkpoints
from processor.services.ledger import REASON_PURPOSE, reanchor
from processor.services.setup import initialise

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from click.testing import Result

    from processor.config import Settings
    from processor.kernel.clock import FixedClock

REASON = "Reanchor-Zorblax: the log disk was replaced on 2026-03-02"


# -- helpers ----------------------------------------------------------------------------------


def populate(proc: Processor, count: int, *, first: int = 0) -> None:
    """`count` new contacts in acme's list `news` (writing commands: each one signs)."""
    alice = login(proc, "alice")
    for i in range(first, first + count):
        alice.contacts.add("acme", "news", f"c{i}@example.dk", "email:form")


def run(proc: Processor, user: str, *args: object, env: dict[str, str] | None = None) -> Result:
    """`processor --as USER ARGS` on the store, in-process, with the user's own credential."""
    argv = ["--as", user, *[str(a) for a in args]]
    full = {**cli_env(proc.settings), "PROCESSOR_CREDENTIAL": proc.issued[user], **(env or {})}
    result = CliRunner(env=full).invoke(cli, argv)
    check_contract(result, argv)
    return result


def log_path(proc: Processor) -> Path:
    return proc.ledger.checkpoint_log().path


def published(proc: Processor) -> int:
    """The size of the store's newest signed checkpoint."""
    return int(proc.ledger.head()["size"])


def log_sizes(proc: Processor) -> list[int]:
    """The tree size of every line of the checkpoint log, in order."""
    lines = log_path(proc).read_text(encoding="utf-8").splitlines()
    return [int(json.loads(line)["note"].split("\n")[1]) for line in lines]


def stored_sizes(proc: Processor) -> list[int]:
    with proc.engines.ledger.connect() as conn:
        query = sa.select(checkpoints.c.size).order_by(checkpoints.c.size)
        return [int(size) for size in conn.execute(query).scalars()]


def reanchor_events(proc: Processor) -> list[Any]:
    """The store's recorded `CheckpointLogReanchored` events."""
    events = proc.store.events.get(store_id())
    return [e for e in events if type(e).__qualname__.endswith("CheckpointLogReanchored")]


def assert_integrity_failure(proc: Processor, state: str) -> None:
    """verify, doctor and the next writing command all fail with the custody message, exit 3."""
    verify = run(proc, "grete", "ledger", "verify")
    assert verify.exit_code == 3, describe(verify)
    assert state in verify.stderr
    assert f"published checkpoints up to tree size {published(proc)}" in verify.stderr
    assert "processor ledger reanchor" in verify.stderr
    assert len(verify.stderr.strip().splitlines()) == 1
    doctor = run(proc, "grete", "doctor")
    assert doctor.exit_code == 3, describe(doctor)
    report = proc.ledger.verify()
    assert not report.ok
    assert state in (report.reason or "")
    before = published(proc)
    with pytest.raises(IntegrityFailureError, match="deleted, emptied or cut; .*refusing to sign"):
        populate(proc, 1, first=900)
    assert published(proc) == before, "a checkpoint was signed over a lost log"
    # A writing command on the command line: exit 3 with the same one line.
    added = run(proc, "alice", "contacts", "add", "acme", "--list", "news",
                "--email", "cli@example.dk", "--consent", "email:form")  # fmt: skip
    assert added.exit_code == 3, describe(added)
    assert state in added.stderr


@pytest.fixture
def store(acme: Processor) -> Processor:
    """Acme with a few more signed commands (a log of several checkpoints)."""
    populate(acme, 6)
    return acme


# -- 1. the log deleted, emptied, cut -----------------------------------------------------------


def test_deleted_checkpoint_log_is_an_integrity_failure__AUD_4(store):
    """AUD-4: a deleted checkpoint log makes verify, doctor and writes exit 3 until re-anchored."""
    assert run(store, "grete", "ledger", "verify").exit_code == 0
    log_path(store).unlink()
    assert_integrity_failure(store, "is missing")


def test_emptied_checkpoint_log_is_an_integrity_failure__AUD_4(store):
    """AUD-4: an emptied checkpoint log (the file left, zero bytes) exits 3 the same way."""
    log_path(store).write_bytes(b"")
    assert_integrity_failure(store, "holds no checkpoint of this store")


def test_checkpoint_log_cut_shorter_is_an_integrity_failure__AUD_4(store):
    """AUD-4: a log cut below the store's newest checkpoint, though consistent, exits 3."""
    path = log_path(store)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    sizes = log_sizes(store)
    keep = len(lines) // 2
    path.write_text("".join(lines[:keep]), encoding="utf-8")
    assert_integrity_failure(store, f"ends at tree size {max(sizes[:keep])}")


def test_a_witness_submission_does_not_refill_a_lost_log__AUD_4(store, tmp_path):
    """AUD-4: `ledger witness` on a store whose log was emptied exits 3 and leaves it empty."""
    url, witness, server = serve_witness(tmp_path, store)
    try:
        log_path(store).write_bytes(b"")
        result = run(store, "grete", "ledger", "witness", "--url", url)
        assert result.exit_code == 3, describe(result)
        assert "holds no checkpoint of this store" in result.stderr
        assert log_path(store).read_bytes() == b""
        assert witness.latest(store.ledger.origin) is None
    finally:
        server.shutdown()
        server.server_close()


# -- 2. re-anchoring ----------------------------------------------------------------------------


def test_gdpa_reanchor_clears_it_and_is_recorded__AUD_4(store):
    """AUD-4: the GDPA's `ledger reanchor` restarts the log, recorded with sizes and sealed reason."""
    path = log_path(store)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:2]), encoding="utf-8")
    cut_at = max(log_sizes(store))
    was = published(store)
    assert run(store, "grete", "ledger", "verify").exit_code == 3

    done = run(store, "grete", "--json", "ledger", "reanchor", "--reason", REASON)
    assert done.exit_code == 0, describe(done)
    out = json.loads(done.stdout)
    assert out["log_size_before"] == cut_at
    assert out["published_before"] == was
    assert out["restarted_at_size"] == published(store) > was  # the event itself is covered
    kept = out["old_log_kept_as"]
    assert kept is not None
    assert (path.parent / kept.rsplit("/", 1)[-1]).read_text(encoding="utf-8") == "".join(
        lines[:2]
    ), "the old log must be kept as it was (evidence)"
    # The new log starts at the checkpoint covering the re-anchoring.
    assert log_sizes(store) == [published(store)]

    (event,) = reanchor_events(store)
    assert event.actor == "grete"
    assert (event.log_size, event.store_size) == (cut_at, was)
    assert REASON not in event.reason, "the reason must be sealed"
    assert open_records(store.sealer, None, REASON_PURPOSE, event.reason) == REASON

    assert run(store, "grete", "ledger", "verify").exit_code == 0
    assert run(store, "grete", "doctor").exit_code == 0
    populate(store, 2, first=100)
    assert run(store, "grete", "ledger", "verify").exit_code == 0
    # Not again: the log is no longer behind.
    again = run(store, "grete", "ledger", "reanchor", "--reason", "once more")
    assert again.exit_code == 1, describe(again)
    assert "not behind" in again.stderr


def test_reanchor_of_a_deleted_log_starts_a_new_one__AUD_4(store):
    """AUD-4: after the log file is deleted, re-anchoring creates it again and writes go on."""
    log_path(store).unlink()
    done = run(store, "grete", "ledger", "reanchor", "--reason", REASON)
    assert done.exit_code == 0, describe(done)
    assert log_sizes(store) == [published(store)]
    (event,) = reanchor_events(store)
    assert event.log_size == 0
    populate(store, 1, first=200)
    assert run(store, "grete", "ledger", "verify").exit_code == 0


def test_reanchor_by_anyone_but_the_gdpa_is_refused__AUD_4(store):
    """AUD-4: the system manager and an administrator may not re-anchor; the failure stays."""
    ok = run(store, "sam", "ledger", "reanchor", "--reason", REASON)
    assert ok.exit_code == 1, describe(ok)  # an intact log: a plain refusal
    assert "may not" in ok.stderr or "denied" in ok.stderr.lower()
    log_path(store).write_bytes(b"")
    for user in ("sam", "alice"):
        refused = run(store, user, "ledger", "reanchor", "--reason", REASON)
        # Refused (exit 1); or, the refusal being an event, the lost log stops it first (exit 3).
        assert refused.exit_code in (1, 3), describe(refused)
        assert log_path(store).read_bytes() == b"", f"{user} re-anchored the log"
    assert reanchor_events(store) == []
    assert run(store, "grete", "ledger", "verify").exit_code == 3


def test_reanchor_cannot_hide_a_rollback__AUD_4(store):
    """AUD-4: a log that is ahead of the store (a rollback) is not re-anchored: refused."""
    with store.engines.ledger.begin() as conn:
        newest = max(stored_sizes(store))
        conn.execute(checkpoints.delete().where(checkpoints.c.size == newest))
    # (Through the API: the command line's record of the refusal cannot be signed either.)
    with pytest.raises(RefusedError, match="it is not behind, there is nothing to re-anchor"):
        reanchor(login(store, "grete").session, REASON)
    assert reanchor_events(store) == []


# -- 3. publishing before the commit, crash-safe ------------------------------------------------


def test_checkpoint_is_published_before_the_commit__AUD_4(store, monkeypatch):
    """AUD-4: a checkpoint that cannot reach the log is not committed either (exit 2)."""
    before = stored_sizes(store)

    def full_disk(self: CheckpointLog, note: str, signed_at: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(CheckpointLog, "append", full_disk)
    with pytest.raises(ConfigurationError, match="cannot be appended"):
        populate(store, 1, first=300)
    assert stored_sizes(store) == before, "a checkpoint was committed that the log never got"
    monkeypatch.undo()
    populate(store, 1, first=301)  # the next command signs both commands' records
    assert run(store, "grete", "ledger", "verify").exit_code == 0


def test_a_log_ahead_of_the_store_after_a_crash_is_fine__AUD_4(store, monkeypatch):
    """AUD-4: a crash between publishing and committing leaves the log ahead; nothing fails."""
    real = type(store.ledger).publish_checkpoint

    def publish_then_crash(self: Any, note: str, signed_at: str) -> None:
        real(self, note, signed_at)
        raise KeyboardInterrupt  # the process dies before its transaction commits

    monkeypatch.setattr(type(store.ledger), "publish_checkpoint", publish_then_crash)
    with pytest.raises(KeyboardInterrupt):
        populate(store, 1, first=400)
    monkeypatch.undo()
    ahead = max(log_sizes(store))
    assert ahead > max(stored_sizes(store)), "the log should be ahead of the store"

    # Another command dies before signing, so the next signer covers both in one checkpoint,
    # past the one the log holds and the store lacks.
    with monkeypatch.context() as died:
        died.setattr(type(store.ledger), "extend", lambda *_, **__: 0)
        populate(store, 1, first=401)
    populate(store, 1, first=402)
    assert max(stored_sizes(store)) > ahead + 1
    assert ahead in stored_sizes(store), "the published checkpoint was kept by the next signer"
    result = run(store, "grete", "ledger", "verify")
    assert result.exit_code == 0, describe(result)


# -- 4. origins ---------------------------------------------------------------------------------


@pytest.fixture
def second(backend: str, tmp_path: Path, clock: FixedClock) -> Iterator[Processor]:
    """Another store on the same backend, with controller acme and its administrator alice."""
    settings, schemas = make_settings(backend, tmp_path / "second")
    proc = initialise(
        settings, gdpa="grete", system_manager="sam", clock=clock,
        gdpa_undertaking=UNDERTAKING, manager_undertaking=UNDERTAKING,
    )  # fmt: skip
    login(proc, "sam").controllers.register(
        "acme", "Acme A/S", "DK", "paying", "scc", admin="alice"
    )
    sign_agreement(proc, "acme")
    try:
        yield proc
    finally:
        proc.close()
        if schemas:
            drop_schemas(*schemas)


def serve_witness(tmp_path: Path, *stores: Processor, at: int | None = None) -> Any:
    """A witness trusting the stores' log keys on 127.0.0.1; returns (url, witness, server)."""
    keys = []
    for i, proc in enumerate(stores):
        key = tmp_path / f"log-{i}.pub"
        key.write_text(proc.ledger.vkey() + "\n", encoding="utf-8")
        keys.append(key)
    witness = load_witness(tmp_path / "witness", keys, "witness.example/w1")
    if at is not None:
        witness.clock = lambda: at
    server = make_server(witness, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", witness, server


def test_two_stores_have_their_own_origin_and_one_witness_cosigns_both__AUD_4(
    store, second, tmp_path
):
    """AUD-4: each store's origin names its key (C2SP); one witness cosigns both stores."""
    populate(second, 2)
    first_origin, second_origin = store.ledger.origin, second.ledger.origin
    assert first_origin != second_origin
    for proc in (store, second):
        origin = proc.ledger.origin
        assert origin.startswith("processor/processor/")
        assert len(origin.rsplit("/", 1)[1]) == 8
        assert proc.ledger.head()["origin"] == origin
        assert proc.ledger.vkey().startswith(origin + "+")

    url, witness, server = serve_witness(tmp_path, store, second)
    try:
        for proc in (store, second):
            done = run(proc, "grete", "ledger", "witness", "--url", url)
            assert done.exit_code == 0, describe(done)
        for proc in (store, second):
            latest = witness.latest(proc.ledger.origin)
            assert latest is not None
            assert latest.size == published(proc)
            wkey = tmp_path / "witness.pub"
            wkey.write_text(witness.signer.vkey() + "\n", encoding="utf-8")
            assert run(proc, "grete", "ledger", "verify", "--witness", wkey).exit_code == 0
    finally:
        server.shutdown()
        server.server_close()


def test_a_store_with_the_legacy_origin_still_verifies__AUD_4(
    settings: Settings, clock: FixedClock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    """AUD-4: a store made before origins named the key keeps its legacy origin and verifies."""
    # The previous version recorded no origin at `init`.
    monkeypatch.setattr(Store, "choose_ledger_origin", lambda *_, **__: None)
    proc = initialise(
        settings, gdpa="grete", system_manager="sam", clock=clock,
        gdpa_undertaking=UNDERTAKING, manager_undertaking=UNDERTAKING,
    )  # fmt: skip
    monkeypatch.undo()
    try:
        login(proc, "sam").controllers.register(
            "acme", "Acme A/S", "DK", "paying", "scc", admin="alice"
        )
        sign_agreement(proc, "acme")
        legacy = legacy_origin(proc.store_info())
        assert legacy == f"processor/ledger/{str(store_id())[:8]}"
        assert proc.ledger.head()["origin"] == legacy
    finally:
        proc.close()
    # Opened again by this version: new checkpoints keep the legacy origin, and all verify.
    again = Processor.open(settings, clock)
    again.issued.update(proc.issued)
    try:
        assert again.ledger.origin == legacy
        populate(again, 3)
        assert again.ledger.head()["origin"] == legacy
        report = again.ledger.verify()
        assert report.ok, report.reason
        assert run(again, "grete", "ledger", "verify").exit_code == 0
        url, witness, server = serve_witness(tmp_path, again)
        try:
            assert run(again, "grete", "ledger", "witness", "--url", url).exit_code == 0
            assert witness.latest(legacy) is not None
        finally:
            server.shutdown()
            server.server_close()
    finally:
        again.close()


# -- 5. status: a witness gone quiet -------------------------------------------------------------


def witness_warnings(proc: Processor) -> list[str]:
    with proc.using_clock():
        status = StatusService(login(proc, "grete").session).status()
    return [line for line in status["attention"] if "no witness has cosigned" in line]


def test_status_warns_when_no_witness_cosigned_within_the_interval__AUD_4(store, clock, tmp_path):
    """AUD-4: with witnesses in use, `status` asks for one once none cosigned for 24 hours."""
    clock.advance(timedelta(days=3))
    assert witness_warnings(store) == [], "no witness in use: nothing to ask for"

    url, _, server = serve_witness(tmp_path, store, at=int(clock.now().timestamp()))
    try:
        assert run(store, "grete", "ledger", "witness", "--url", url).exit_code == 0
    finally:
        server.shutdown()
        server.server_close()
    clock.advance(timedelta(hours=23))
    assert witness_warnings(store) == []
    clock.advance(timedelta(hours=2))
    (warning,) = witness_warnings(store)
    assert "more than 24 h" in warning
    assert "processor ledger witness" in warning
