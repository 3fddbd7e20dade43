"""What is measured on the processor, each next to its baseline from the same run."""

from __future__ import annotations

import io
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.baselines import PlainApp, plain_contact, raw_read, read_decode
from processor import desk
from processor.app import Processor
from processor.credentials import keeper
from processor.demo import data as demo_data
from processor.readmodels.rebuild import rebuild
from processor.services.setup import initialise

if TYPE_CHECKING:
    from collections.abc import Callable

    from processor.config import Settings
    from processor.desk import Desk

CONTROLLER = "acme"
LIST = "news"
USER = "alice"
UNDERTAKING = ("2026-01-05", "2026-01-06")  # the bench staff are bound and trained
COMMIT_EVERY = 1000  # events per commit while building a long history


def setup_store(settings: Settings) -> None:
    """A new store with one paying controller `acme` and its administrator `alice`.

    Alice's credential is kept the way `processor login` keeps it, so the benchmark's child
    processes act as her through the product's own authentication.
    """
    with initialise(
        settings,
        gdpa_undertaking=UNDERTAKING,
        manager_undertaking=UNDERTAKING,
        gdpa="grete",
        system_manager="sam",
    ) as proc:
        sam = desk.login(proc, "sam", proc.issued["sam"])
        sam.controllers.register(CONTROLLER, "Acme A/S", "DK", "paying", "scc", admin=USER)
        sign_agreement(sam, proc, CONTROLLER)
        alice = desk.login(proc, USER, proc.issued[USER])
        alice.users.rotate_credential(USER)  # handed over: replace
        keeper.keep(settings, USER, proc.issued[USER])


def sign_agreement(sam: Desk, proc: Processor, ref: str) -> None:
    """Record the controller's signed SCC agreement, as processing needs it (INSTR-5)."""
    sam.agreements.record(
        ref, "scc", proc.now().date().isoformat(), f"scc agreement with {ref}".encode(),
        "Sam Manager", f"Administrator of {ref}",
    )  # fmt: skip


def as_alice(proc: Processor) -> Desk:
    """Alice's desk on a store made by `setup_store`."""
    return desk.login(proc, USER, keeper.kept(proc.settings, USER) or "")


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": _median_ms(samples),
        "p10_ms": ordered[len(ordered) // 10] * 1000,
        "p90_ms": ordered[(len(ordered) * 9) // 10] * 1000,
        "n": len(samples),
    }


def _timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def single_command(proc: Processor, env: dict[str, str], reps: int) -> dict[str, Any]:
    """One `contacts.add` through the Python API against one plain save, interleaved."""
    warmup = 3
    people = list(demo_data.people(reps + warmup, seed=4242, domain="single.example"))
    app = PlainApp(env=env)
    ours: list[float] = []
    base: list[float] = []
    try:
        for i, person in enumerate(people):

            def add(person: dict[str, str] = person) -> None:
                as_alice(proc).contacts.add(
                    CONTROLLER,
                    LIST,
                    person["email"],
                    "email:form",
                    phone=person["phone"],
                    first_name=person["first_name"],
                    last_name=person["last_name"],
                )

            def save(person: dict[str, str] = person) -> None:
                row = {k: person[k] for k in ("email", "phone", "first_name", "last_name")}
                app.save(plain_contact(row))

            # Alternate which goes first, so neither always runs on a warmer cache.
            pair = (add, save) if i % 2 == 0 else (save, add)
            times = {fn: _timed(fn) for fn in pair}
            if i >= warmup:
                ours.append(times[add])
                base.append(times[save])
    finally:
        app.close()
    return {
        "contacts_add": _summary(ours),
        "eventsourcing_save": _summary(base),
        "ratio": statistics.median(ours) / statistics.median(base),
    }


def _subject_with_events(proc: Processor, events: int, tag: str) -> str:
    """A contact with `events` events: added, then restricted and lifted in turn."""
    alice = as_alice(proc)
    cid = str(
        alice.contacts.add(
            CONTROLLER, LIST, f"{tag}@erase.example", "email:form:signed form", first_name="Eva"
        )["contact_id"]
    )
    if events <= COMMIT_EVERY // 10:
        # Short histories go through the API, one command per event.
        for i in range(events - 1):
            alice.contacts.set_state(
                "restrict" if i % 2 == 0 else "unrestrict", CONTROLLER, cid, "asked by phone"
            )
    else:
        # Long histories go through the aggregate, one commit per 1,000 events.
        agg = alice.contacts.load(CONTROLLER, cid)
        with proc.using_clock():
            pending = 0
            for i in range(events - 1):
                reason = proc.sealer.seal(cid, "reason", "asked by phone")
                if i % 2 == 0:
                    agg.restrict(actor=USER, reason=reason)
                else:
                    agg.unrestrict(actor=USER, reason=reason)
                pending += 1
                if pending >= COMMIT_EVERY:
                    proc.commit(agg)
                    pending = 0
            if pending:
                proc.commit(agg)
    proc.end_command()
    return cid


def erase(proc: Processor, small_events: int, big_events: int, rounds: int) -> dict[str, Any]:
    """Median time to erase a subject with a short and with a long history; their ratio."""
    run = uuid.uuid4().hex[:6]
    small = [_subject_with_events(proc, small_events, f"s{run}{i}") for i in range(rounds + 2)]
    big = [_subject_with_events(proc, big_events, f"b{run}{i}") for i in range(rounds)]
    alice = as_alice(proc)

    def erase_one(cid: str) -> float:
        seconds = _timed(lambda: alice.erasure.erase(CONTROLLER, "asked to be forgotten", cid))
        proc.end_command()
        return seconds

    small_times: list[float] = []
    big_times: list[float] = []
    for i in range(max(len(small), len(big))):
        if i < len(small):
            small_times.append(erase_one(small[i]))
        if i < len(big):
            big_times.append(erase_one(big[i]))
    return {
        "small_events": small_events,
        "big_events": big_events,
        "small": _summary(small_times),
        "big": _summary(big_times),
        "ratio": statistics.median(big_times) / statistics.median(small_times),
    }


def read_side(proc: Processor) -> dict[str, Any]:
    """Rebuild against read+decode, verify against raw read; each baseline before and after.

    The faster of a baseline's two runs is kept, so our ratios err on the low side.
    """
    decode = [read_decode(proc)]
    start = time.perf_counter()
    rebuilt = rebuild(proc.projector)
    rebuild_s = time.perf_counter() - start
    decode.append(read_decode(proc))
    proc.end_command()
    reads = [raw_read(proc)]
    start = time.perf_counter()
    report = proc.ledger.verify()
    verify_s = time.perf_counter() - start
    reads.append(raw_read(proc))
    if not report.ok:
        raise RuntimeError(f"ledger verify failed: {report.reason}")
    decode_s = min(r["seconds"] for r in decode)
    read_s = min(r["seconds"] for r in reads)
    events = int(decode[0]["events"])
    return {
        "events": events,
        "rebuild_s": rebuild_s,
        "rebuild_events": rebuilt,
        "read_decode_s": decode_s,
        "verify_s": verify_s,
        "verify_records": report.records_checked,
        "read_s": read_s,
        "rebuild_per_s": rebuilt / rebuild_s,
        "read_decode_per_s": events / decode_s,
        "verify_per_s": report.records_checked / verify_s,
        "read_per_s": events / read_s,
        "rebuild_vs_read_decode": (rebuilt / rebuild_s) / (events / decode_s),
        "verify_vs_read": (report.records_checked / verify_s) / (events / read_s),
    }


class _Discard(io.TextIOBase):
    """A text sink: the export is timed, not stored."""

    def write(self, text: str) -> int:
        return len(text)


def export_and_send(proc: Processor, csv_path: Path, campaign: int | None) -> dict[str, Any]:
    """`export --all` (JSON) of every contact, then one campaign send.

    With `campaign` None the send goes to the whole imported list (issue 17: a campaign to every
    contact of the store). With a number it goes to a list of its own holding the first
    `campaign` people of the CSV (a re-import, matched to the existing contacts).
    """
    alice = as_alice(proc)
    start = time.perf_counter()
    exported = alice.exports.export(CONTROLLER, _Discard(), everything=True, data_format="json")
    export_s = time.perf_counter() - start
    proc.end_command()
    target = LIST
    if campaign is not None:
        with csv_path.open("rb") as raw:
            head = b"".join(line for _, line in zip(range(campaign + 1), raw, strict=False))
        alice.imports.import_csv(CONTROLLER, io.BytesIO(head), "campaign", "double-opt-in")
        proc.end_command()
        target = "campaign"
    _check_large_sends(proc, int(exported["contacts"]) if campaign is None else campaign)
    start = time.perf_counter()
    sent = alice.messages.send(CONTROLLER, target, "email", "Offer", "Hello", campaign="bench")
    send_s = time.perf_counter() - start
    proc.end_command()
    return {
        "export_contacts": int(exported["contacts"]),
        "export_s": export_s,
        "sent": int(sent["sent"]),
        "send_s": send_s,
    }


def _check_large_sends(proc: Processor, recipients: int) -> None:
    """Refuse, rather than hang, a send PostgreSQL's library recorder cannot store.

    eventsourcing's pipelined insert of a few megabytes (5,000 messages or more) can hang, not
    every time; `processor.storage.pgrecorder` writes such a batch in chunks. Without it, send to at
    most 2,000 (`--campaign 2000`).
    """
    from processor.storage.pgrecorder import ChunkingPostgresRecorder

    chunking = isinstance(proc.store.recorder, ChunkingPostgresRecorder)
    if proc.settings.backend == "postgres" and not chunking and recipients > 2000:
        raise RuntimeError(
            f"a send to {recipients:,} recipients hangs in eventsourcing's PostgreSQL recorder: "
            "use processor.storage.pgrecorder (eventstore_env) or pass --campaign 2000"
        )


def _process_seconds(argv: list[str], env: dict[str, str], reps: int) -> float:
    """The median wall time of running `argv` as a whole process."""
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        done = subprocess.run(argv, env=env, check=False, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[1:4])}... failed: {done.stderr.strip()[-500:]}")
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def startup(settings: Settings, email: str, reps: int) -> dict[str, Any]:
    """Whole-process time of `processor --help` and of a `contacts find`, against `python -c pass`.

    The three are interleaved rounds of `reps` runs each, so load from elsewhere hits all three.
    """
    exe = Path(sys.executable)
    cli = str(exe.with_name("processor"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROCESSOR_")}
    env["PROCESSOR_DATA_DIR"] = str(settings.data_dir)
    if settings.database_url:
        env["PROCESSOR_DATABASE_URL"] = settings.database_url
    if settings.keystore_url:
        env["PROCESSOR_KEYSTORE_URL"] = settings.keystore_url
    find = [cli, "--as", USER, "contacts", "find", CONTROLLER, "--email", email]
    python, help_s, find_s = [], [], []
    for _ in range(3):
        python.append(_process_seconds([str(exe), "-c", "pass"], env, reps))
        help_s.append(_process_seconds([cli, "--help"], env, reps))
        find_s.append(_process_seconds(find, env, max(1, reps // 3)))
    base = min(python)
    return {
        "python_ms": base * 1000,
        "help_ms": min(help_s) * 1000,
        "find_ms": min(find_s) * 1000,
        "help_ratio": min(help_s) / base,
        "find_ratio": min(find_s) / base,
    }
