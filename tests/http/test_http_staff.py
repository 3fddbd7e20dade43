"""Support staff, grants, notices, sub-processors and the public ledger over HTTP.

ACC-5 (pseudonymised views), ACC-4/ACC-6 (grants and logged reveals), ACC-14 (notices),
SUB-3 (objections), AUD-4 (public ledger proofs).
"""

from __future__ import annotations

import json

from support import login
from test_subprocessors_app import details

from ledger import Verifier, parse_checkpoint


def test_support_view_grant_approve_reveal_and_log__ACC_4__ACC_5__ACC_6(api):
    """Sven sees pseudonyms; alice approves his grant; the reveal is logged with its reason."""
    api.add("alice", "secret.person@example.com")
    unasked = api.as_("sven", "GET", "/v1/controllers/acme/support-view",
                      params={"list": "news", "case": "T-1", "reason": "bounces"})  # fmt: skip
    assert unasked.status_code == 403
    assert unasked.json()["rule"] == "SupportNeedsTheControllersOpenRequest"
    api.as_("alice", "POST", "/v1/controllers/acme/instructions",
            json={"kind": "support-request", "text": "look at T-1", "case": "T-1"})  # fmt: skip
    view = api.as_("sven", "GET", "/v1/controllers/acme/support-view",
                   params={"list": "news", "case": "T-1", "reason": "bounces"})  # fmt: skip
    assert view.status_code == 200, view.text
    assert "secret.person" not in view.text
    pseudonym = view.json()["items"][0]["pseudonym"]
    grant = api.as_("sven", "POST", "/v1/access",
                    json={"controller": "acme", "reason": "ticket 42", "contacts": [pseudonym],
                          "hours": 2}).json()  # fmt: skip
    assert grant["state"] == "pending"
    early = api.as_("sven", "POST", f"/v1/access/{grant['grant']}/reveal",
                    json={"pseudonym": pseudonym})  # fmt: skip
    assert early.status_code == 403
    approved = api.as_("alice", "POST", f"/v1/access/{grant['grant']}/approve")
    assert approved.json()["state"] == "approved"
    shown = api.as_("sven", "POST", f"/v1/access/{grant['grant']}/reveal",
                    json={"pseudonym": pseudonym})  # fmt: skip
    assert shown.json()["fields"]["email"] == "secret.person@example.com"
    log = api.as_("alice", "GET", "/v1/access/log").json()
    revealed = [e for e in log["items"] if e["kind"] == "revealed"]
    assert [(e["actor"], e["reason"]) for e in revealed] == [("sven", "ticket 42")]
    viewed = [e for e in log["items"] if e["kind"] == "viewed"]
    assert [(e["actor"], e["reason"], e["detail"]["case"]) for e in viewed] == [
        ("sven", "bounces", "T-1")
    ]
    closed = api.as_("alice", "POST", "/v1/controllers/acme/support-cases/close",
                     params={"case": "T-1"})  # fmt: skip
    assert closed.status_code == 200, closed.text
    again = api.as_("sven", "GET", "/v1/controllers/acme/support-view",
                    params={"case": "T-1", "reason": "once more"})  # fmt: skip
    assert again.status_code == 403


def test_bob_cannot_decide_acmes_grant__ACC_9(api):
    """Another controller's grant id is unknown to bob: 404, and nothing is decided."""
    grant = api.as_("sven", "POST", "/v1/access", json={"controller": "acme", "reason": "t"}).json()
    r = api.as_("bob", "POST", f"/v1/access/{grant['grant']}/deny", json={"reason": "no"})
    assert r.status_code == 404
    assert (
        login(api.proc, "alice").access.describe(
            login(api.proc, "alice").access.load(grant["grant"])
        )["state"]
        == "pending"
    )


def _lock_out(api, name: str) -> None:
    """Five wrong secrets for `name`'s credential id: locked, and their controller is told."""
    forged = api.proc.issued[name].rsplit("_", 1)[0] + "_" + "A" * 43
    for _ in range(5):
        r = api.client.get("/v1/notices", headers={"Authorization": f"Bearer {forged}"})
        assert r.status_code == 401


def test_notices_list_and_acknowledge_once__ACC_14(api):
    """A lockout is a notice to acme; alice acknowledges it once; beta's is not hers to see."""
    _lock_out(api, "mia")
    _lock_out(api, "bob")
    page = api.as_("alice", "GET", "/v1/notices", params={"unacknowledged": "true"}).json()
    assert [n["controller"] for n in page["items"]] == ["acme"]
    notice = page["items"][0]["notice_id"]
    done = api.as_("alice", "POST", f"/v1/notices/{notice}/ack")
    assert done.status_code == 200
    assert done.json()["acknowledged_by"] == "alice"
    twice = api.as_("alice", "POST", f"/v1/notices/{notice}/ack")
    assert twice.status_code == 403
    assert twice.json()["rule"] == "NoticeIsAcknowledgedOnce"
    everyone = api.as_("grete", "GET", "/v1/notices").json()["items"]
    betas = [n for n in everyone if n["controller"] == "beta"]
    r = api.as_("alice", "POST", f"/v1/notices/{betas[0]['notice_id']}/ack")
    assert r.status_code == 404


def test_notices_page_with_a_cursor__ACC_14(api):
    """Lists are paginated with a cursor; a forged cursor is invalid input, not a crash."""
    for name in ("mia", "ben", "bob"):
        _lock_out(api, name)
    first = api.as_("grete", "GET", "/v1/notices", params={"limit": 2}).json()
    assert len(first["items"]) == 2
    rest = api.as_("grete", "GET", "/v1/notices",
                   params={"limit": 2, "cursor": first["next_cursor"]}).json()  # fmt: skip
    assert len(rest["items"]) == 1
    assert rest["next_cursor"] is None
    ids = {n["notice_id"] for n in first["items"] + rest["items"]}
    assert len(ids) == 3
    bad = api.as_("grete", "GET", "/v1/notices", params={"cursor": "!!"})
    assert bad.status_code == 400


def test_subprocessor_list_and_objection__SUB_3(api):
    """Bob objects for beta over HTTP; alice cannot object on beta's behalf (404)."""
    login(api.proc, "grete").subprocessors.propose(details())
    listing = api.as_("bob", "GET", "/v1/subprocessors", params={"controller": "beta"})
    assert listing.status_code == 200
    assert "Delta Mail ApS" in listing.text
    r = api.as_("bob", "POST", "/v1/subprocessors/Delta Mail ApS/object",
                json={"controller": "beta", "reason": "we keep e-mail in-house"})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["controller"] == "beta"
    r = api.as_("alice", "POST", "/v1/subprocessors/Delta Mail ApS/object",
                json={"controller": "beta", "reason": "not ours"})  # fmt: skip
    assert r.status_code == 404


def test_public_ledger_head_proof_and_key__AUD_4(api):
    """Head, proofs and key need no credential, and the head's signature checks with the key."""
    earlier = api.client.get("/v1/ledger/head").json()["size"]
    api.add("alice", "x@example.com")
    head = api.client.get("/v1/ledger/head").json()
    vkey = api.client.get("/.well-known/processor-ledger.pub").text.strip()
    assert api.client.get("/v1/ledger/public-key").text.strip() == vkey
    checkpoint = parse_checkpoint(head["checkpoint"])
    assert checkpoint.size == head["size"]
    verifier = Verifier.from_vkey(vkey)
    assert verifier.name == checkpoint.origin
    proof = api.client.get("/v1/ledger/proofs/1")
    assert proof.status_code == 200
    assert proof.json()["tree_size"] == head["size"]
    assert api.client.get("/v1/ledger/proofs/999999").status_code == 404
    consistency = api.client.get("/v1/ledger/consistency", params={"from": earlier})
    assert consistency.status_code == 200
    assert "secret" not in json.dumps(head)


def test_deletion_certificate_only_once_the_data_is_gone__RET_3(api):
    """A live controller has no deletion certificate (403 with the rule); beta's is not alice's."""
    r = api.as_("alice", "GET", "/v1/receipts/certificate/acme")
    assert r.status_code == 403, r.text
    assert r.json()["rule"]
    assert api.as_("alice", "GET", "/v1/receipts/certificate/beta").status_code == 404
