"""Red team of the breach register (BR-1 to BR-5), on SQLite and PostgreSQL.

Each test plays one attacker or fault the security model names, against `breaches ...`:
a processor support user with a shell, one controller's administrator after another
controller's part, a database administrator without keys, two writers at once, a command
that dies inside its transaction, planted personal values looked for in every output, and
bad input. One simulation store per backend is shared by the module's tests; the Python API
and the command line act on it with the same simulated time (PROCESSOR_NOW).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
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
    together,
    two_controllers,
)
from redteam_support import Story as RedTeamStory
from support import BACKENDS, login

from processor import desk
from processor.app import Processor
from processor.breaches.domain import Breach
from processor.breaches.report import timeline_svg
from processor.breaches.responses import BreachResponsesService
from processor.breaches.service import BreachesService
from processor.kernel.clock import FixedClock
from processor.kernel.errors import (
    AccessDeniedError,
    ConflictError,
    IntegrityFailureError,
    NotFoundError,
    ProcessorError,
)

# Distinctive values of data subjects: none may leave the store through a breach output.
ACME_PEOPLE = [
    ("zorblattine.quixmirebeck@example.dk", "Zorblattine", "Quixmirebeck", "+4599887766"),
    ("vexillum.pratchard@example.org", "Vexillum", "Pratchard", "+4588112233"),
]
BETA_PEOPLE = [("wunderbaum.oddleigh@example.net", "Wunderbaum", "Oddleigh", "+4577001122")]
CUSTOM = {"city": "Xylovillegrad", "hobby": "Plumbrooking"}
ERASURE_REASON = "Asked by Gribblethorpe on the phone"
PLANTED = [
    value
    for person in ACME_PEOPLE + BETA_PEOPLE
    for value in (*person, person[0].split("@")[0], person[3][3:])
] + [*CUSTOM.values(), "Gribblethorpe"]


@dataclass
class Story(RedTeamStory):
    """The shared store, its clock and the facts the tests attack."""

    both: str = ""  # breach of acme and beta, notified to both
    acme_only: str = ""  # breach of acme only, notified to acme
    unnotified: str = ""  # hosting breach, notified to no one
    outputs: list[str] = field(default_factory=list)

    def service(self, user: str) -> BreachesService:
        return BreachesService(login(self.proc, user).session)

    def responses(self, user: str) -> BreachResponsesService:
        return BreachResponsesService(login(self.proc, user).session)


def open_breach(
    story: Story, *systems: str, nature: str = "Backup copy found on a test server"
) -> str:
    opened = story.service("grete").open(
        kinds=["confidentiality"], nature=nature, systems=list(systems),
        occurred_from=T0 - timedelta(days=30),
    )  # fmt: skip
    return str(opened["id"])


@pytest.fixture(scope="module", params=BACKENDS)
def story(request: pytest.FixtureRequest) -> Iterator[Story]:
    """Acme (scc, alice) and beta (2018 DPA, bob), support user sven, planted subjects, and three
    breaches: one of both controllers, one of acme only, one of the hosting nobody was told of.
    """
    clock = FixedClock(T0)
    with simulation_store(request.param, clock, prefix="redteam-breaches-") as proc:
        two_controllers(proc)
        login(proc, "alice").users.add("mia", "marketing", controller="acme")
        for ref, admin, people in (
            ("acme", "alice", ACME_PEOPLE),
            ("beta", "bob", BETA_PEOPLE),
        ):
            session = login(proc, admin)
            for email, first, last, phone in people:
                session.contacts.add(
                    ref, "news", email, CONSENT, phone=phone, first_name=first,
                    last_name=last, fields=dict(CUSTOM),
                )  # fmt: skip
        gone = login(proc, "alice").contacts.add("acme", "news", "gone@example.dk", CONSENT)
        login(proc, "alice").erasure.erase("acme", ERASURE_REASON, contact=gone["contact_id"])
        for name in ("mia", "bob", "sven"):
            login(proc, name)
        s = Story(proc, clock, cli_on(proc))  # the same people, the same credentials
        clock.advance(timedelta(hours=1))
        s.both = open_breach(s, "controller:acme", "controller:beta")
        s.acme_only = open_breach(s, "controller:acme")
        s.unnotified = open_breach(s, "hosting")
        grete = s.service("grete")
        grete.update(s.both, measures=["Server wiped"], measure_kind="contain")
        s.tick()
        grete.notify(s.both, all_affected=True, consequences="Phishing", measures="Keys rotated")
        grete.notify(s.acme_only, controllers=["acme"])
        s.tick(60)
        s.responses("alice").authority_notice(
            s.both, controller="acme", at=clock.now(), authority="Datatilsynet",
            reference="acme-case-17",
        )  # fmt: skip
        s.responses("alice").authority_notice(
            s.acme_only, controller="acme", at=clock.now(), authority="Datatilsynet",
            reference="acme-case-18",
        )  # fmt: skip
        s.responses("alice").export_subjects(s.both, "acme")
        s.responses("bob").subjects_notice(
            s.both, controller="beta", notified=False, exception="a",
            justification="sealed data only",
        )  # fmt: skip
        s.tick()
        yield s


# -- a support user with a shell -------------------------------------------------------------


def test_processor_support_cannot_read_or_run_the_breach_register__BR_3(story: Story):
    """Sven (processor support, bound and trained) reads no breach, notice part, timeline or
    export, and runs no step; every attempt is a recorded refusal (ACC-8, ACC-9).
    """
    sven = story.service("sven")
    before = len(story.cli.denials("sven"))
    attempts = [
        sven.list,
        lambda: sven.show(story.both),
        lambda: sven.impact(story.both),
        lambda: story.responses("sven").export_subjects(story.both, "acme"),
        lambda: sven.notify(story.both, controllers=["acme"]),
        lambda: sven.update(story.both, measures=["x"]),
        lambda: sven.close(story.unnotified, "x"),
        lambda: story.responses("sven").authority_notice(
            story.both, controller="acme", at=story.clock.now(), authority="x"
        ),
        lambda: sven.open(kinds=["integrity"], nature="x"),
    ]
    for attempt in attempts:
        refused(story, attempt)
    assert len(story.cli.denials("sven")) == before + len(attempts)
    for argv in (
        ("breaches", "timeline", story.both, "--format", "svg"),
        ("breaches", "show", story.both),
        ("breaches", "list"),
    ):
        error = story.cli.fails(1, *argv, user="sven", env=story.env())
        assert "RoleMustGrantPermission" in error
        story.tick(5)


# -- one controller after another's part -------------------------------------------------------


def _views_of_bob(story: Story) -> list[str]:
    """Everything beta's administrator can see of the shared breach, every form."""
    bob = story.service("bob")
    env = story.env()
    return [
        json.dumps(bob.show(story.both), default=str),
        json.dumps(bob.list(), default=str),
        json.dumps(bob.impact(story.both), default=str),
        story.cli.text("breaches", "timeline", story.both, user="bob", env=env),
        story.cli.text("breaches", "timeline", story.both, "--format", "json", user="bob", env=env),
        story.cli.text("breaches", "timeline", story.both, "--format", "svg", user="bob", env=env),
        story.cli.text("breaches", "show", story.both, user="bob", env=env),
        json.dumps(login(story.proc, "bob").notices.list(), default=str),
    ]


def test_a_controller_sees_nothing_of_another_controllers_part__BR_3(story: Story):
    """Bob (beta) sees the shared breach without a trace of acme: not its id in the systems,
    not its notice, authority case, export, clock or subject count (ACC-9).
    """
    acme_subjects = len(ACME_PEOPLE)
    for text in _views_of_bob(story):
        assert "acme" not in text, text[:2000]
    shown = story.service("bob").show(story.both)
    assert shown["impact"]["subjects"] == len(BETA_PEOPLE), "a total over all controllers leaks"
    assert shown["impact"]["subjects"] != acme_subjects + len(BETA_PEOPLE)


def test_another_controllers_breach_is_unknown_and_its_part_refused__BR_3(story: Story):
    """Bob cannot see acme's own breach (unknown, exit 2) nor act for acme on the shared one."""
    bob = story.service("bob")
    for call in (
        lambda: bob.show(story.acme_only),
        lambda: bob.impact(story.acme_only),
        lambda: bob.show(story.unnotified),
        lambda: story.responses("bob").authority_notice(
            story.acme_only, controller="beta", at=story.clock.now(), authority="Datatilsynet"
        ),
        lambda: story.responses("bob").export_subjects(story.acme_only, "beta"),
    ):
        refused(story, call, NotFoundError)
    for call in (
        lambda: bob.impact(story.both, controller="acme"),
        lambda: story.responses("bob").export_subjects(story.both, "acme"),
        lambda: story.responses("bob").authority_notice(
            story.both,
            controller="acme",
            at=story.clock.now(),
            authority="Datatilsynet",
            delay_reason="x",
        ),
        lambda: story.responses("bob").subjects_notice(
            story.both, controller="acme", notified=False, exception="b", justification="x"
        ),
        lambda: bob.list(controller="acme"),
    ):
        refused(story, call, AccessDeniedError)
    env = story.env()
    for argv in (
        ("breaches", "show", story.acme_only),
        ("breaches", "timeline", story.acme_only, "--format", "svg"),
    ):
        error = story.cli.fails(2, *argv, user="bob", env=story.env())
        assert "unknown breach" in error
        story.tick(5)
    # By its BR-number, acme's breach is as unknown, and its id does not show.
    number = story.service("grete").show(story.acme_only)["reference"]
    error = story.cli.fails(2, "breaches", "show", number, user="bob", env=story.env())
    assert f"unknown breach {number}" in error and story.acme_only not in error
    story.tick(5)
    # A marketing user of acme sees no breach at all.
    refused(story, lambda: story.service("mia").show(story.both))


def test_a_controllers_notice_names_no_other_controller__BR_3(story: Story):
    """The Art. 33(3) notice beta received lists its own systems only, never acme's id."""
    notices = [n for n in login(story.proc, "bob").notices.list() if n.get("kind") == "breach"]
    assert notices
    for n in notices:
        assert "acme" not in json.dumps(n, default=str)


def test_a_controllers_audit_report_embeds_only_its_own_timeline__BR_3(story: Story):
    """The audit report of beta embeds the breach timeline without acme's steps (AUD-1)."""
    report = story.cli.text(
        "audit", "report", "--controller", "beta", "--format", "json", user="bob", env=story.env()
    )
    timelines = _find_key(json.loads(report), "timelines")
    assert timelines and story.both in timelines
    assert "acme" not in json.dumps(timelines)
    svg = timeline_svg(story.proc, story.both, controller="beta")
    assert "acme" not in svg and "[beta]" in svg


def _find_key(data: Any, key: str) -> Any:
    if isinstance(data, dict):
        if key in data:
            return data[key]
        for value in data.values():
            found = _find_key(value, key)
            if found is not None:
                return found
    if isinstance(data, list):
        for value in data:
            found = _find_key(value, key)
            if found is not None:
                return found
    return None


# -- personal data in outputs ---------------------------------------------------------------


def test_no_planted_personal_value_reaches_any_breach_output__BR_2(story: Story, tmp_path: Path):
    """Every output of every breach command, text and JSON, every notice body, the SVG and the
    audit report's breach section hold no value of a data subject (the export aside, which is
    its purpose and goes to a file).
    """
    env = story.env()
    cli = story.cli
    outputs: list[str] = []
    seen = {
        "grete": (story.both, story.acme_only, story.unnotified),
        "alice": (story.both, story.acme_only),
        "bob": (story.both,),
    }
    for user, breaches in seen.items():
        for breach in breaches:
            result = cli.run("breaches", "show", breach, user=user, as_json=True, env=env)
            outputs += [result.stdout, result.stderr]
            for fmt in ("text", "json", "svg"):
                result = cli.run(
                    "breaches", "timeline", breach, "--format", fmt, user=user, env=env
                )
                outputs += [result.stdout, result.stderr]
        result = cli.run("breaches", "list", user=user, env=env)
        outputs += [result.stdout, result.stderr]
        result = cli.run("breaches", "list", user=user, as_json=True, env=env)
        outputs += [result.stdout, result.stderr]
    outputs.append(json.dumps(cli.ok("breaches", "impact", story.both, user="grete", env=env)))
    outputs.append(cli.text("breaches", "impact", story.both, user="grete", env=env))
    outputs.append(json.dumps(login(story.proc, "grete").notices.list(), default=str))
    outputs += [n["body"] for n in login(story.proc, "alice").notices.list()]
    outputs.append(
        json.dumps(story.service("grete").notify(story.both, controllers=["acme"]), default=str)
    )
    outputs.append(cli.text("audit", "report", "--format", "html", user="grete", env=env))
    found = [(value, text[:300]) for text in outputs for value in PLANTED if value in text]
    assert not found, found
    export = tmp_path / "export.csv"
    cli.text("breaches", "export-subjects", story.both, "--controller", "acme", "--out", export,
             user="alice", env=env)  # fmt: skip
    exported = export.read_text(encoding="utf-8")
    assert ACME_PEOPLE[0][0] in exported  # the export is the one output that must hold them
    assert BETA_PEOPLE[0][0] not in exported


def test_the_contact_point_is_sealed_at_rest_like_other_free_text__BR_4(story: Story):
    """The contact point names a person (who the controllers call): a DBA reading the events
    table finds it no more than the nature, while the notice still carries it.
    """
    from test_ledger_tamper import EventTable

    person, nature = "Hubertina Snorkelwax, +4512398877", "Quillfeather server copied"
    opened = story.service("grete").open(
        kinds=["confidentiality"], nature=nature, systems=["controller:acme"],
        contact_point=person,
    )  # fmt: skip
    given = story.service("grete").notify(opened["id"], controllers=["acme"])
    assert given["notices"][0]["content"]["contact_point"] == person
    assert story.service("grete").show(opened["id"])["contact_point"] == person
    table = EventTable(story.proc)
    try:
        at_rest = b"\n".join(bytes(row.state) for row in table.rows())
    finally:
        table.close()
    for value in ("Snorkelwax", "12398877", "Quillfeather"):
        assert value.encode() not in at_rest, value


# -- a database administrator without keys ----------------------------------------------------


@pytest.fixture
def own_store(backend: str, tmp_path: Path) -> Iterator[Story]:
    """A store of one's own (the forgeries make its ledger fail for good)."""
    clock = FixedClock(T0)
    with simulation_store(backend, clock, tmp_path) as proc:
        one_controller(proc)
        yield Story(proc, clock, cli_on(proc))


def test_a_forged_authority_notice_is_refused_and_caught_by_the_ledger__BR_1(own_store: Story):
    """A DBA forges acme's authority notice to turn an overdue 72-hour clock into a met one:
    the breach no longer reads (exit 3), `ledger verify` fails and `doctor` says so (AUD-4).
    """
    s = own_store
    bid = open_breach(s, "controller:acme")
    s.service("grete").notify(bid, controllers=["acme"])
    s.clock.advance(timedelta(hours=80))
    assert s.service("grete").list(overdue_only=True)["overdue"] == 1
    breach = s.proc.find(uuid.UUID(bid))
    assert isinstance(breach, Breach)
    with s.proc.using_clock():
        breach.record_authority_notice(
            "alice", "acme", T0 + timedelta(hours=2), "Datatilsynet", "forged", "", required=True
        )
    insert_unkeyed(s.proc, breach)
    with pytest.raises(IntegrityFailureError):
        s.service("grete").show(bid)
    report = s.proc.ledger.verify()
    assert not report.ok
    error = s.cli.fails(3, "ledger", "verify", user="grete", env=s.env())
    assert error.startswith("error: ")
    assert s.cli.run("doctor", user="grete", env=s.env()).exit_code == 3


def test_a_deleted_breach_step_is_caught_by_the_ledger__BR_4(own_store: Story):
    """A DBA deletes the signed notification of a late notice (to hide it): `ledger verify` fails."""
    from test_ledger_tamper import EventTable

    s = own_store
    bid = open_breach(s, "controller:acme")
    s.clock.advance(timedelta(hours=30))
    s.service("grete").notify(bid, controllers=["acme"])
    table = EventTable(s.proc)
    try:
        rows = [
            r for r in table.rows() if str(r.originator_id).replace("-", "") == bid.replace("-", "")
        ]
        table.delete(rows[-1].id)
    finally:
        table.close()
    assert not s.proc.ledger.verify().ok
    s.cli.fails(3, "ledger", "verify", user="grete", env=s.env())


# -- a command that dies inside its transaction ------------------------------------------------


def _notified_events(proc: Processor, bid: str) -> list[Any]:
    return [
        e
        for e in proc.store.events.get(uuid.UUID(bid))
        if type(e).__name__ == "BreachNotifiedToController"
    ]


def _breach_notices(
    proc: Processor, bid: str, controller: str, credential: str
) -> list[dict[str, Any]]:
    return [
        n
        for n in desk.login(proc, "grete", credential).notices.list(controller=controller)
        if n["kind"] == "breach" and n.get("about") == bid
    ]


def test_a_notify_that_dies_mid_transaction_leaves_neither_step_nor_notice__BR_1(story: Story):
    """The notify dies after the breach's `ControllerNotified` was written, before the notice:
    nothing of it stays; run again, it gives exactly one notice and one step.
    """
    bid = open_breach(story, "controller:acme")
    s = story.service("grete")
    before = len(list(story.proc.store.events.get(uuid.UUID(bid))))
    credential = story.proc.issued["grete"]
    kill_on_notice_insert(story.proc, True)
    try:
        with pytest.raises(Exception):  # noqa: B017 - whatever the driver raises
            s.notify(bid, controllers=["acme"])
    finally:
        kill_on_notice_insert(story.proc, False)
    fresh = Processor.open(story.proc.settings, story.clock)
    try:
        assert len(list(fresh.store.events.get(uuid.UUID(bid)))) == before
        assert _notified_events(fresh, bid) == []
        assert _breach_notices(fresh, bid, "acme", credential) == []
        assert fresh.ledger.verify().ok
        BreachesService(desk.login(fresh, "grete", credential).session).notify(
            bid, controllers=["acme"]
        )
        assert len(_notified_events(fresh, bid)) == 1
        assert len(_breach_notices(fresh, bid, "acme", credential)) == 1
    finally:
        fresh.close()
    story.proc.catch_up()


# -- two writers at once ---------------------------------------------------------------------


def test_two_concurrent_notifications_give_one_initial_notice_and_lose_nothing__BR_1(story: Story):
    """Two processes notify acme of one breach at once: each success is one step and one notice,
    a loser is a conflict that saved nothing, and at most one notice is `initial`.
    """
    bid = open_breach(story, "controller:acme")
    settings, credential = story.proc.settings, story.proc.issued["grete"]

    def notify() -> Any:
        with Processor.open(settings, story.clock) as own:
            return BreachesService(desk.login(own, "grete", credential).session).notify(
                bid, controllers=["acme"]
            )

    results = together([notify, notify])
    failures = [r for r in results if isinstance(r, Exception)]
    assert all(isinstance(f, ConflictError) for f in failures), failures
    wins = len(results) - len(failures)
    assert wins >= 1
    story.proc.catch_up()
    steps = _notified_events(story.proc, bid)
    assert len(steps) == wins
    assert len(_breach_notices(story.proc, bid, "acme", credential)) == wins
    assert [getattr(e, "phase", None) for e in steps].count("initial") == 1
    assert story.proc.ledger.verify().ok


def test_two_concurrent_openings_get_distinct_register_numbers__BR_4(story: Story):
    """Two processes open a breach at once: the register never gives one number twice."""
    settings, credential = story.proc.settings, story.proc.issued["grete"]

    def opening() -> Any:
        with Processor.open(settings, story.clock) as own:
            return BreachesService(desk.login(own, "grete", credential).session).open(
                kinds=["availability"], nature="Outage", systems=["hosting"]
            )

    results = together([opening, opening])
    assert all(isinstance(r, dict | ConflictError) for r in results), results
    story.proc.catch_up()
    listed = story.service("grete").list()["breaches"]
    references = [b["reference"] for b in listed]
    assert len(references) == len(set(references)), references
    assert story.proc.ledger.verify().ok


# -- bad input -------------------------------------------------------------------------------


def _bad_inputs(story: Story) -> list[tuple[int, tuple[str, ...], str]]:
    b = story.both
    opening = ("breaches", "open", "--kind", "confidentiality")
    return [
        (2, (*opening, "--nature", ""), "grete"),
        (2, (*opening, "--nature", "   "), "grete"),
        (2, (*opening, "--nature", "x" * 10_001), "grete"),
        (2, (*opening, "--nature", "x", "--aware-at", "2026-02-30T10:00"), "grete"),
        (2, (*opening, "--nature", "x", "--aware-at", "2999-01-01T00:00:00+00:00"), "grete"),
        (2, (*opening, "--nature", "x", "--discovered-at", BAD), "grete"),
        (2, (*opening, "--nature", "x", "--occurred", "2026-01-02..2026-01-01"), "grete"),
        (2, (*opening, "--nature", "x", "--occurred", "yesterday"), "grete"),
        (2, (*opening, "--nature", "x", "--occurred", f"{BAD}.."), "grete"),
        (2, (*opening, "--nature", "x", "--occurred", "..2999-12-31T00:00:00+00:00"), "grete"),
        (2, (*opening, "--nature", "x", "--occurred", "2999-01-01T00:00:00+00:00.."), "grete"),
        (2, ("breaches", "update", b, "--occurred", "..2999-12-31T00:00:00+00:00"), "grete"),
        (2, (*opening, "--nature", "x", "--system", "subprocessor:"), "grete"),
        (2, (*opening, "--nature", "x", "--system", "controller:"), "grete"),
        (2, (*opening, "--nature", "x", "--system", "controller:nobody-here"), "grete"),
        (2, (*opening, "--nature", "x", "--system", f"controller:{BAD}"), "grete"),
        (2, (*opening, "--nature", "x", "--system", "subprocessor:No Such Carrier ApS"), "grete"),
        (2, (*opening, "--nature", "x", "--contact-point", "y" * 10_001), "grete"),
        (2, ("breaches", "show", ""), "grete"),
        (2, ("breaches", "show", BAD), "grete"),
        (2, ("breaches", "show", str(uuid.uuid4())), "grete"),
        (2, ("breaches", "show", "9" * 5000), "grete"),
        (2, ("breaches", "impact", str(uuid.uuid4())), "grete"),
        (2, ("breaches", "notify", b, "--controller", "nobody-here"), "grete"),
        (2, ("breaches", "notify", b, "--controller", BAD), "grete"),
        (2, ("breaches", "notify", b), "grete"),
        (
            2,
            ("breaches", "notify", b, "--controller", "acme", "--consequences", "c" * 10_001),
            "grete",
        ),
        (2, ("breaches", "update", b), "grete"),
        (2, ("breaches", "update", b, "--measure", ""), "grete"),
        (2, ("breaches", "update", b, "--measure", "x", "--measure-at", "31/12/2026"), "grete"),
        (2, ("breaches", "update", b, "--status", "not-a-breach"), "grete"),
        (2, ("breaches", "update", b, "--status", "closed"), "grete"),
        (2, ("breaches", "close", b, "--review", ""), "grete"),
        (
            2,
            (
                "breaches",
                "authority-notice",
                b,
                "--controller",
                "acme",
                "--at",
                "soon",
                "--authority",
                "Datatilsynet",
            ),
            "alice",
        ),
        (
            2,
            (
                "breaches",
                "authority-notice",
                b,
                "--controller",
                "acme",
                "--at",
                "2999-01-01T00:00:00+00:00",
                "--authority",
                "Datatilsynet",
            ),
            "alice",
        ),
        (
            2,
            (
                "breaches",
                "authority-notice",
                b,
                "--controller",
                "acme",
                "--at",
                T0.isoformat(),
                "--authority",
                "",
            ),
            "alice",
        ),
        (
            2,
            (
                "breaches",
                "authority-notice",
                b,
                "--controller",
                "acme",
                "--at",
                T0.isoformat(),
                "--not-required",
            ),
            "alice",
        ),
        (2, ("breaches", "subjects-notice", b, "--controller", "acme"), "alice"),
        (
            2,
            (
                "breaches",
                "subjects-notice",
                b,
                "--controller",
                "acme",
                "--exception",
                "d",
                "--justification",
                "x",
            ),
            "alice",
        ),
        (
            2,
            (
                "breaches",
                "subjects-notice",
                b,
                "--controller",
                "acme",
                "--notified",
                "--channel",
                "e-mail",
                "--at",
                BAD,
            ),
            "alice",
        ),
        (
            2,
            (
                "breaches",
                "subjects-notice",
                b,
                "--controller",
                "acme",
                "--notified",
                "--channel",
                "",
                "--at",
                T0.isoformat(),
            ),
            "alice",
        ),
        (2, ("breaches", "timeline", b, "--format", "pdf"), "grete"),
        (2, ("breaches", "list", "--controller", "nobody-here"), "grete"),
    ]


def test_bad_input_is_one_line_exit_2_and_stores_nothing__BR_4(story: Story):
    """Malformed times, unknown ids, empty and huge values, control characters: exit 2 with one
    `error:` line (the CLI contract checked by `Cli.run`), no control character echoed, and not
    one event stored.
    """
    env = story.env()
    wrong = []
    for code, argv, user in _bad_inputs(story):
        before = stored(story.proc)
        result = story.cli.run(*argv, user=user, env=env)
        story.proc.catch_up()
        if result.exit_code != code or stored(story.proc) != before:
            wrong.append(
                (argv[:6], result.exit_code, stored(story.proc) - before, result.stderr[:200])
            )
        assert "\x1b" not in result.stderr and "\x07" not in result.stderr, argv
        assert all(value not in result.stderr for value in PLANTED)
    assert not wrong, wrong


def test_unknown_ids_over_the_python_api_are_not_found__BR_2(story: Story):
    """The service itself (as the HTTP layer calls it) answers unknown or malformed ids 404-like."""
    grete = story.service("grete")
    for bad in ("", "   ", BAD, "x" * 10_000, str(uuid.uuid4())):
        with pytest.raises(NotFoundError):
            grete.show(bad)
    with pytest.raises(ProcessorError):
        grete.notify(story.both, controllers=["nobody-here"])
