"""Breach handling over HTTP: the GDPA's part and the controller's (BR-1 to BR-5).

Through the real ASGI app on both backends: the GDPA opens, assesses, notifies, updates and
closes; acme's administrator records its decisions and exports its own affected subjects;
beta's administrator and the support user are refused, and another controller's part is 404.
"""

from __future__ import annotations

import json

OPEN = {"kinds": ["confidentiality"], "nature": "Mailbox of the hosting provider taken over",
        "systems": ["hosting"]}  # fmt: skip


def _opened(api) -> dict:
    r = api.as_("grete", "POST", "/v1/breaches", json=OPEN)
    assert r.status_code == 201, r.text
    return r.json()


def test_open_impact_notify_and_refusals__BR_1__BR_2(api):
    """Grete opens and notifies acme; support and a controller cannot open; impact is per user."""
    api.add("alice", "ann.secret@example.com")
    api.add("bob", "bo.secret@example.com", controller="beta")
    for name in ("sven", "alice"):
        refused = api.as_(name, "POST", "/v1/breaches", json=OPEN)
        assert refused.status_code == 403, refused.text
        assert refused.json()["rule"] == "RoleMustGrantPermission"
    opened = _opened(api)
    assert {c["controller"] for c in opened["impact"]["controllers"]} == {"acme", "beta"}
    assert "ann.secret" not in json.dumps(opened)
    bid = opened["id"]
    impact = api.as_("grete", "POST", f"/v1/breaches/{bid}/impact")
    assert impact.status_code == 200, impact.text
    assert {c["controller"] for c in impact.json()["controllers"]} == {"acme", "beta"}
    notified = api.as_("grete", "POST", f"/v1/breaches/{bid}/notify",
                       json={"controllers": ["acme"], "measures": "passwords reset"})  # fmt: skip
    assert notified.status_code == 200, notified.text
    assert [n["controller"] for n in notified.json()["notices"]] == ["acme"]
    own = api.as_("alice", "POST", f"/v1/breaches/{bid}/impact")
    assert [c["controller"] for c in own.json()["controllers"]] == ["acme"]
    # Beta was not notified: the breach does not exist for bob.
    assert api.as_("bob", "POST", f"/v1/breaches/{bid}/impact").status_code == 404
    assert api.as_("bob", "GET", f"/v1/breaches/{bid}/timeline").status_code == 404
    assert api.as_("grete", "POST", "/v1/breaches/nope/notify", json={}).status_code == 404


def test_controller_decisions_export_and_timeline__BR_3(api):
    """Alice records acme's decisions and exports acme's subjects; beta's part is not hers."""
    api.add("alice", "ann.secret@example.com")
    api.add("bob", "bo.secret@example.com", controller="beta")
    bid = _opened(api)["id"]
    early = api.as_("alice", "GET", f"/v1/breaches/{bid}/export-subjects",
                    params={"controller": "acme"})  # fmt: skip
    assert early.status_code == 404  # not yet notified: acme's users do not see the breach
    api.as_("grete", "POST", f"/v1/breaches/{bid}/notify", json={"all_affected": True})
    exported = api.as_("alice", "GET", f"/v1/breaches/{bid}/export-subjects",
                       params={"controller": "acme"})  # fmt: skip
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith("text/csv")
    assert "ann.secret@example.com" in exported.text
    assert "bo.secret" not in exported.text
    other = api.as_("alice", "GET", f"/v1/breaches/{bid}/export-subjects",
                    params={"controller": "beta"})  # fmt: skip
    assert other.status_code == 404
    told = api.as_("alice", "POST", f"/v1/breaches/{bid}/authority-notice",
                   json={"controller": "acme", "at": "2026-03-02T09:00:00+00:00",
                         "authority": "Datatilsynet", "reference": "DT-1"})  # fmt: skip
    assert told.status_code == 200, told.text
    for_beta = api.as_("alice", "POST", f"/v1/breaches/{bid}/authority-notice",
                       json={"controller": "beta", "at": "2026-03-02T09:00:00+00:00"})  # fmt: skip
    assert for_beta.status_code == 404
    subjects = api.as_("alice", "POST", f"/v1/breaches/{bid}/subjects-notice",
                       json={"controller": "acme", "notified": True, "channel": "e-mail",
                             "at": "2026-03-02T09:00:00+00:00"})  # fmt: skip
    assert subjects.status_code == 200, subjects.text
    assert subjects.json()["decision"] == "subjects notified"
    text = api.as_("alice", "GET", f"/v1/breaches/{bid}/timeline")
    assert text.status_code == 200
    assert text.headers["content-type"].startswith("text/plain")
    data = api.as_("alice", "GET", f"/v1/breaches/{bid}/timeline", params={"format": "json"})
    clocks = {c.get("controller") for c in data.json()["deadlines"]}
    assert clocks == {"acme"}, clocks
    everyone = api.as_("grete", "GET", f"/v1/breaches/{bid}/timeline", params={"format": "json"})
    assert {c.get("controller") for c in everyone.json()["deadlines"]} == {"acme", "beta"}
    svg = api.as_("grete", "GET", f"/v1/breaches/{bid}/timeline", params={"format": "svg"})
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.lstrip().startswith("<svg") or "<svg" in svg.text[:200]


def test_update_and_close_by_staff_only__BR_4__BR_5(api):
    """Grete records measures and closes with a review; acme's administrator cannot close."""
    bid = _opened(api)["id"]
    api.as_("grete", "POST", f"/v1/breaches/{bid}/notify", json={"all_affected": True})
    updated = api.as_("grete", "POST", f"/v1/breaches/{bid}/update",
                      json={"status": "contained", "measures": ["account locked"],
                            "reason": "provider confirmed"})  # fmt: skip
    assert updated.status_code == 200, updated.text
    assert updated.json()["status"] == "contained"
    assert len(updated.json()["measures"]) == 1
    refused = api.as_("alice", "POST", f"/v1/breaches/{bid}/close", json={"review": "done"})
    assert refused.status_code == 403
    assert refused.json()["rule"] == "RoleMustGrantPermission"
    closed = api.as_("grete", "POST", f"/v1/breaches/{bid}/close",
                     json={"review": "cause: phishing; lesson: hardware keys"})  # fmt: skip
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    assert "phishing" not in api.as_("alice", "GET", f"/v1/breaches/{bid}").text
    bad = api.as_("grete", "POST", f"/v1/breaches/{bid}/update", json={"measure_at": "yesterday"})
    assert bad.status_code == 400
    assert bad.json()["exit_code"] == 2
