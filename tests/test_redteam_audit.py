"""Red team of the GDPA audit (AUD-1, AUD-2, AUD-3, AUD-5, ACC-7, ACC-10), on SQLite and PostgreSQL.

The attackers and faults of the security model, against `audit ...`: a processor support user
with a shell, one controller's administrator after another controller's audit data, a database
administrator without keys forging a review, two GDPA sessions reviewing at once, planted
personal values looked for in every audit output (report in three formats, record incl. DPV,
packs, samples, change log), and bad input. One simulation store per backend is shared.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from redteam_support import (
    BAD,
    CONSENT,
    T0,
    cli_on,
    insert_unkeyed,
    kill_on_notice_insert,
    one_controller,
    refused,
    simulation_store,
    stored,
    two_controllers,
)
from redteam_support import Story as RedTeamStory
from support import BACKENDS, login, support_view

from processor import desk
from processor.app import Processor
from processor.audit import packs, record
from processor.audit.contactpersons import ContactPersonsService
from processor.audit.events import AuditSample
from processor.audit.report import build_report
from processor.audit.reviews import POLICY, RISK, ReviewsService
from processor.audit.samples import SamplesService
from processor.breaches.service import BreachesService
from processor.domain.ids import contact_persons_id
from processor.kernel.clock import FixedClock
from processor.kernel.errors import ConflictError, IntegrityFailureError

SUBJECT = ("zorblattine.quixmirebeck@example.dk", "Zorblattine", "Quixmirebeck", "+4599887766")
OTHER = ("wunderbaum.oddleigh@example.net", "Wunderbaum", "Oddleigh", "+4577001122")
CUSTOM = {"city": "Xylovillegrad"}
SUBJECT_TEXT = {
    "grant": "ticket 7: Quixmirebeck cannot log in",
    "erasure": "Gribblethorpe asked on the phone",
}
# Values of data subjects: no audit output may hold any of them.
PLANTED = [
    *SUBJECT, *OTHER, "zorblattine.quixmirebeck", "99887766", "77001122", *CUSTOM.values(),
    "Gribblethorpe", SUBJECT_TEXT["grant"],
]  # fmt: skip
# acme's own contact person: in acme's record and pack by design (AUD-5), never in beta's.
ACME_PERSON = ("Hildegunn Brakvandsen", "hildegunn@acme.example", "+4561616161")


@dataclass
class Story(RedTeamStory):
    """The shared store, its clock, the command line on it and the recorded sample."""

    sample: str = ""
    entry: str = ""

    def tick(self, minutes: int = 5) -> None:
        """Let simulated time pass (five minutes unless told)."""
        super().tick(minutes)


@pytest.fixture(scope="module", params=BACKENDS)
def story(request: pytest.FixtureRequest) -> Iterator[Story]:
    """Acme (alice) and beta (bob), support user sven with one honest reveal of acme's planted
    subject, an erasure, acme's contact person, a breach, and one recorded sample.
    """
    clock = FixedClock(T0)
    with simulation_store(request.param, clock, prefix="redteam-audit-") as proc:
        two_controllers(proc)
        alice, bob, sven = login(proc, "alice"), login(proc, "bob"), login(proc, "sven")
        email, first, last, phone = SUBJECT
        alice.contacts.add("acme", "news", email, CONSENT, phone=phone, first_name=first,
                           last_name=last, fields=dict(CUSTOM))  # fmt: skip
        email, first, last, phone = OTHER
        bob.contacts.add("beta", "news", email, CONSENT, phone=phone, first_name=first,
                         last_name=last, fields=dict(CUSTOM))  # fmt: skip
        gone = alice.contacts.add("acme", "news", "gone@example.dk", CONSENT)["contact_id"]
        alice.erasure.erase("acme", SUBJECT_TEXT["erasure"], contact=gone)
        pseudonym = support_view(proc, "sven", "acme", "alice")["contacts"][0]["pseudonym"]
        grant = sven.access.request("acme", SUBJECT_TEXT["grant"], [pseudonym], hours=2)
        alice.access.decide(grant["grant"], approve=True)
        sven.access.reveal(grant["grant"], pseudonym)
        ContactPersonsService(alice.session).set("acme", "representative", *ACME_PERSON)
        grete = login(proc, "grete")
        opened = BreachesService(grete.session).open(
            kinds=["confidentiality"], nature="Laptop lost", systems=["controller:acme"]
        )
        BreachesService(grete.session).notify(opened["id"], controllers=["acme"])
        clock.advance(timedelta(hours=1))
        drawn = SamplesService(grete.session).draw(size=5, seed=7)
        s = Story(proc, clock, cli_on(proc), drawn["sample"], drawn["entries"][0]["entry"])
        s.tick()
        yield s


# -- a support user with a shell -------------------------------------------------------------


def test_support_can_neither_draw_nor_review_samples_nor_read_audit_outputs__ACC_7(story: Story):
    """Sven (processor support) draws no sample, reviews none, reads no report, record, pack or
    change log, and changes no contact person; each attempt is a recorded refusal (ACC-8).
    """
    sven = login(story.proc, "sven")
    before = len(story.cli.denials("sven"))
    attempts = [
        lambda: SamplesService(sven.session).draw(size=3, seed=1),
        lambda: SamplesService(sven.session).review(story.sample, story.entry, "ok", "fine"),
        lambda: SamplesService(sven.session).list(),
        lambda: build_report(sven.session),
        lambda: build_report(sven.session, controller="acme"),
        lambda: record.build(sven.session),
        lambda: packs.controller_pack(sven, "acme"),
        lambda: packs.dpia_pack(sven, "acme"),
        lambda: ReviewsService(sven.session).record(RISK, "fine", None),
        lambda: ReviewsService(sven.session).record(POLICY, "fine", None),
        lambda: ContactPersonsService(sven.session).set("acme", "security", "Eve", "eve@x.example"),
        lambda: ContactPersonsService(sven.session).set(
            "processor", "security", "Eve", "eve@x.example"
        ),
    ]
    for attempt in attempts:
        refused(story, attempt)
    assert len(story.cli.denials("sven")) == before + len(attempts)
    error = story.cli.fails(1, "audit", "changes", user="sven", env=story.env())
    assert "RoleMustGrantPermission" in error
    story.tick()


# -- one controller after another's audit data --------------------------------------------------


def test_a_controller_reaches_no_other_controllers_audit_data__AUD_1__ACC_9(story: Story):
    """Bob (beta's administrator) gets no report, pack, DPIA pack, contact persons or change log
    of acme, and no processor-wide report or record; every attempt is refused (exit 1).
    """
    bob = login(story.proc, "bob")
    for attempt in (
        lambda: build_report(bob.session, controller="acme"),
        lambda: build_report(bob.session),
        lambda: packs.controller_pack(bob, "acme"),
        lambda: packs.dpia_pack(bob, "acme"),
        lambda: record.build(bob.session),
        lambda: ContactPersonsService(bob.session).show("acme"),
        lambda: ContactPersonsService(bob.session).set("acme", "security", "Eve", "eve@x.example"),
        lambda: SamplesService(bob.session).list(),
    ):
        refused(story, attempt)
    for argv in (
        ("audit", "changes", "--controller", "acme"),
        ("audit", "report", "--controller", "acme", "--format", "json"),
        ("audit", "controller-pack", "acme"),
    ):
        assert "ControllerUsersSeeOnlyTheirOwn" in story.cli.fails(
            1, *argv, user="bob", env=story.env()
        )
        story.tick()


def test_a_controllers_own_outputs_hold_nothing_of_another__AUD_1__ACC_10(story: Story):
    """Beta's own report (three formats), pack, DPIA pack and change log name no acme id and
    hold none of acme's contact person (AUD-5) or data subjects.
    """
    env = story.env()
    changes = story.cli.ok("audit", "changes", user="bob", env=env)["changes"]
    assert changes and {c["controller"] for c in changes} == {"beta"}
    outputs = [json.dumps(changes)]
    outputs += [
        story.cli.text("audit", "report", "--controller", "beta", "--format", fmt,
                       user="bob", env=env)
        for fmt in ("markdown", "json", "html")
    ]  # fmt: skip
    outputs.append(story.cli.text("audit", "controller-pack", "beta", user="bob", env=env))
    outputs.append(story.cli.text("audit", "dpia-pack", "beta", user="bob", env=env))
    leaks = [
        (value, text[max(0, text.find(value) - 80) : text.find(value) + 80])
        for text in outputs
        for value in (*ACME_PERSON, *PLANTED, '"acme"', "acme:", "[acme]", "Acme A/S")
        if value in text
    ]
    assert not leaks, leaks


# -- personal data in outputs ---------------------------------------------------------------


def test_no_planted_personal_value_in_any_audit_output__AUD_1__AUD_3(story: Story):
    """Report (markdown, json, html, GDPA and controller), record (json, markdown, DPV), packs,
    samples (text and JSON) and the change log hold no value of a data subject. The record and
    acme's pack do name acme's contact person: that is what AUD-5 asks of them.
    """
    env = story.env()
    cli = story.cli
    outputs: list[str] = []
    for fmt in ("markdown", "json", "html"):
        outputs.append(cli.text("audit", "report", "--format", fmt, user="grete", env=env))
        outputs.append(cli.text("audit", "report", "--controller", "acme", "--format", fmt,
                                user="alice", env=env))  # fmt: skip
    records = [cli.text("audit", "record", "--format", f, user="grete", env=env)
               for f in ("json", "markdown", "dpv")]  # fmt: skip
    assert all(ACME_PERSON[1] in r for r in records), "AUD-5: the record names contact persons"
    outputs += records
    for as_json in (False, True):
        for argv in (
            ("audit", "samples"),
            ("audit", "changes"),
            ("audit", "controller-pack", "acme"),
            ("audit", "dpia-pack", "acme"),
        ):
            outputs.append(cli.run(*argv, user="grete", as_json=as_json, env=env).stdout)
        result = cli.run("audit", "sample", "--size", "5", "--seed", "7", user="grete",
                         as_json=as_json, env=env)  # fmt: skip
        outputs.append(result.stdout)
    found = [(v, t[max(0, t.find(v) - 80) : t.find(v) + 80]) for t in outputs for v in PLANTED
             if v in t]  # fmt: skip
    assert not found, found


# -- a database administrator without keys ----------------------------------------------------


def test_a_forged_review_is_refused_and_caught_by_the_ledger__ACC_7(backend: str, tmp_path: Path):
    """A DBA writes a `SampleEntryReviewed` (finding ok) without the record MAC key: the sample
    no longer reads (exit 3), the ledger fails verification, `doctor` exits 3 (AUD-4).
    """
    clock = FixedClock(T0)
    with simulation_store(backend, clock, tmp_path) as proc:
        one_controller(proc)
        grete = login(proc, "grete")
        drawn = SamplesService(grete.session).draw(size=3, seed=1)
        sample = proc.find(uuid.UUID(drawn["sample"]))
        assert isinstance(sample, AuditSample)
        if not sample.entries:
            sample.entries.append({"entry": "e1"})  # the forgery needs an entry to name
        with proc.using_clock():
            sample.review(actor="grete", entry=sample.entries[0]["entry"], finding="ok",
                          note="forged")  # fmt: skip
        insert_unkeyed(proc, sample)
        with pytest.raises(IntegrityFailureError):
            SamplesService(login(proc, "grete").session).list()
        assert not proc.ledger.verify().ok
        cli = cli_on(proc)
        env = {"PROCESSOR_NOW": clock.now().isoformat()}
        cli.fails(3, "ledger", "verify", user="grete", env=env)
        assert cli.run("doctor", user="grete", env=env).exit_code == 3


# -- two writers at once ---------------------------------------------------------------------


def test_two_concurrent_reviews_of_one_entry_lose_nothing__ACC_7(story: Story):
    """Two GDPA sessions review one entry at once: each success is one stored review, a loser
    is a conflict that saved nothing, the entry shows a winner's finding, the ledger verifies.
    """
    settings, credential = story.proc.settings, story.proc.issued["grete"]
    barrier = threading.Barrier(2)
    results: list[Any] = [None, None]

    def review(i: int, finding: str) -> None:
        with Processor.open(settings, story.clock) as own:
            service = SamplesService(desk.login(own, "grete", credential).session)
            barrier.wait()
            try:
                results[i] = (finding, service.review(story.sample, story.entry, finding, f"n{i}"))
            except Exception as exc:
                results[i] = (finding, exc)

    threads = [
        threading.Thread(target=review, args=(i, f)) for i, f in enumerate(("ok", "deviation"))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    failures = [r for _, r in results if isinstance(r, Exception)]
    assert all(isinstance(f, ConflictError) for f in failures), failures
    winners = [f for f, r in results if not isinstance(r, Exception)]
    assert winners
    story.proc.catch_up()
    stored = [
        e
        for e in story.proc.store.events.get(uuid.UUID(story.sample))
        if type(e).__name__ == "SampleEntryReviewed" and e.entry == story.entry
    ]
    assert sorted(e.finding for e in stored[-len(winners) :]) == sorted(winners)
    shown = SamplesService(login(story.proc, "grete").session).describe(
        story.proc.find(uuid.UUID(story.sample))
    )
    entry = next(e for e in shown["entries"] if e["entry"] == story.entry)
    assert entry["review"]["finding"] in winners
    assert story.proc.ledger.verify().ok


# -- bad input -------------------------------------------------------------------------------


def _bad_inputs(story: Story) -> list[tuple[int, tuple[str, ...], str]]:
    s, e = story.sample, story.entry
    return [
        (2, ("audit", "report", "--format", "json", "--from", "2026-13-01"), "grete"),
        (
            2,
            ("audit", "report", "--format", "json", "--from", "2026-02-02", "--to", "2026-02-01"),
            "grete",
        ),
        (2, ("audit", "report", "--format", "json", "--to", BAD), "grete"),
        (2, ("audit", "report", "--format", "json", "--controller", "nobody-here"), "grete"),
        (2, ("audit", "report", "--format", "json", "--controller", BAD), "grete"),
        (2, ("audit", "report", "--format", "pdf"), "grete"),
        (2, ("audit", "sample", "--size", "0"), "grete"),
        (2, ("audit", "sample", "--size", "-5"), "grete"),
        (2, ("audit", "sample", "--size", "many"), "grete"),
        (2, ("audit", "sample", "--from", "last week"), "grete"),
        (2, ("audit", "sample", "--from", "2026-02-02", "--to", "2026-02-01"), "grete"),
        (2, ("audit", "sample", "--of", "everyone"), "grete"),
        (2, ("audit", "review", "", "--entry", e, "--finding", "ok", "--note", "x"), "grete"),
        (2, ("audit", "review", BAD, "--entry", e, "--finding", "ok", "--note", "x"), "grete"),
        (
            2,
            ("audit", "review", str(uuid.uuid4()), "--entry", e, "--finding", "ok", "--note", "x"),
            "grete",
        ),
        (
            2,
            ("audit", "review", s, "--entry", "e999999", "--finding", "ok", "--note", "x"),
            "grete",
        ),
        (2, ("audit", "review", s, "--entry", BAD, "--finding", "ok", "--note", "x"), "grete"),
        (2, ("audit", "review", s, "--entry", e, "--finding", "fine", "--note", "x"), "grete"),
        (2, ("audit", "review", s, "--entry", e, "--finding", "ok", "--note", "  "), "grete"),
        (
            2,
            ("audit", "review", s, "--entry", e, "--finding", "ok", "--note", "n" * 100_001),
            "grete",
        ),
        (2, ("audit", "changes", "--from", "2026-99-01"), "grete"),
        (2, ("audit", "changes", "--controller", "nobody-here"), "grete"),
        (2, ("audit", "controller-pack", "nobody-here"), "grete"),
        (2, ("audit", "dpia-pack", BAD), "grete"),
        (2, ("audit", "record", "--format", "rdf"), "grete"),
        (2, ("audit", "risk-review", "--text", "x", "--next", "someday"), "grete"),
        (2, ("audit", "risk-review", "--text", "x", "--next", "2999-01-01"), "grete"),
        (2, ("audit", "risk-review", "--text", "", "--next", "2027-01-01"), "grete"),
        (2, ("audit", "policy-review", "--text", "t" * 100_001), "grete"),
        (2, ("audit", "policy-review", "--text", "x", "--next", "2025-01-01"), "grete"),
        (
            2,
            ("processor-contacts", "--role", "boss", "--name", "x", "--email", "x@y.example"),
            "grete",
        ),
        (
            2,
            ("processor-contacts", "--role", "security", "--name", "", "--email", "x@y.example"),
            "grete",
        ),
        (
            2,
            ("processor-contacts", "--role", "security", "--name", "x", "--email", "not-mail"),
            "grete",
        ),
        (
            2,
            ("processor-contacts", "--role", "security", "--name", BAD, "--email", "x@y.example"),
            "grete",
        ),
        (
            2,
            (
                "controllers",
                "contacts",
                "acme",
                "--role",
                "security",
                "--name",
                "x",
                "--email",
                "x@y.example",
                "--phone",
                "p" * 10_000,
            ),
            "alice",
        ),
    ]


def test_bad_input_is_one_line_exit_2_and_stores_nothing__AUD_1__ACC_7(story: Story):
    """Malformed dates, unknown ids, empty and huge values, control characters: exit 2 with one
    `error:` line (checked by `Cli.run`), no control character echoed, nothing stored.
    """
    env = story.env()
    wrong = []
    for code, argv, user in _bad_inputs(story):
        before = stored(story.proc)
        result = story.cli.run(*argv, user=user, env=env)
        if result.exit_code != code or stored(story.proc) != before:
            wrong.append(
                (argv[:5], result.exit_code, stored(story.proc) - before, result.stderr[:160])
            )
        assert "\x1b" not in result.stderr and "\x07" not in result.stderr, argv
    assert not wrong, wrong


# -- a command that dies inside its transaction ------------------------------------------------


def test_a_contact_person_change_that_dies_before_its_notices_leaves_nothing__AUD_5(story: Story):
    """The change of the processor's contact person dies when its first notice is written: the
    change is not stored either (one transaction); run again, each controller gets one notice.
    """
    person = ("Ottoline Brask", "ottoline@processor.example")
    cid = contact_persons_id("processor")
    before = len(list(story.proc.store.events.get(cid)))
    notices_before = len(login(story.proc, "grete").notices.list())
    kill_on_notice_insert(story.proc, True)
    try:
        with pytest.raises(Exception):  # noqa: B017 - whatever the driver raises
            ContactPersonsService(login(story.proc, "grete").session).set(
                "processor", "security", *person
            )
    finally:
        kill_on_notice_insert(story.proc, False)
    credential = story.proc.issued["grete"]
    with Processor.open(story.proc.settings, story.clock) as fresh:
        assert len(list(fresh.store.events.get(cid))) == before
        assert len(desk.login(fresh, "grete", credential).notices.list()) == notices_before
        assert fresh.ledger.verify().ok
        ContactPersonsService(desk.login(fresh, "grete", credential).session).set(
            "processor", "security", *person
        )
        assert len(desk.login(fresh, "grete", credential).notices.list()) == notices_before + 2
    story.proc.catch_up()
