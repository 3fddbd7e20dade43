"""Every free text is sealed, and reads `[erased]` once its key is gone (RET-3, RET-5).

One scenario plants a distinctive value ("Zorblax-<field>") in every free-text field the command
line accepts, shows each one can be read back by whoever may read it, then erases the subject
and sweeps the controller's deletion. Afterwards the text of the erased subject and of the
deleted controller reads `[erased]`, processor-wide text is still readable, and none of the
values rests anywhere in plaintext: not in any file of the data directory (WAL files included),
not in any PostgreSQL table. The deletion certificate is checked claim by claim against the
events, also after a database administrator marks a live contact erased in the read model.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from support import login

from processor.domain.ids import controller_id
from processor.kernel.errors import AccessDeniedError, RefusedError
from processor.keys.freetext import ERASED_TEXT, open_for_subject, open_records
from processor.keys.keystore import shredded_subjects, subject_keys
from processor.keys.sealing import records_subject
from processor.readmodels import tables as t
from processor.services.profile import ConsentInput, clean_profile
from subprocessors import SubProcessorDetails

EFFECTIVE = date(2026, 3, 12)  # ten days after the fixtures' START (2026-03-02 09:00)
SUBJECT_EMAIL = "anne.quixote@example.dk"

# Every free-text option of the command line, by the name its planted value carries.
SUBJECT_FIELDS = (
    "contacts-restrict--reason",
    "contacts-unrestrict--reason",
    "contacts-object--reason",
    "contacts-import-FILE",
    "erase--reason",
)
CONTROLLER_FIELDS = (
    "controllers-instruct--text",
    "access-request--reason",
    "access-deny--reason",
    "access-revoke--reason",
    "subprocessors-object--reason",
    "controllers-terminate--legal-ground",
    "controllers-withdraw-termination--reason",
    "controllers-terminate--return-to",
    "users-unlock--note",  # of a controller's user: the controller's records
)
PROCESSOR_FIELDS = (
    "users-review--note",
    "users-revoke--reason",
    "subprocessors-supervise--finding",
    "subprocessors-retire--reason",
)


def planted(field: str) -> str:
    """The distinctive value planted in one field."""
    return f"Zorblax-{field}"


def _day(d: date, hour: int = 9) -> datetime:
    return datetime(d.year, d.month, d.day, hour, tzinfo=UTC)


def _tokens(proc, qualname: str, attr: str) -> list[tuple[Any, str]]:
    """(event, stored value) of every event of this class, read from the event store."""
    found = []
    start = 1
    while notes := proc.store.recorder.select_notifications(start=start, limit=500):
        for note in notes:
            event = proc.store.mapper.to_domain_event(note)
            if type(event).__qualname__ == qualname:
                found.append((event, getattr(event, attr)))
        start = notes[-1].id + 1
    return found


def _add_subject(proc) -> str:
    """Import the subject from a file whose name is planted; returns the contact id."""
    alice = login(proc, "alice")
    data = f"email,first_name\n{SUBJECT_EMAIL},Anne\nother@example.dk,Otto\n".encode()
    source = f"import:{planted('contacts-import-FILE')}.csv"
    alice.imports.import_csv("acme", io.BytesIO(data), "news", "double-opt-in", source=source)
    return str(alice.contacts.find("acme", SUBJECT_EMAIL)["contact_id"])


def _plant(proc, clock) -> dict[str, Any]:
    """Plant every field; returns what later checks need."""
    sam, grete, alice = login(proc, "sam"), login(proc, "grete"), login(proc, "alice")
    sam.users.add("sven", "support", confidentiality_signed="2026-01-05", trained="2026-01-06")
    cid = _add_subject(proc)
    for action in ("restrict", "unrestrict", "object"):
        alice.contacts.set_state(action, "acme", cid, planted(f"contacts-{action}--reason"))
    alice.controllers.instruct("acme", "general", planted("controllers-instruct--text"))
    sven = login(proc, "sven")
    denied = sven.access.request("acme", planted("access-request--reason"))
    alice.access.decide(denied["grant"], approve=False, reason=planted("access-deny--reason"))
    granted = sven.access.request("acme", planted("access-request--reason"))
    alice.access.decide(granted["grant"], approve=True)
    sven.access.revoke(granted["grant"], planted("access-revoke--reason"))
    grete.subprocessors.propose(
        SubProcessorDetails(
            name="Delta Mail ApS",
            address="Østergade 1, 5000 Odense C",
            country="DK",
            activities=("email",),
            basis="eea",
            registration="CVR 11223344",
            agreement_ref="SPA-2026-1",
            agreement_date=date(2026, 2, 1),
            beneficiary_clause=True,
        )
    )
    alice.subprocessors.object_to("Delta Mail ApS", "acme", planted("subprocessors-object--reason"))
    grete.subprocessors.supervise(
        "Team.Blue Denmark A/S", "questionnaire", planted("subprocessors-supervise--finding")
    )
    grete.subprocessors.retire("Dropbox Inc.", planted("subprocessors-retire--reason"))
    mia = login(proc, "mia")
    for _ in range(5):
        with pytest.raises(AccessDeniedError):
            mia.erasure.erase("acme", "x", email=SUBJECT_EMAIL)
    grete.staff.unlock("mia", planted("users-unlock--note"))
    grete.staff.review("sven", planted("users-review--note"))
    grete.staff.revoke("sven", planted("users-revoke--reason"))
    alice.lifecycle.terminate(
        "acme",
        EFFECTIVE.isoformat(),
        "retain",
        legal_ground=planted("controllers-terminate--legal-ground"),
        retain_until=(EFFECTIVE + timedelta(days=400)).isoformat(),
    )
    due = grete.retention.due()
    held = next(d for d in due["held"] if d["controller"] == "acme")
    alice.lifecycle.withdraw("acme", planted("controllers-withdraw-termination--reason"))
    alice.lifecycle.terminate(
        "acme",
        EFFECTIVE.isoformat(),
        "return",
        return_to=planted("controllers-terminate--return-to"),
    )
    return {"contact": cid, "held": held}


def _readable(proc, cid: str, held: dict[str, Any]) -> dict[str, str]:
    """Each planted field as whoever may read it reads it now (through its command, or the event)."""
    alice, grete = login(proc, "alice"), login(proc, "grete")
    got: dict[str, str] = {}
    for qualname, action in (
        ("Contact.ProcessingRestricted", "restrict"),
        ("Contact.RestrictionLifted", "unrestrict"),
        ("Contact.ProcessingObjectedTo", "object"),
    ):
        for _e, token in _tokens(proc, qualname, "reason"):
            got[f"contacts-{action}--reason"] = open_for_subject(proc.sealer, cid, "reason", token)
    for e, token in _tokens(proc, "Contact.ContactAdded", "source"):
        if str(e.originator_id) == cid:
            got["contacts-import-FILE"] = open_for_subject(proc.sealer, cid, "source", token)
    for _e, token in _tokens(proc, "Contact.ContactErased", "reason"):
        if str(_e.originator_id) == cid:
            got["erase--reason"] = open_for_subject(proc.sealer, cid, "erasure-reason", token)
    show = login(proc, "sam").controllers.show("acme")
    got["controllers-instruct--text"] = show["instructions"][0]["text"]
    log = grete.access.log(controller="acme")
    got["access-request--reason"] = next(r["reason"] for r in log if r["kind"] == "requested")
    got["access-deny--reason"] = next(r["reason"] for r in log if r["kind"] == "denied")
    got["access-revoke--reason"] = next(r["reason"] for r in log if r["kind"] == "revoked")
    mine = alice.subprocessors.listing()
    delta = next((r for r in mine["subprocessors"] if r["name"] == "Delta Mail ApS"), None)
    staff_view = grete.subprocessors.listing()["subprocessors"]
    objections = next(r for r in staff_view if r["name"] == "Delta Mail ApS")["objections"]
    got["subprocessors-object--reason"] = objections[0]["reason"]
    if delta is not None:
        assert delta["objection"]["reason"] == objections[0]["reason"]
    team_blue = next(r for r in staff_view if r["name"] == "Team.Blue Denmark A/S")
    got["subprocessors-supervise--finding"] = team_blue["supervisions"][0]["finding"]
    for _e, token in _tokens(proc, "SubProcessor.SubProcessorRetired", "reason"):
        got["subprocessors-retire--reason"] = open_records(
            proc.sealer, None, "retire-reason", token
        )
    got["controllers-terminate--legal-ground"] = held["legal_ground"]
    for _e, token in _tokens(proc, "Controller.TerminationWithdrawn", "reason"):
        got["controllers-withdraw-termination--reason"] = open_records(
            proc.sealer, "acme", "termination-withdrawal-reason", token
        )
    got["controllers-terminate--return-to"] = str(
        login(proc, "alice").lifecycle.termination_texts(
            login(proc, "sam").controllers.get("acme")
        )["return_to"]
    )
    for purpose, qualname, attr, field in (
        ("unlock-note", "User.UserUnlocked", "note", "users-unlock--note"),
        ("review-note", "User.UserReviewed", "note", "users-review--note"),
        ("user-revocation-reason", "User.UserAccessRevoked", "reason", "users-revoke--reason"),
    ):
        for _e, token in _tokens(proc, qualname, attr):
            if token:
                owner = "acme" if field == "users-unlock--note" else None
                got[field] = open_records(proc.sealer, owner, purpose, token)
    return got


def _needles() -> list[bytes]:
    return [b"Zorblax", b"zorblax", "Zorblax".encode("utf-16-le")]


def _scan_files(data_dir) -> list[str]:
    hits = []
    for path in sorted(p for p in data_dir.rglob("*") if p.is_file()):
        content = path.read_bytes()
        hits += [f"{path.name}: {n!r}" for n in _needles() if n in content]
    return hits


def _scan_postgres(schemas: list[str]) -> list[str]:
    from support import pg_engine

    engine = pg_engine()
    hits = []
    try:
        with engine.connect() as conn:
            for schema in schemas:
                tables = conn.execute(
                    sa.text(
                        "SELECT table_name FROM information_schema.tables WHERE table_schema=:s"
                    ),
                    {"s": schema},
                ).scalars()
                for table in list(tables):
                    for row in conn.execute(sa.text(f'SELECT * FROM "{schema}"."{table}"')):
                        for value in row:
                            blob = (
                                bytes(value)
                                if isinstance(value, bytes | memoryview)
                                else str(value).encode()
                            )
                            hits += [f"{schema}.{table}" for n in _needles() if n in blob]
    finally:
        engine.dispose()
    return hits


def test_every_free_text_is_sealed_and_reads_erased_after_erasure_and_deletion__RET_3__RET_5(
    acme, clock, settings, backend, tmp_path
):
    """Planted in every free-text field, each value reads back, then none rests in plaintext."""
    state = _plant(acme, clock)
    cid = state["contact"]
    alice, grete = login(acme, "alice"), login(acme, "grete")
    alice.erasure.erase("acme", planted("erase--reason"), contact=cid)
    before = _readable(acme, cid, state["held"])
    everything = (*SUBJECT_FIELDS, *CONTROLLER_FIELDS, *PROCESSOR_FIELDS)
    assert set(before) == set(everything)
    for field in (*CONTROLLER_FIELDS, *PROCESSOR_FIELDS):
        assert before[field] == planted(field), field
    # The subject's own text went with its key, in the erasure's own command.
    for field in SUBJECT_FIELDS:
        assert before[field] == ERASED_TEXT, field

    manifest = alice.returns.write("acme", tmp_path / "acme-return")
    assert manifest["return_to"] == planted("controllers-terminate--return-to")
    clock.set(_day(EFFECTIVE + timedelta(days=200)))
    grete.retention.sweep()
    after = _readable(acme, cid, {"legal_ground": ERASED_TEXT})
    for field in CONTROLLER_FIELDS:
        assert after[field] == ERASED_TEXT, field
    for field in PROCESSOR_FIELDS:
        assert after[field] == planted(field), field

    if backend == "sqlite":
        assert any(p.name.endswith("-wal") for p in settings.data_dir.iterdir())
        assert _scan_files(settings.data_dir) == []
        acme.close()
        assert _scan_files(settings.data_dir) == []
    else:
        schemas = [settings.events_location().schema, settings.keystore_location().schema]
        assert _scan_postgres(schemas) == []
        assert _scan_files(settings.data_dir) == []


def test_the_free_text_scan_would_find_a_planted_value(tmp_path):
    """Guard: the scanner finds a planted value, so a clean scan means something."""
    (tmp_path / "planted.bin").write_bytes(b"xx" + planted("erase--reason").encode() + b"yy")
    assert _scan_files(tmp_path)


# -- the deletion certificate (RET-3, issue 11) ------------------------------------------------


def _terminated_and_due(proc, clock, n: int = 3) -> list[str]:
    alice = login(proc, "alice")
    data = "email\n" + "".join(f"c{i}@example.dk\n" for i in range(n))
    alice.imports.import_csv("acme", io.BytesIO(data.encode()), "news", "double-opt-in")
    ids = [str(alice.contacts.find("acme", f"c{i}@example.dk")["contact_id"]) for i in range(n)]
    alice.lifecycle.terminate("acme", EFFECTIVE.isoformat())
    clock.set(_day(EFFECTIVE + timedelta(days=200)))
    return ids


def _check_every_claim(proc, cert: dict[str, Any]) -> None:
    """Each claim of the certificate, recomputed from the events and the key store."""
    details = cert["metadata"]["details"]
    ref = details["controller"]
    added = [
        e for e, _ in _tokens(proc, "Contact.ContactAdded", "controller") if e.controller == ref
    ]
    ids = {str(e.originator_id) for e in added}
    erasures = {
        str(e.originator_id): e for e, _ in _tokens(proc, "Contact.ContactErased", "reason")
    }
    assert ids and ids <= set(erasures), "a contact of the controller has no erasure event"
    keys = proc.keys.subject_keys([*ids, records_subject(ref)])
    assert all(key is None for key in keys.values()), "a key the certificate claims gone is alive"
    assert details["subjects_made_unreadable"]["total"] == len(ids)
    batches = [
        e
        for e, _ in _tokens(proc, "SweepRun.SweepBatchCompleted", "controller")
        if e.controller == ref and e.scope == "controller"
    ]
    assert details["subjects_made_unreadable"]["by_this_deletion"] == sum(
        b.contacts for b in batches
    )
    assert details["events_made_unreadable"] == sum(b.contact_events + b.messages for b in batches)
    deleted = [
        e
        for e, _ in _tokens(proc, "Controller.PersonalDataDeleted", "rule")
        if e.originator_id == controller_id(ref)
    ]
    assert len(deleted) == 1
    event = deleted[0]
    assert details["deleted_at"] == event.timestamp.isoformat()
    assert (details["rule"], details["why"], details["sweep_run"]) == (
        event.rule,
        event.why,
        event.sweep_run,
    )
    assert details["records_key_destroyed"] is True
    positions = details["evidence"]["erasure_events"]
    assert len(positions) == len(ids)
    for position in positions:
        note = proc.store.recorder.select_notifications(start=position, limit=1)[0]
        erased = proc.store.mapper.to_domain_event(note)
        assert type(erased).__qualname__ == "Contact.ContactErased"
        assert str(erased.originator_id) in ids


def test_each_claim_of_a_deletion_certificate_is_proven_by_the_events__RET_3(acme, clock):
    """Subjects, erasures, keys, rule and run in the certificate match the events one by one."""
    ids = _terminated_and_due(acme, clock)
    alice, grete = login(acme, "alice"), login(acme, "grete")
    alice.erasure.erase("acme", "asked", contact=ids[0])
    grete.retention.sweep()
    cert = alice.retention.certificate("acme")
    details = cert["metadata"]["details"]
    assert details["subjects_made_unreadable"] == {
        "by_this_deletion": 2,
        "erased_earlier": 1,
        "total": 3,
    }
    _check_every_claim(acme, cert)


def test_a_contact_marked_erased_in_the_read_model_is_still_swept__RET_3(acme, clock):
    """`UPDATE rm_contacts SET erased=1` on a live contact neither hides it from the sweep nor
    from the certificate: the sweep decides from the events, and erases it.
    """
    ids = _terminated_and_due(acme, clock)
    with acme.engines.readmodels.begin() as conn:
        conn.execute(
            t.contacts.update().where(t.contacts.c.contact_id == ids[1]).values(erased=True)
        )
    login(acme, "grete").retention.sweep()
    agg = acme.store.repository.get(controller_id("acme"))
    assert agg.data_deleted_at is not None
    keys = acme.keys.subject_keys(ids)
    assert keys[ids[1]] is None, "the tampered contact's key survived the sweep"
    assert _tokens(acme, "Contact.ContactErased", "reason")
    erased = {str(e.originator_id) for e, _ in _tokens(acme, "Contact.ContactErased", "reason")}
    assert set(ids) <= erased
    cert = login(acme, "alice").retention.certificate("acme")
    assert cert["metadata"]["details"]["subjects_made_unreadable"]["total"] == 3
    _check_every_claim(acme, cert)


def test_a_certificate_ignores_the_read_model_and_needs_the_deletion_event__RET_3(acme, clock):
    """Un-marking an erased contact in the read model changes no claim; without the
    `PersonalDataDeleted` event there is no certificate at all.
    """
    ids = _terminated_and_due(acme, clock)
    alice = login(acme, "alice")
    with pytest.raises(RefusedError, match="not deleted"):
        alice.retention.certificate("acme")
    login(acme, "grete").retention.sweep()
    with acme.engines.readmodels.begin() as conn:
        conn.execute(
            t.contacts.update().where(t.contacts.c.contact_id == ids[0]).values(erased=False)
        )
    cert = alice.retention.certificate("acme")
    assert cert["metadata"]["details"]["subjects_made_unreadable"]["total"] == 3
    _check_every_claim(acme, cert)


def _contact_recorded_after_the_sweep(proc) -> str:
    """A contact of the controller whose `ContactAdded` lands after the sweep (a writer that
    raced it), with no erasure event: the events no longer prove "every contact erased".
    """
    alice = login(proc, "alice")
    profile = clean_profile(proc.policies.fields, {"email": "late@example.dk"}, require_email=True)
    consent = ConsentInput.parse("email:double-opt-in:form")
    with proc.using_clock():
        contact = alice.contacts.new_contact("acme", profile, "news", consent, "import")
        proc.commit(contact)
    return f"contact {contact.id} has no erasure event"


def _records_key_put_back(proc, saved: dict[str, Any]) -> str:
    """The controller's records key restored into the key store (an old key backup, by SQL)."""
    with proc.keys.engine.begin() as conn:
        conn.execute(subject_keys.insert().values(**saved))
        conn.execute(
            shredded_subjects.delete().where(shredded_subjects.c.subject_id == saved["subject_id"])
        )
    proc.end_command()
    return f"the key of {records_subject('acme')} is not destroyed"


@pytest.mark.parametrize("unproven", ["late-contact", "records-key-back"])
def test_a_certificate_the_events_do_not_prove_is_refused__RET_3(acme, clock, unproven):
    """`CertificateMustBeProvenByEvents`: once a claim of the certificate (every contact erased,
    every key destroyed) stops holding, the certificate is refused naming the first unproven
    claim; while every claim held, the certificate was issued.
    """
    _terminated_and_due(acme, clock)
    with acme.keys.engine.connect() as conn:
        saved = dict(
            conn.execute(
                sa.select(subject_keys).where(subject_keys.c.subject_id == records_subject("acme"))
            )
            .one()
            ._asdict()
        )
    login(acme, "grete").retention.sweep()
    alice = login(acme, "alice")
    assert alice.retention.certificate("acme")["kind"] == "deletion-certificate"
    if unproven == "late-contact":
        claim = _contact_recorded_after_the_sweep(acme)
    else:
        claim = _records_key_put_back(acme, saved)
    alice = login(acme, "alice")
    with pytest.raises(RefusedError, match="no certificate can claim it") as refused:
        alice.retention.certificate("acme")
    assert refused.value.rule == "CertificateMustBeProvenByEvents"
    assert claim in str(refused.value)
    assert "late@example.dk" not in str(refused.value)


def test_a_grant_can_be_revoked_with_a_reason_after_the_controllers_deletion__ACC_2(backend):
    """Withdrawing access is never refused: the reason is kept under the processor's key."""
    from datetime import timedelta

    from support import UNDERTAKING, fresh_store, login

    with fresh_store(backend) as proc:
        login(proc, "sam").users.add(
            "sven", "support", confidentiality_signed=UNDERTAKING[0], trained=UNDERTAKING[1]
        )
        grant = login(proc, "sven").access.request("acme", "ticket 7", [], 8)["grant"]
        login(proc, "alice").access.decide(grant, approve=True)
        login(proc, "alice").lifecycle.terminate(
            "acme", proc.now().date().isoformat(), instruction="delete"
        )
        proc.clock.advance(timedelta(hours=1))
        login(proc, "grete").retention.sweep()
        revoked = login(proc, "grete").access.revoke(grant, "ticket closed")
        assert revoked["state"] == "revoked"
