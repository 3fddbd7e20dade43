"""The events decide who is erased, whatever the key store says (RET-5, AUD-4, SUBJ-4).

The attack of issue 23 section 3, as a database administrator with SQL access and no keys does
it: he saves a contact's key row before its erasure, and afterwards inserts the row again and
deletes the tombstone. The key store alone would then open the erased contact as before; the
recorded `ContactErased` (MAC-checked, signed by the ledger) must win.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
import sqlalchemy as sa
from cli_helpers import Cli, new_tenant
from custodian_support import make_token, with_custodian
from support import UNDERTAKING, login, sign_agreement

from processor.domain.contacts import Contact
from processor.integrity.doctor import run_doctor
from processor.integrity.keycheck import ALIVE_FOR_ERASED
from processor.kernel.errors import IntegrityFailureError, NotFoundError
from processor.keys.keystore import shredded_subjects, subject_keys
from processor.keys.sealing import ERASED
from processor.readmodels import tables as t
from processor.readmodels.rebuild import rebuild
from processor.services.setup import initialise

EMAIL = "resurrected.person@example.dk"


def saved_key_row(proc: Any, subject: str) -> dict[str, Any]:
    """The subject's key row as a database administrator would save it (no key needed)."""
    with proc.keys.engine.connect() as conn:
        row = conn.execute(sa.select(subject_keys).where(subject_keys.c.subject_id == subject))
        return dict(row.one()._asdict())


def put_key_back(proc: Any, row: dict[str, Any]) -> None:
    """Insert the saved key row again and delete the tombstone, by SQL (the attack)."""
    with proc.keys.engine.begin() as conn:
        conn.execute(subject_keys.insert().values(**row))
        conn.execute(
            shredded_subjects.delete().where(shredded_subjects.c.subject_id == row["subject_id"])
        )


def _erased_with_key_put_back(proc: Any) -> str:
    alice = login(proc, "alice")
    cid = str(
        alice.contacts.add("acme", "news", EMAIL, "email:form:signup", first_name="Resa")[
            "contact_id"
        ]
    )
    row = saved_key_row(proc, cid)
    alice.erasure.erase("acme", "Art. 17 request", contact=cid)
    put_key_back(proc, row)
    proc.end_command()
    assert not proc.keys.is_shredded(cid)  # the key store alone now says "alive"
    return cid


def test_key_put_back_after_erasure_makes_show_and_export_fail_naming_doctor__RET_5__AUD_4(acme):
    """Show and export of a contact whose key came back exit 3 naming the doctor, and print nothing."""
    cid = _erased_with_key_put_back(acme)
    alice = login(acme, "alice")
    with pytest.raises(IntegrityFailureError, match="processor doctor") as shown:
        alice.contacts.show("acme", cid)
    assert EMAIL not in str(shown.value)
    assert "\n" not in str(shown.value)
    out = io.StringIO()
    with pytest.raises(IntegrityFailureError, match="processor doctor"):
        alice.exports.export("acme", out, contact=cid)
    assert EMAIL not in out.getvalue()
    # Found by nobody: the erasure left no blind index, and none is derived again.
    with pytest.raises(NotFoundError):
        alice.contacts.find("acme", EMAIL)


@pytest.fixture
def acme_in_softhsm(settings, clock, tmp_path_factory):
    """A store whose wrapping key lives in a SoftHSM2 token (the PKCS#11 custodian)."""
    token = make_token(tmp_path_factory.getbasetemp() / "softhsm")
    proc = initialise(
        with_custodian(settings, "pkcs11", token),
        gdpa="grete",
        system_manager="sam",
        gdpa_undertaking=UNDERTAKING,
        manager_undertaking=UNDERTAKING,
        clock=clock,
    )
    login(proc, "sam").controllers.register(
        "acme", "Acme A/S", "DK", "paying", "scc", admin="alice"
    )
    sign_agreement(proc, "acme")
    yield proc
    proc.close()


@pytest.mark.pkcs11
def test_key_put_back_fails_the_read_with_a_pkcs11_custodian_too__RET_5__AUD_4(acme_in_softhsm):
    """The same attack on a SoftHSM2-backed store: the events still win over the key store."""
    cid = _erased_with_key_put_back(acme_in_softhsm)
    with pytest.raises(IntegrityFailureError, match="processor doctor") as shown:
        login(acme_in_softhsm, "alice").contacts.show("acme", cid)
    assert EMAIL not in str(shown.value)


def test_key_put_back_and_read_model_relisted_still_fails_export_and_lists__RET_5__AUD_4(acme):
    """With the read model edited to list the contact again, `export --all` and lists fail too."""
    cid = _erased_with_key_put_back(acme)
    with acme.engines.readmodels.begin() as conn:
        conn.execute(t.contacts.update().where(t.contacts.c.contact_id == cid).values(erased=False))
        conn.execute(
            t.memberships.update().where(t.memberships.c.contact_id == cid).values(subscribed=True)
        )
    alice = login(acme, "alice")
    out = io.StringIO()
    with pytest.raises(IntegrityFailureError, match="processor doctor"):
        alice.exports.export("acme", out, everything=True)
    assert EMAIL not in out.getvalue()
    with pytest.raises(IntegrityFailureError, match="processor doctor"):
        alice.contacts.list_members("acme", "news")


def test_key_put_back_is_never_used_by_the_projector_and_the_doctor_names_it__RET_5__AUD_4(acme):
    """`doctor` reports the key that came back; a rebuild derives no index from it."""
    cid = _erased_with_key_put_back(acme)
    report = run_doctor(login(acme, "grete").session)
    assert [
        (f["problem"], f["key"].split(" ")[0])
        for f in report["findings"]
        if f["check"] == "keystore"
    ] == [(ALIVE_FOR_ERASED, cid)]
    rebuild(acme.projector)
    with acme.engines.readmodels.connect() as conn:
        row = conn.execute(
            sa.select(t.contacts.c.email_index, t.contacts.c.erased).where(
                t.contacts.c.contact_id == cid
            )
        ).one()
    assert row.email_index is None and row.erased


def test_an_erasure_not_yet_applied_reads_as_erased_without_alarm__RET_5__SUBJ_4(acme):
    """An erasure stored but not yet applied (the command died): the live key opens nothing."""
    alice = login(acme, "alice")
    cid = str(alice.contacts.add("acme", "news", EMAIL, "email:form:signup")["contact_id"])
    agg = alice.contacts.load("acme", cid)
    with acme.using_clock():
        erased = Contact.erasure_event(
            agg.id, agg.version, actor="alice", reason="", policy_version=acme.policies.version
        )
    acme.store.events.put([erased])  # stored, but neither projected nor its key destroyed
    acme.end_command()
    assert not acme.keys.is_shredded(cid)
    assert acme.sealer.open(cid, "profile", agg.profile) is ERASED
    # The next command signs and applies the erasure, which destroys the key as it should.
    shown = alice.contacts.show("acme", cid)
    assert shown["erased"] is True and shown["fields"] == str(ERASED)
    assert EMAIL not in json.dumps(shown)
    assert acme.keys.is_shredded(cid)


# -- the command line ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def runner(shared: Cli) -> Cli:
    """One store per backend for the command-line tests: conftest's `shared`, by this name."""
    return shared


def test_cli_show_and_export_exit_3_naming_doctor_after_the_key_came_back__RET_5__AUD_4(
    runner: Cli,
):
    """`contacts show` and `export` exit 3 with one line naming `processor doctor`; doctor finds it."""
    tenant = new_tenant(runner)
    cid = tenant.add(EMAIL)
    kept = tenant.add("kept@example.dk")
    proc = runner.open()
    try:
        row = saved_key_row(proc, cid)
    finally:
        proc.close()
    runner.ok("erase", tenant.ref, "--contact", cid, "--reason", "asked", user=tenant.admin)
    proc = runner.open()
    try:
        put_key_back(proc, row)
    finally:
        proc.close()
    for argv in (["contacts", "show", tenant.ref, cid], ["export", tenant.ref, "--contact", cid]):
        line = runner.fails(3, *argv, user=tenant.admin)
        assert "processor doctor" in line and EMAIL not in line, line
    # The others still read, and the whole export leaves the erased contact out.
    assert runner.ok("contacts", "show", tenant.ref, kept, user=tenant.admin)["contact_id"] == kept
    assert EMAIL not in runner.text("export", tenant.ref, "--all", user=tenant.admin)
    result = runner.run("doctor", user="grete", as_json=True)
    assert result.exit_code == 3
    found = json.loads(result.stdout)["findings"]
    assert any(f["problem"] == ALIVE_FOR_ERASED and f["key"].startswith(cid) for f in found)
