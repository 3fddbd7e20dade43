"""Exploring the API must not lock the controller's only administrator (issue 25; ACC-8, ACC-14).

Only what signals misuse counts towards the lockout: a wrong credential, a permission the role
lacks, another controller's data. A mistyped controller id (no such controller) and a business
refusal (a duplicate OpenGDPR request id, cancelling a completed request) are recorded as refusals
but count for nothing.
"""

from __future__ import annotations

import pytest
from http_helpers import Api, TestClient
from opengdpr_client import Client
from support import login

from processor.api.app import create_app
from processor.domain.ids import user_id

DOMAIN = "processor.test"
OPTIONS = {"domain": DOMAIN, "backoff": (0.05, 0.1), "timeout": 2.0}


@pytest.fixture
def gdpr(desk, settings, clock):
    app = create_app(settings, clock=clock, opengdpr=OPTIONS)
    with TestClient(app, raise_server_exceptions=False) as http:
        api = Api(desk, http)
        client = Client(http, desk.issued["alice"], DOMAIN)
        client.discovery()
        yield api, client


def _locked(api: Api, name: str) -> bool:
    user = api.proc.store.events.get(user_id(name))
    return any(type(e).__name__ == "UserLocked" for e in user)


def test_typos_and_business_refusals_do_not_lock_the_administrator__ACC_8(gdpr):
    api, client = gdpr
    for typo in ("acmee", "acm", "ACME", "acme-dk", "acme_"):
        r = api.as_("alice", "GET", f"/v1/controllers/{typo}/messages/usage")
        assert r.status_code == 404, r.text
    body = client.request_body("erasure", "nobody@example.com", [])
    client.submit(body)
    for _ in range(3):
        code, _problem = client.submit(body)
        assert code in (200, 201, 202, 403, 409)
    assert not _locked(api, "alice")
    assert api.as_("alice", "GET", "/v1/controllers/acme/messages/usage").status_code == 200


def test_probing_another_controller_still_locks_and_names_who_unlocks__ACC_8__ACC_14(gdpr):
    """Five tries at an existing controller's data lock the user; acme's notice names the GDPA
    who unlocks and, alice being acme's only administrator, says no colleague can rotate for her.
    """
    api, _client = gdpr
    for _ in range(5):
        r = api.as_("alice", "GET", "/v1/controllers/beta/messages/usage")
        assert r.status_code == 404
    assert _locked(api, "alice")
    api.proc.catch_up()
    (notice,) = [
        n
        for n in login(api.proc, "grete").notices.list(controller="acme")
        if n["kind"] == "suspected-misuse"
    ]
    assert "Only the processor's GDPA (grete) can unlock a user" in notice["body"]
    assert "alice is the only active administrator of acme" in notice["body"]
    assert "--role administrator --controller acme" in notice["body"]
