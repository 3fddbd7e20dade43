"""Erasure receipts over HTTP carry no free text (RET-5, SUBJ-4), and still verify offline."""

from __future__ import annotations

import json

from http_helpers import TestClient
from opengdpr_client import Client

from ledger import Verifier, verify_receipt
from processor.api.app import create_app

REASON = "Jane Roe rang on 2026-12-01 and asked to be forgotten"
DOMAIN = "processor.test"


def test_erase_answer_and_reissued_receipt_hold_no_reason__RET_5__SUBJ_4(api):
    """POST erase answers a receipt without the reason; the reissued one neither; both verify."""
    cid = api.add("alice", "jane.roe@example.com")
    r = api.as_("alice", "POST", "/v1/controllers/acme/erase",
                json={"contact": cid, "reason": REASON})  # fmt: skip
    assert r.status_code == 200, r.text
    assert REASON not in r.text
    again = api.as_("alice", "GET", f"/v1/receipts/erasure/{cid}")
    assert again.status_code == 200
    assert REASON not in again.text
    vkey = api.client.get("/.well-known/processor-ledger.pub").text.strip()
    for receipt in (r.json(), again.json()):
        verified = verify_receipt(receipt, Verifier.from_vkey(vkey))
        assert verified.record.leaf_hash().hex() == receipt["metadata"]["leaf_hash"]


def test_opengdpr_erasure_status_receipt_holds_no_reason__RET_5__SUBJ_4(desk, settings, clock):
    """A completed OpenGDPR erasure's receipt does not repeat the request's reason text."""
    app = create_app(settings, clock=clock, opengdpr={"domain": DOMAIN})
    with TestClient(app, raise_server_exceptions=False) as http:
        client = Client(http, desk.issued["alice"], DOMAIN)
        client.discovery()
        r = http.post("/v1/controllers/acme/contacts",
                      headers={"Authorization": f"Bearer {desk.issued['alice']}"},
                      json={"list": "news", "email": "gone@example.com",
                            "consent": "email:double-opt-in"})  # fmt: skip
        assert r.status_code == 201, r.text
        _, answer = client.submit(client.request_body("erasure", "gone@example.com", []))
        app.state.opengdpr.idle()
        _, status = client.status(answer["subject_request_id"])
    receipt = status["extensions"][DOMAIN]["receipt"]
    assert receipt["metadata"]["details"]["contact_id"] == r.json()["contact_id"]
    assert "OpenGDPR erasure request" not in json.dumps(status)
