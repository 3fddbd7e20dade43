"""OpenGDPR and OpenDSR 2.0 over HTTP, checked by a client written from the spec (SUBJ-4, SUBJ-6,
RET-3). Every client-driven test runs once per protocol (`protocol` fixture), on both backends.
"""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from http_helpers import Api, TestClient
from opengdpr_client import BadSignatureError, CallbackServer, Client

from ledger import Verifier, verify_receipt
from processor.api.app import create_app
from processor.api.opengdpr.domain import OpenGdprRequest, request_id

DOMAIN = "processor.test"
# The callback endpoints of these tests listen on loopback: allowed here, as an operator would.
OPTIONS = {"domain": DOMAIN, "backoff": (0.05, 0.1), "timeout": 2.0,
           "callback_allow": ("127.0.0.0/8", "::1/128")}  # fmt: skip


@pytest.fixture(params=["opengdpr", "opendsr"])
def protocol(request):
    """The protocol the spec client speaks: OpenGDPR's routes and headers, or OpenDSR 2.0's."""
    return request.param


@pytest.fixture
def gdpr(desk, settings, clock, protocol):
    """The app with its OpenGDPR domain, and a spec client for alice (acme's administrator)."""
    app = create_app(settings, clock=clock, opengdpr=OPTIONS)
    with TestClient(app, raise_server_exceptions=False) as http:
        api = Api(desk, http)
        client = Client(http, desk.issued["alice"], DOMAIN, protocol)
        client.discovery()
        yield api, client, app.state.opengdpr


def _register(api: Api, *urls: str, name: str = "alice", controller: str = "acme") -> None:
    r = api.as_(name, "PUT", f"/v1/controllers/{controller}/opengdpr/callbacks",
                json={"status_callback_urls": list(urls)})  # fmt: skip
    assert r.status_code == 200, r.text


def _events(api: Api, controller: str, srid: str) -> list[str]:
    return [type(e).__name__ for e in api.proc.store.events.get(request_id(controller, srid))]


def test_discovery_is_signed_and_names_the_key__SUBJ_4(gdpr):
    """Discovery lists our types and identities, signed by the key it points to."""
    api, client, _ = gdpr
    found = client.discovery()
    assert found["supported_subject_request_types"] == ["access", "portability", "erasure"]
    assert {"identity_type": "email", "identity_format": "raw"} in found["supported_identities"]
    r = api.client.get(client.discovery_path)
    tampered = r.content.replace(b"erasure", b"erasurf")
    with pytest.raises(BadSignatureError):
        client.verified(r.headers, tampered)


def test_erasure_completes_with_a_signed_receipt_and_signed_callbacks__RET_3__SUBJ_4(gdpr):
    """An erasure request erases the subject, completes with our receipt, and every status
    change is an event and a signed callback to the registered URL.
    """
    api, client, service = gdpr
    cid = api.add("alice", "erase.me@example.com")
    with CallbackServer() as hook:
        _register(api, hook.url)
        code, answer = client.submit(
            client.request_body("erasure", "erase.me@example.com", [hook.url])
        )
        assert code == 201, answer
        assert answer["controller_id"] == "acme"
        service.idle()
        code, status = client.status(answer["subject_request_id"])
        assert status["request_status"] == "completed"
        receipt = status["extensions"][DOMAIN]["receipt"]
        vkey = api.client.get("/.well-known/processor-ledger.pub").text.strip()
        assert verify_receipt(receipt, Verifier.from_vkey(vkey)).kind == "erasure"
        assert receipt["metadata"]["details"]["contact_id"] == cid
        assert hook.statuses(client) == ["pending", "in_progress", "completed"]
    shown = api.as_("alice", "GET", f"/v1/controllers/acme/contacts/{cid}").json()
    assert shown["erased"] is True
    events = _events(api, "acme", answer["subject_request_id"])
    assert events[0] == "OpenGdprRequestReceived"
    assert sum(e.endswith("StatusChanged") for e in events) == 2
    assert sum(e.endswith("CallbackAttempted") for e in events) == 3


def test_access_results_are_for_the_requesting_controller_only_and_expire__SUBJ_6(gdpr, clock):
    """An access request completes with a results_url: acme may fetch it, beta may not, and
    after the results lifetime nobody can.
    """
    api, client, service = gdpr
    api.add("alice", "see.me@example.com")
    code, answer = client.submit(client.request_body("access", "see.me@example.com", []))
    assert code == 201
    service.idle()
    _, status = client.status(answer["subject_request_id"])
    assert status["request_status"] == "completed"
    path = urlsplit(status["results_url"]).path
    assert path.startswith(f"{client.requests}/")  # the protocol's own results path
    code, export = client.results(status["results_url"])  # signed: verified before parsing
    assert code == 200
    assert export["contacts"][0]["fields"]["email"] == "see.me@example.com"
    assert api.as_("bob", "GET", path).status_code == 404
    clock.advance(timedelta(days=8))
    late = api.as_("alice", "GET", path)
    assert late.status_code == 403
    assert late.json()["rule"] == "ResultsMustNotHaveExpired"


def test_unregistered_callback_urls_are_refused__SUBJ_4(gdpr):
    """A callback URL the administrator did not register is refused; nothing is recorded.
    Registering takes https URLs only (plain http on loopback alone), and only administrators.
    """
    api, client, _ = gdpr
    r = api.as_("alice", "PUT", "/v1/controllers/acme/opengdpr/callbacks",
                json={"status_callback_urls": ["http://controller.example/hook"]})  # fmt: skip
    assert r.status_code == 400
    r = api.as_("mia", "PUT", "/v1/controllers/acme/opengdpr/callbacks",
                json={"status_callback_urls": ["https://controller.example/hook"]})  # fmt: skip
    assert r.status_code == 403
    body = client.request_body("erasure", "x@example.com", ["http://127.0.0.1:9/elsewhere"])
    code, problem = client.submit(body)
    assert code == 403
    assert problem["rule"] == "CallbackUrlMustBeRegistered"
    assert _events(api, "acme", body["subject_request_id"]) == []


def test_callbacks_are_retried_with_backoff_and_every_attempt_recorded__SUBJ_4(gdpr):
    """A failing controller endpoint gets the callback again; each attempt is an event."""
    api, client, service = gdpr
    with CallbackServer(failures=2) as hook:
        _register(api, hook.url)
        _, answer = client.submit(client.request_body("access", "nobody@example.com", [hook.url]))
        service.idle()
        assert hook.statuses(client) == ["pending", "in_progress", "completed"]
    request = api.proc.find(request_id("acme", answer["subject_request_id"]))
    assert isinstance(request, OpenGdprRequest)
    assert request.attempts == 5  # two refused, then three delivered
    assert request.outcome == "no-matching-subject"


def test_cancel_a_pending_request_then_nothing_happens__SUBJ_4(desk, settings, clock, protocol):
    """DELETE cancels a pending request (202, signed); after the grace period it is still not
    fulfilled; cancelling twice is refused.
    """
    app = create_app(settings, clock=clock, opengdpr={**OPTIONS, "grace_seconds": 1.5})
    with TestClient(app, raise_server_exceptions=False) as http:
        api = Api(desk, http)
        client = Client(http, desk.issued["alice"], DOMAIN, protocol)
        client.discovery()
        cid = api.add("alice", "keep.me@example.com")
        _, answer = client.submit(client.request_body("erasure", "keep.me@example.com", []))
        srid = answer["subject_request_id"]
        assert client.status(srid)[1]["request_status"] == "pending"
        code, cancelled = client.cancel(srid)
        assert code == 202
        assert cancelled["subject_request_id"] == srid
        assert client.status(srid)[1]["request_status"] == "cancelled"
        again, problem = client.cancel(srid)
        assert again == 403
        assert problem["rule"] == "OpenGdprRequestMustBePending"
        app.state.opengdpr.idle()  # the grace period is over: the worker looked, and did nothing
        assert client.status(srid)[1]["request_status"] == "cancelled"
        shown = api.as_("alice", "GET", f"/v1/controllers/acme/contacts/{cid}").json()
        assert shown["erased"] is False


def test_other_controllers_request_ids_are_404__SUBJ_4(gdpr):
    """Bob cannot see or cancel acme's request: its id is unknown to him."""
    api, client, service = gdpr
    _, answer = client.submit(client.request_body("access", "n@example.com", []))
    service.idle()
    bob = Client(api.client, api.proc.issued["bob"], DOMAIN, client.protocol)
    bob.discovery()
    assert bob.status(answer["subject_request_id"])[0] == 404
    assert bob.cancel(answer["subject_request_id"])[0] == 404
    assert bob.status(str(uuid.uuid4()))[0] == 404


def test_rectification_under_extensions__SUBJ_4(gdpr):
    """Our other rights go under extensions: a rectification changes the named fields."""
    api, client, service = gdpr
    cid = api.add("alice", "fix.me@example.com")
    body = client.request_body("access", "fix.me@example.com", [],
                               extensions={DOMAIN: {"right": "rectification",
                                                    "fields": {"first_name": "Fixed"}}})  # fmt: skip
    code, answer = client.submit(body)
    assert code == 201, answer
    service.idle()
    _, status = client.status(answer["subject_request_id"])
    assert status["extensions"][DOMAIN]["outcome"] == "rectified"
    assert "results_url" not in status
    shown = api.as_("alice", "GET", f"/v1/controllers/acme/contacts/{cid}").json()
    assert shown["fields"]["first_name"] == "Fixed"


def test_hashed_identities_are_refused_clearly__SUBJ_4(gdpr):
    """A sha256 identity cannot be matched against our keyed blind index: 400, one line."""
    _, client, _ = gdpr
    body = client.request_body("erasure", "x@example.com", [])
    body["subject_identities"][0]["identity_format"] = "sha256"
    body["subject_identities"][0]["identity_value"] = base64.b16encode(b"x" * 32).decode()
    code, problem = client.submit(body)
    assert code == 400
    assert "no supported identity" in problem["detail"]
