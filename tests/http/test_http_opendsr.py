"""OpenDSR 2.0 beside OpenGDPR: one request register under both protocols, signed answers, and
idempotent resubmission (SUBJ-4, SUBJ-6). The client-driven tests of `test_http_opengdpr.py` run
under both protocols too; these are the behaviours that only exist with two.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import urlsplit

import pytest
from http_helpers import Api, TestClient
from opengdpr_client import BadSignatureError, CallbackServer, Client
from test_http_opengdpr import DOMAIN, OPTIONS, _events, _register

from processor.api.app import create_app
from processor.api.opengdpr.domain import OpenGdprRegister, OpenGdprRequest, register_id

OTHER = {"opengdpr": "opendsr", "opendsr": "opengdpr"}


@pytest.fixture
def both(desk, settings, clock):
    """The app, with a spec client per protocol for alice (acme's administrator); requests
    wait a grace period, so they stay pending (and cancellable) until the test idles.
    """
    app = create_app(settings, clock=clock, opengdpr={**OPTIONS, "grace_seconds": 1.0})
    with TestClient(app, raise_server_exceptions=False) as http:
        api = Api(desk, http)
        clients = {
            p: Client(http, desk.issued["alice"], DOMAIN, p) for p in ("opengdpr", "opendsr")
        }
        for client in clients.values():
            client.discovery()
        yield api, clients, app.state.opengdpr


def _filed(api: Api, controller: str = "acme") -> int:
    register = api.proc.find(register_id(controller))
    return len(register.requests) if isinstance(register, OpenGdprRegister) else 0


def test_discovery_names_the_versions_and_regulations_served__SUBJ_4(both):
    """Each discovery states its own protocol's version (2.0 for OpenDSR, not OpenGDPR's 0.1),
    both versions served, and the one regulation processed; each is signed with its headers.
    """
    api, clients, _ = both
    dsr, gdpr = clients["opendsr"].discovery(), clients["opengdpr"].discovery()
    assert dsr["api_version"] == "2.0"
    assert gdpr["api_version"] == "0.1"
    for found in (dsr, gdpr):
        assert found["supported_api_versions"] == ["2.0", "0.1"]
        assert found["supported_regulations"] == ["gdpr"]
    r = api.client.get("/v2/discovery")
    assert "X-OpenGDPR-Signature" not in r.headers  # OpenDSR answers carry OpenDSR's headers
    with pytest.raises(BadSignatureError):
        clients["opengdpr"].verified(r.headers, r.content)
    # The specification's own examples name `/v1/...`: the same answer is served there too.
    v1 = api.client.get("/v1/discovery")
    assert v1.status_code == 200 and v1.json() == r.json()
    assert clients["opendsr"].verified(v1.headers, v1.content) is not None


def test_a_request_submitted_over_opendsr_is_the_same_request_over_opengdpr__SUBJ_4(both):
    """A request received over OpenDSR is found, and cancelled, over OpenGDPR: one aggregate,
    one filing; each protocol answers with its own api_version; callbacks carry both headers
    with one signature, and follow the protocol the request came over.
    """
    api, clients, service = both
    dsr, gdpr = clients["opendsr"], clients["opengdpr"]
    with CallbackServer() as hook:
        _register(api, hook.url)
        code, answer = dsr.submit(dsr.request_body("erasure", "both@example.com", [hook.url]))
        assert code == 201, answer
        srid = answer["subject_request_id"]
        _, over_gdpr = gdpr.status(srid)
        _, over_dsr = dsr.status(srid)
        assert over_gdpr["request_status"] == over_dsr["request_status"] == "pending"
        assert (over_gdpr["api_version"], over_dsr["api_version"]) == ("0.1", "2.0")
        code, _ = gdpr.cancel(srid)
        assert code == 202
        assert dsr.status(srid)[1]["request_status"] == "cancelled"
        service.idle()
        assert hook.statuses(dsr) == ["pending", "cancelled"]
        assert hook.statuses(gdpr) == ["pending", "cancelled"]
        headers, body = hook.received[0]
        assert headers["X-OpenDSR-Signature"] == headers["X-OpenGDPR-Signature"]
        assert json.loads(body)["api_version"] == "2.0"
    events = _events(api, "acme", srid)
    assert events.count("OpenGdprRequestReceived") == 1
    assert _filed(api) == 1
    request = api.proc.find(OpenGdprRequest.create_id("acme", srid))
    assert (request.regulation, request.protocol) == ("gdpr", "opendsr")


@pytest.mark.parametrize("protocol", ["opengdpr", "opendsr"])
def test_results_and_cancel_answers_are_signed__SUBJ_4__SUBJ_6(both, protocol):
    """The results of an access request come with the protocol's signature header over the
    whole body; a cancellation's answer is signed in the headers and its processor_signature
    signs the cancellation as received. A tampered body fails the check.
    """
    api, clients, service = both
    client = clients[protocol]
    api.add("alice", "look.me@example.com")
    _, answer = client.submit(client.request_body("access", "look.me@example.com", []))
    service.idle()
    _, status = client.status(answer["subject_request_id"])
    code, export = client.results(status["results_url"])
    assert code == 200
    assert export["contacts"][0]["fields"]["email"] == "look.me@example.com"
    r = api.client.get(urlsplit(status["results_url"]).path, headers=client.headers)
    with pytest.raises(BadSignatureError):
        client.verified(r.headers, r.content.replace(b"look.me", b"look.mf"))
    _, pending = client.submit(client.request_body("erasure", "look.me@example.com", []))
    code, cancelled = client.cancel(pending["subject_request_id"])  # verifies both signatures
    assert code == 202
    raw = base64.b64decode(cancelled["encoded_request"])
    assert raw.startswith(f"DELETE {client.requests}/".encode())


@pytest.mark.parametrize("protocol", ["opengdpr", "opendsr"])
def test_resubmitting_the_same_request_is_idempotent__SUBJ_4(both, protocol):
    """The same request again, over the same or the other protocol, is answered 201 with the
    original acknowledgement and records nothing; a different request under the same id is
    refused (403), and records nothing either.
    """
    api, clients, _ = both
    client, other = clients[protocol], clients[OTHER[protocol]]
    body = client.request_body("erasure", "twice@example.com", [])
    code, first = client.submit(body)
    assert code == 201
    srid = first["subject_request_id"]
    before = _events(api, "acme", srid)
    code, again = client.submit(body)
    assert code == 201, again
    for name in ("received_time", "expected_completion_time", "processor_signature"):
        assert again[name] == first[name]
    code, across = other.submit({**other.request_body("erasure", "twice@example.com", []),
                                 "subject_request_id": srid})  # fmt: skip
    assert code == 201, across
    assert across["received_time"] == first["received_time"]
    assert across["api_version"] == other.api_version
    code, problem = client.submit({**body, "subject_request_type": "access"})
    assert code == 403
    assert problem["rule"] == "SubjectRequestIdMustNameOneRequest"
    assert "subject_request_type" in problem["detail"]
    assert _events(api, "acme", srid) == before == ["OpenGdprRequestReceived"]
    assert _filed(api) == 1


def test_a_regulation_we_do_not_process_is_refused__SUBJ_4(both):
    """OpenDSR requires `regulation`: without it 422, with one we do not process 400 in one
    line; either way nothing is recorded. OpenGDPR requests, which have no such field, are GDPR.
    """
    api, clients, _ = both
    dsr, gdpr = clients["opendsr"], clients["opengdpr"]
    ccpa = {**dsr.request_body("erasure", "ca@example.com", []), "regulation": "ccpa"}
    code, problem = dsr.submit(ccpa)
    assert code == 400
    assert problem["detail"] == "regulation 'ccpa' is not processed here: only gdpr"
    missing = dsr.request_body("erasure", "ca@example.com", [])
    del missing["regulation"]
    assert dsr.submit(missing)[0] == 422
    assert gdpr.submit({**ccpa, "api_version": "0.1"})[0] == 400
    assert _filed(api) == 0
    code, answer = gdpr.submit(gdpr.request_body("erasure", "eu@example.com", []))
    assert code == 201
    request = api.proc.find(OpenGdprRequest.create_id("acme", answer["subject_request_id"]))
    assert (request.regulation, request.protocol) == ("gdpr", "opengdpr")


def test_requests_recorded_before_opendsr_load_as_gdpr_over_opengdpr__SUBJ_4():
    """An `OpenGdprRequestReceived` stored before `regulation` and `protocol` existed (the
    mapper sets a stored event's attributes without calling its constructor) loads with the
    defaults: a GDPR request received over OpenGDPR.
    """
    request = OpenGdprRequest(
        actor="alice", controller="acme", subject_request_id="a7551968-d5d6-44b2-9831-815ac9017798",
        subject_request_type="erasure", right="erasure", submitted_time="2018-10-02T15:00:00Z",
        expected_completion_time="2018-11-01T15:00:00Z", status_callback_urls=[],
        api_version="0.1", contact_id=None, identity_types=["email"], policy_version="1",
    )  # fmt: skip
    received = request.collect_events()[0]
    stored = {k: v for k, v in received.__dict__.items() if k not in ("regulation", "protocol")}
    old = object.__new__(type(received))
    old.__dict__.update(stored)
    loaded = old.mutate(None)
    assert (loaded.regulation, loaded.protocol) == ("gdpr", "opengdpr")
