"""Red team of the HTTP API (ACC-8, ACC-9, ACC-12, BR-3, AUD-1, SUBJ-4), on SQLite and PostgreSQL.

Through the real ASGI app: a processor support user, and one controller's administrator
after another controller's breaches, audit report and OpenGDPR requests, results and
callbacks; a database administrator forging a callback URL and a request status; errors and
logs searched for planted personal values. (The one API failure found, the timeline of a shared
breach showing other controllers' steps, was fixed while these tests were written.)
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from http_helpers import Api, TestClient
from opengdpr_client import Client
from redteam_support import insert_unkeyed
from support import login

from processor.api.app import create_app
from processor.api.opengdpr.domain import (
    OpenGdprRegister,
    OpenGdprRequest,
    register_id,
    request_id,
)
from processor.breaches.service import BreachesService

DOMAIN = "processor.test"
OPTIONS = {"domain": DOMAIN, "backoff": (0.05, 0.1), "timeout": 2.0}
PLANTED_EMAIL = "zorblattine.quixmirebeck@example.dk"
PLANTED = (PLANTED_EMAIL, "Zorblattine", "Quixmirebeck", "99887766")


@pytest.fixture
def red(desk, settings, clock):
    """The app over acme (alice) and beta (bob), a planted acme subject, two breaches: one of
    both controllers, one of acme only, both notified.
    """
    alice = login(desk, "alice")
    alice.contacts.add("acme", "news", PLANTED_EMAIL, "email:double-opt-in", phone="+4599887766",
                       first_name="Zorblattine", last_name="Quixmirebeck")  # fmt: skip
    login(desk, "bob").contacts.add("beta", "news", "b@example.net", "email:double-opt-in")
    grete = BreachesService(login(desk, "grete").session)
    both = grete.open(kinds=["confidentiality"], nature="Backup leaked",
                      systems=["controller:acme", "controller:beta"])["id"]  # fmt: skip
    grete.notify(both, all_affected=True)
    mine = grete.open(kinds=["confidentiality"], nature="Laptop lost",
                      systems=["controller:acme"])["id"]  # fmt: skip
    grete.notify(mine, controllers=["acme"])
    app = create_app(settings, clock=clock, opengdpr=OPTIONS)
    with TestClient(app, raise_server_exceptions=False) as http:
        yield Api(desk, http), both, mine


def _no_planted(r) -> None:
    assert not [v for v in PLANTED if v in r.text], r.text[:400]


# -- a support user ----------------------------------------------------------------------------


def test_http_support_reads_no_breach_report_or_export__BR_3__AUD_1(red):
    """Sven (processor support) gets 403 for the register, a breach, its export and the report."""
    api, both, _ = red
    for url in (
        "/v1/breaches",
        f"/v1/breaches/{both}",
        f"/v1/breaches/{both}/timeline?format=svg",
        f"/v1/breaches/{both}/export-subjects?controller=acme",
        "/v1/audit/report?format=json",
        "/v1/audit/report?format=json&controller=acme",
    ):
        r = api.as_("sven", "GET", url)
        assert r.status_code == 403, (url, r.status_code, r.text[:200])
        assert r.json()["rule"] == "RoleMustGrantPermission"
        _no_planted(r)
        api.proc.clock.advance(timedelta(minutes=4))


# -- one controller after another's data --------------------------------------------------------


def test_http_another_controllers_breach_is_404__BR_3(red):
    """Bob gets 404 for acme's own breach in every form, and for acme's part of a shared one."""
    api, both, mine = red
    for url in (
        f"/v1/breaches/{mine}",
        f"/v1/breaches/{mine}/timeline?format=json",
        f"/v1/breaches/{mine}/export-subjects?controller=beta",
        f"/v1/breaches/{uuid.uuid4()}",
    ):
        r = api.as_("bob", "GET", url)
        assert r.status_code == 404, (url, r.status_code, r.text[:200])
    shown = api.as_("bob", "GET", f"/v1/breaches/{both}")
    assert shown.status_code == 200
    assert "acme" not in shown.text
    listed = api.as_("bob", "GET", "/v1/breaches")
    assert listed.status_code == 200 and mine not in listed.text and "acme" not in listed.text


def test_http_timeline_of_a_shared_breach_names_no_other_controller__BR_3(red):
    """Bob's timeline of the shared breach (text, JSON, SVG) has no step or clock of acme."""
    api, both, _ = red
    for fmt in ("text", "json", "svg"):
        r = api.as_("bob", "GET", f"/v1/breaches/{both}/timeline?format={fmt}")
        assert r.status_code == 200
        assert "acme" not in r.text, r.text[:600]


def test_http_report_of_another_controller_is_404__AUD_1(red):
    """Bob asking for acme's audit report gets 404, as for any id of another controller."""
    api, _, _ = red
    r = api.as_("bob", "GET", "/v1/audit/report?format=json&controller=acme")
    assert r.status_code == 404, (r.status_code, r.text[:200])


def test_http_report_of_another_controller_is_refused_and_recorded__AUD_1(red):
    """Whatever its status, bob's request for acme's report is refused and holds nothing of it."""
    api, _, _ = red
    r = api.as_("bob", "GET", "/v1/audit/report?format=json&controller=acme")
    assert r.status_code in (403, 404)
    assert "application/problem+json" in r.headers["content-type"]
    _no_planted(r)
    own = api.as_("bob", "GET", "/v1/audit/report?format=json&controller=beta")
    assert own.status_code == 200
    _no_planted(own)


# -- OpenGDPR across controllers ----------------------------------------------------------------


def _clients(api: Api) -> tuple[Client, Client]:
    alice = Client(api.client, api.proc.issued["alice"], DOMAIN)
    bob = Client(api.client, api.proc.issued["bob"], DOMAIN)
    alice.discovery()
    bob.discovery()
    return alice, bob


def test_opengdpr_requests_of_another_controller_are_404__SUBJ_4(red):
    """Bob cannot read, cancel or fetch the results of acme's request, nor register acme's
    callback URLs, nor name acme's subject by e-mail or by acme's contact id.
    """
    api, _, _ = red
    alice, bob = _clients(api)
    code, answer = alice.submit(alice.request_body("access", PLANTED_EMAIL, []))
    assert code == 201, answer
    srid = answer["subject_request_id"]
    assert bob.status(srid)[0] == 404
    assert bob.cancel(srid)[0] == 404
    r = api.as_("bob", "GET", f"/opengdpr_requests/{srid}/results")
    assert r.status_code == 404
    _no_planted(r)
    r = api.as_("bob", "PUT", "/v1/controllers/acme/opengdpr/callbacks",
                json={"status_callback_urls": ["https://evil.example/hook"]})  # fmt: skip
    assert r.status_code in (403, 404), r.text
    before = list(api.proc.store.events.get(request_id("beta", srid)))
    assert before == []
    # Accepted without saying whether beta holds such a subject; acme's subject is untouched.
    code, answer = bob.submit(bob.request_body("erasure", PLANTED_EMAIL, []))
    assert code in (201, 400, 404), answer
    assert PLANTED_EMAIL not in json.dumps(answer)
    contact = login(api.proc, "alice").contacts.find("acme", PLANTED_EMAIL)["contact_id"]
    body = bob.request_body("erasure", PLANTED_EMAIL, [])
    body["subject_identities"] = [
        {"identity_type": "controller_customer_id", "identity_value": contact,
         "identity_format": "raw"}
    ]  # fmt: skip
    code, answer = bob.submit(body)
    assert code in (201, 400, 404), answer
    api.client.app.state.opengdpr.idle()
    shown = login(api.proc, "alice").contacts.show("acme", contact)
    assert not shown.get("erased"), "beta erased acme's subject"


def test_callbacks_go_only_to_safe_registered_urls__SUBJ_4(red):
    """Callback URLs: only https (http on loopback), registered by the controller itself; a
    request naming an unregistered URL is refused (403) and nothing of it is stored.
    """
    api, _, _ = red
    alice, _ = _clients(api)
    for url in (
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.5/hook",
        "file:///etc/passwd",
        "gopher://example.com/",
        "https://",
        "javascript:alert(1)",
        "x" * 5000,
    ):
        r = api.as_("alice", "PUT", "/v1/controllers/acme/opengdpr/callbacks",
                    json={"status_callback_urls": [url]})  # fmt: skip
        assert r.status_code in (400, 422), (url, r.status_code, r.text[:200])
    body = alice.request_body("access", PLANTED_EMAIL, ["https://attacker.example/collect"])
    code, answer = alice.submit(body)
    assert code == 403 and answer["rule"] == "CallbackUrlMustBeRegistered", answer
    assert list(api.proc.store.events.get(request_id("acme", body["subject_request_id"]))) == []


# -- personal data in errors and logs -----------------------------------------------------------


def test_errors_and_logs_echo_no_personal_value__ACC_12(red, capfd):
    """Errors of bad requests (unknown e-mail, bad ids, bad dates, another controller's subject)
    hold no stored personal value, and the server's log holds no request value at all.
    """
    api, both, _ = red
    alice, _ = _clients(api)
    answers = [
        api.as_("alice", "GET", "/v1/controllers/acme/contacts",
                params={"email": "nobody.zorblattine@example.dk"}),
        api.as_("alice", "GET", f"/v1/breaches/{PLANTED_EMAIL}"),
        api.as_("alice", "GET", f"/v1/breaches/{both}/timeline?format={PLANTED_EMAIL}"),
        api.as_("alice", "GET", f"/v1/audit/report?format=json&controller=acme&from={PLANTED_EMAIL}"),
        api.as_("alice", "GET", f"/opengdpr_requests/{PLANTED_EMAIL}"),
        api.as_("alice", "POST", "/v1/access", json={"controller": "acme", "reason": PLANTED_EMAIL}),
        api.client.get("/v1/breaches", headers={"Authorization": f"Bearer {PLANTED_EMAIL}"}),
    ]  # fmt: skip
    code, answer = alice.submit(alice.request_body("erasure", "nobody.zorblattine@example.dk", []))
    assert code in (201, 400, 404)
    assert "zorblattine" not in json.dumps(answer)
    api.client.app.state.opengdpr.idle()
    for r in answers:
        assert r.status_code >= 400, r.text[:200]
        # A malformed value may be quoted back to its sender (dates); a stored one never is.
        assert not [v for v in ("Quixmirebeck", "99887766") if v in r.text], r.text[:300]
    r = api.as_("bob", "GET", "/v1/controllers/acme/contacts", params={"email": PLANTED_EMAIL})
    assert r.status_code == 404 and "zorblattine" not in r.text.lower(), r.text[:300]
    r = api.as_("alice", "GET", f"/v1/breaches/{PLANTED_EMAIL}")
    assert "zorblattine" not in r.text.lower(), "a breach id that is no id is not echoed"
    out, err = capfd.readouterr()
    assert "zorblattine" not in (out + err).lower()
    assert api.proc.issued["alice"] not in out + err


# -- a database administrator without keys ----------------------------------------------------


def _erasures(proc) -> int:
    notes = proc.store.recorder.select_notifications(start=1, limit=1_000_000)
    return sum(1 for n in notes if "ContactErased" in n.topic)


def test_forged_callback_url_and_status_are_never_trusted__SUBJ_4__AUD_4(red):
    """A DBA registers an attacker's callback URL and turns a completed request back to
    `pending`, by SQL without the MAC key: no request is accepted for that URL, nothing is
    sent there, the status is never shown as forged, and the ledger fails verification.
    """
    api, _, _ = red
    alice, _ = _clients(api)
    code, answer = alice.submit(alice.request_body("access", PLANTED_EMAIL, []))
    assert code == 201, answer
    api.client.app.state.opengdpr.idle()
    srid = answer["subject_request_id"]
    proc = api.proc
    proc.catch_up()
    erased_before = _erasures(proc)
    register = proc.find(register_id("acme"))
    request = proc.find(request_id("acme", srid))
    assert isinstance(register, OpenGdprRegister) and isinstance(request, OpenGdprRequest)
    with proc.using_clock():
        register.register_callbacks(actor="alice", urls=["http://127.0.0.1:9/attacker"])
        request._status_changed(
            actor="alice", status="pending", outcome="", receipt_position=None,
            results_until=None,
        )  # fmt: skip
    insert_unkeyed(proc, register)
    insert_unkeyed(proc, request)
    code, answer = alice.submit(alice.request_body("erasure", PLANTED_EMAIL,
                                                   ["http://127.0.0.1:9/attacker"]))  # fmt: skip
    assert code != 201, answer
    code, status = alice.status(srid)
    assert code != 200 or status["request_status"] != "pending", status
    assert not proc.ledger.verify().ok
    assert _erasures(proc) == erased_before, "the forged registration let an erasure through"


def test_only_a_controllers_administrator_files_or_reads_requests__SUBJ_4__ACC_9(red):
    """Processor staff and a controller's marketing user neither file nor read OpenGDPR requests."""
    api, _, _ = red
    alice, _ = _clients(api)
    code, answer = alice.submit(alice.request_body("access", PLANTED_EMAIL, []))
    assert code == 201, answer
    srid = answer["subject_request_id"]
    for name in ("sven", "grete", "mia"):
        other = Client(api.client, api.proc.issued[name], DOMAIN)
        other.discovery()
        code, refused = other.submit(other.request_body("erasure", PLANTED_EMAIL, []))
        assert code == 403, (name, refused)
        code, refused = other.status(srid)
        assert code in (403, 404), (name, refused)
        assert PLANTED_EMAIL not in json.dumps(refused)
        api.proc.clock.advance(timedelta(minutes=8))
