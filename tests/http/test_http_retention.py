"""Termination, what is due, the sweep and the deletion certificate over HTTP (RET-1 to RET-3)."""

from __future__ import annotations

from datetime import timedelta

from processor.domain.ids import user_id


def test_terminate_due_sweep_and_certificate__RET_1__RET_2(api, clock):
    """Alice ends acme's collaboration with a delete instruction; bob cannot (404); once due,
    the GDPA sweeps (alice may not) and the certificate then exists for acme.
    """
    api.add("alice", "ann.secret@example.com")
    api.add("bob", "bo.secret@example.com", controller="beta")
    effective = (clock.now() + timedelta(days=10)).date().isoformat()
    assert api.as_("bob", "POST", "/v1/controllers/acme/terminate",
                   json={"effective": effective}).status_code == 404  # fmt: skip
    ended = api.as_("alice", "POST", "/v1/controllers/acme/terminate",
                    json={"effective": effective, "instruction": "delete"})  # fmt: skip
    assert ended.status_code == 200, ended.text
    assert ended.json()["data"]["rule"]
    before = api.as_("grete", "GET", "/v1/retention/due").json()
    assert before["due"] == []
    at = f"{effective}T00:00:00+00:00"
    due = api.as_("grete", "GET", "/v1/retention/due", params={"at": at})
    assert due.status_code == 200, due.text
    assert [d["controller"] for d in due.json()["due"]] == ["acme"]
    assert api.as_("alice", "GET", "/v1/retention/due").status_code == 403
    clock.advance(timedelta(days=10))
    dry = api.as_("grete", "POST", "/v1/retention/sweep", json={"dry_run": True})
    assert dry.status_code == 200, dry.text
    refused = api.as_("alice", "POST", "/v1/retention/sweep", json={})
    assert refused.status_code == 403
    assert refused.json()["rule"] == "RoleMustGrantPermission"
    swept = api.as_("grete", "POST", "/v1/retention/sweep", json={})
    assert swept.status_code == 200, swept.text
    assert swept.json()["contacts_erased"] == 1
    assert "secret" not in swept.text
    again = api.as_("grete", "POST", "/v1/retention/sweep", json={}).json()
    assert again["nothing_due"]
    cert = api.as_("alice", "GET", "/v1/receipts/certificate/acme")
    assert cert.status_code == 200, cert.text
    assert api.as_("bob", "GET", "/v1/receipts/certificate/acme").status_code == 404
    assert api.proc.find(user_id("alice")).locked is False


def test_withdraw_a_termination__RET_1(api, clock):
    """A termination withdrawn: nothing is due; bad dates are invalid input, not a crash."""
    effective = (clock.now() + timedelta(days=5)).date().isoformat()
    api.as_("alice", "POST", "/v1/controllers/acme/terminate", json={"effective": effective})
    back = api.as_("alice", "POST", "/v1/controllers/acme/withdraw-termination",
                   json={"reason": "we stay"})  # fmt: skip
    assert back.status_code == 200, back.text
    later = (clock.now() + timedelta(days=200)).isoformat()
    assert api.as_("grete", "GET", "/v1/retention/due", params={"at": later}).json()["due"] == []
    bad = api.as_("alice", "POST", "/v1/controllers/acme/terminate", json={"effective": "soon"})
    assert bad.status_code == 400
    assert api.as_("grete", "GET", "/v1/retention/due", params={"at": "x"}).status_code == 400
