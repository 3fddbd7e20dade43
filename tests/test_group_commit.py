"""Group commit: one checkpoint for the commands that waited, and every guarantee kept (issue 28).

A server defers signing (`Processor.defer_signing`): each command saves and projects its events,
then waits outside the store's lock until one signature covers them
(`processor.kernel.groupcommit`). These tests hold the parts to what a command signed on its own
would give: the same events, leaves and read-model rows, one live contact per e-mail inside a
group, a forged record refused, a failed signature failing every waiter, and nothing answered
before it is signed.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
import sqlalchemy as sa
from support import login
from test_commit_pipeline import _unsigned_contact
from test_record_mac import forge_gdpa

from processor.api.grouping import MAX_ENV, WINDOW_ENV, grouping
from processor.api.runtime import Runtime
from processor.app import Processor
from processor.kernel.errors import ConfigurationError, IntegrityFailureError
from processor.kernel.groupcommit import GroupCommit
from processor.link.tables import checkpoints
from processor.readmodels import tables as t
from processor.readmodels.rebuild import rebuild


def _checkpoints(proc: Processor) -> int:
    with proc.engines.ledger.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(checkpoints)).scalar_one())


def _topics(proc: Processor) -> Counter[str]:
    notes = proc.store.recorder.select_notifications(start=1, limit=100_000)
    return Counter(n.topic.rsplit(".", 1)[-1] for n in notes)


def _rows(proc: Processor) -> dict[str, list[tuple[object, ...]]]:
    with proc.engines.readmodels.connect() as conn:
        return {
            name: sorted(map(tuple, conn.execute(sa.select(table))), key=repr)
            for name, table in t.metadata.tables.items()
            if name != "tracking"
        }


def test_a_group_is_signed_by_one_checkpoint_and_verifies__AUD_4(acme):
    """Five commands in a group: visible at once, one checkpoint covers them, the log verifies,
    and the read models equal a rebuild from the events.
    """
    acme.defer_signing()
    alice = login(acme, "alice")
    before = _checkpoints(acme)
    signed = acme.ledger.signed_position()
    for i in range(5):
        alice.contacts.add("acme", "news", f"g{i}@example.dk", "email:form")
        acme.end_command()
    assert acme.ledger.signed_position() == signed  # saved and projected, not yet signed
    assert alice.contacts.id_by_email("acme", "g4@example.dk")
    assert _checkpoints(acme) == before
    top = acme.unsigned_top()
    assert acme.sign_pending() == top == acme.store.recorder.max_notification_id()
    assert _checkpoints(acme) == before + 1
    assert acme.unsigned_count() == 0
    assert acme.ledger.verify().ok
    projected = _rows(acme)
    rebuild(acme.projector)
    assert _rows(acme) == projected


def test_a_group_past_its_limit_signs_at_once_so_memory_stays_bounded__AUD_4(acme):
    """A long run of commits (an import over HTTP) signs whenever the limit is reached."""
    acme.defer_signing(limit=3)
    alice = login(acme, "alice")
    before = _checkpoints(acme)
    for i in range(6):
        alice.contacts.add("acme", "news", f"l{i}@example.dk", "email:form")
        acme.end_command()
        assert acme.unsigned_count() < 3
    assert _checkpoints(acme) > before
    acme.sign_pending()
    assert acme.ledger.verify().ok


def test_one_live_contact_per_email_inside_a_group__SUBJ_4(acme):
    """The second add of an e-mail in the same group finds the first, still unsigned."""
    acme.defer_signing()
    alice = login(acme, "alice")
    first = alice.contacts.add("acme", "news", "same@example.dk", "email:form")
    acme.end_command()
    second = alice.contacts.add("acme", "offers", "SAME@example.dk", "email:form")
    acme.end_command()
    assert second["contact_id"] == first["contact_id"]
    assert first["created"] and not second["created"]
    acme.sign_pending()
    assert _topics(acme)["ContactAdded"] == 1
    assert acme.ledger.verify().ok


def test_a_forged_record_among_a_group_is_refused__AUD_4(acme):
    """A record inserted by SQL between a group's commands is MAC-checked before anything of it
    is projected: the next command refuses (exit 3), and so does the group's signature.
    """
    acme.defer_signing()
    alice = login(acme, "alice")
    cid = alice.contacts.add("acme", "news", "a@example.dk", "email:form")["contact_id"]
    acme.end_command()
    projected = acme.projector.position()
    forge_gdpa(acme, "mallory")
    with pytest.raises(IntegrityFailureError, match="not written by this processor"):
        alice.contacts.unsubscribe("acme", cid, "news")
    with pytest.raises(IntegrityFailureError, match="not written by this processor"):
        acme.sign_pending()
    assert acme.projector.position() == projected


def test_another_writers_record_in_a_group_is_signed_before_it_is_projected__AUD_4(acme):
    """Only this process's own records are projected unsigned: another writer's record between
    a group's commands is signed (MAC-checked) by the next command before the read models show it.
    """
    acme.defer_signing()
    alice = login(acme, "alice")
    cid = alice.contacts.add("acme", "news", "a@example.dk", "email:form")["contact_id"]
    acme.end_command()
    other = _unsigned_contact(acme, "other@example.dk")
    foreign = acme.store.recorder.max_notification_id()
    alice.contacts.unsubscribe("acme", cid, "news")
    acme.end_command()
    assert alice.contacts.id_by_email("acme", "other@example.dk") == other
    assert acme.ledger.signed_position() >= foreign
    acme.sign_pending()
    assert acme.ledger.verify().ok


def test_a_group_left_unsigned_by_a_killed_server_is_signed_by_the_next_command__AUD_4(
    acme, settings, clock
):
    """A server killed after saving and before signing: the next command (here a CLI's, which
    signs its own commit) signs the group's records too, each once, and the log verifies.
    """
    acme.defer_signing()
    alice = login(acme, "alice")
    for i in range(3):
        alice.contacts.add("acme", "news", f"k{i}@example.dk", "email:form")
        acme.end_command()
    unsigned = acme.unsigned_top()
    assert acme.ledger.signed_position() < unsigned
    # Killed: nothing signs on the way out (Processor.close does not settle; Runtime.close would).
    with Processor.open(settings, clock) as again:
        again.issued = acme.issued  # the credentials the test's people hold
        login(again, "alice").contacts.add("acme", "news", "after@example.dk", "email:form")
        assert again.ledger.signed_position() == again.store.recorder.max_notification_id()
        assert again.ledger.verify().ok
        assert _topics(again)["ContactAdded"] == 4
        assert login(again, "alice").contacts.id_by_email("acme", "k2@example.dk")


def test_a_request_answers_only_once_its_events_are_signed__AUD_4(acme, settings, clock):
    """Concurrent requests through the server's runtime: each returns with its contact signed;
    every contact stored once; fewer checkpoints than requests when they overlapped.
    """
    credential = acme.issued["alice"]
    acme.close()
    runtime = Runtime(settings, clock)
    failures: list[BaseException] = []
    before = _checkpoints(runtime.proc)

    def client(n: int) -> None:
        try:
            for i in range(4):
                with runtime.acting(credential, "contacts add") as desk:
                    added = desk.contacts.add("acme", "news", f"r{n}-{i}@example.dk", "email:form")
                cid = added["contact_id"]
                assert runtime.proc.ledger.signed_position() >= max(
                    n.id
                    for n in runtime.proc.store.recorder.select_notifications(
                        start=1, limit=100_000
                    )
                    if str(n.originator_id) == cid
                )
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert not failures, failures
        proc = runtime.proc
        assert _topics(proc)["ContactAdded"] == 32
        assert proc.ledger.verify().ok
        assert proc.unsigned_count() == 0
        assert _checkpoints(proc) - before <= 32 + 8  # at most one per request (and catch-up)
        assert runtime.group.batches >= 1
    finally:
        runtime.close()


def test_a_failed_signature_fails_every_command_that_waited_for_it():
    """Two commands wait on one leader whose signing fails: both get the error; a later
    command leads a new round that succeeds.
    """
    state = {"signed": 0, "fail": True, "pending": 2}
    entered = threading.Event()

    def sign() -> int:
        entered.set()
        time.sleep(0.05)  # the follower joins while the leader signs
        if state["fail"]:
            raise IntegrityFailureError("the disk said no")
        state["signed"] = 10
        return 10

    group = GroupCommit(
        sign, lambda: state["signed"], lambda: state["pending"], window=0.0, max_pending=100
    )
    errors: list[BaseException] = []

    def waiter() -> None:
        try:
            group.wait(5)
        except IntegrityFailureError as exc:
            errors.append(exc)

    leader = threading.Thread(target=waiter)
    leader.start()
    entered.wait(2)
    follower = threading.Thread(target=waiter)
    follower.start()
    leader.join()
    follower.join()
    assert len(errors) == 2
    assert all("the disk said no" in str(e) for e in errors)
    state["fail"] = False
    group.wait(5)  # a new round
    assert state["signed"] == 10


def test_the_leader_waits_for_commands_under_way_up_to_the_window():
    """A leader signs once the command under way finishes, not before, and not after the window."""
    state = {"signed": 0}
    signed_at: list[float] = []

    def sign() -> int:
        signed_at.append(time.monotonic())
        state["signed"] = 2
        return 2

    group = GroupCommit(sign, lambda: state["signed"], lambda: 1, window=5.0, max_pending=100)
    group.started()
    done = threading.Event()

    def finish_later() -> None:
        time.sleep(0.2)
        finished_at.append(time.monotonic())
        group.finished()
        done.set()

    finished_at: list[float] = []
    threading.Thread(target=finish_later).start()
    started = time.monotonic()
    group.wait(1)
    done.wait(2)
    assert signed_at[0] >= finished_at[0]
    assert signed_at[0] - started < 4.0  # well inside the 5 s window: it did not time out

    late = GroupCommit(sign, lambda: state["signed"], lambda: 1, window=0.05, max_pending=100)
    state["signed"] = 0
    late.started()  # a command that never finishes: the window bounds the leader's wait
    began = time.monotonic()
    late.wait(1)
    assert time.monotonic() - began < 2.0


def test_a_leader_whose_signature_misses_its_own_position_raises():
    """A signature that does not reach the leader's own position is an error, never a loop."""
    group = GroupCommit(lambda: 3, lambda: 3, lambda: 1, window=0.0, max_pending=100)
    with pytest.raises(IntegrityFailureError, match="position 7"):
        group.wait(7)


def test_group_commit_settings_refuse_malformed_values(monkeypatch):
    """The window and the largest group come from the environment, with one-line errors."""
    monkeypatch.setenv(WINDOW_ENV, "2.5")
    monkeypatch.setenv(MAX_ENV, "64")
    assert grouping().window == 0.0025
    assert grouping().max_pending == 64
    for name, value, words in [
        (WINDOW_ENV, "soon", "must be a number"),
        (WINDOW_ENV, "-1", "between 0 and 1000"),
        (MAX_ENV, "2.5", "whole number"),
        (MAX_ENV, "0", "between 1 and"),
    ]:
        monkeypatch.setenv(WINDOW_ENV, "1")
        monkeypatch.setenv(MAX_ENV, "10")
        monkeypatch.setenv(name, value)
        with pytest.raises(ConfigurationError, match=words):
            grouping()
