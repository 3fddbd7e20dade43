"""Breaches (the controller's view) and the audit-report download over HTTP (BR-1, AUD-1)."""

from __future__ import annotations

import json

from support import login

from processor.breaches.service import BreachesService


def test_controller_sees_only_the_breaches_it_was_told_of__BR_1(api):
    """Acme's administrator sees the breach once acme is notified; beta's user never does."""
    api.add("alice", "ann@example.com")
    api.add("bob", "bo@example.com", controller="beta")
    grete = BreachesService(login(api.proc, "grete").session)
    opened = grete.open(kinds=["confidentiality"], nature="Mailbox taken over", systems=["hosting"])
    assert api.as_("alice", "GET", "/v1/breaches").json()["breaches"] == []
    grete.notify(opened["id"], controllers=["acme"])
    mine = api.as_("alice", "GET", "/v1/breaches")
    assert mine.status_code == 200, mine.text
    assert [b["id"] for b in mine.json()["breaches"]] == [opened["id"]]
    shown = api.as_("alice", "GET", f"/v1/breaches/{opened['id']}")
    assert shown.status_code == 200
    assert api.as_("bob", "GET", "/v1/breaches").json()["breaches"] == []
    assert api.as_("bob", "GET", f"/v1/breaches/{opened['id']}").status_code == 404


def test_audit_report_download_for_the_gdpa_and_a_controller_for_its_own__AUD_1(api):
    """The GDPA downloads the processor's report; alice only acme's; beta's is unknown to her."""
    r = api.as_("grete", "GET", "/v1/audit/report", params={"format": "json"})
    assert r.status_code == 200, r.text
    assert "attachment" in r.headers["content-disposition"]
    json.loads(r.content)
    own = api.as_(
        "alice", "GET", "/v1/audit/report", params={"format": "markdown", "controller": "acme"}
    )
    assert own.status_code == 200, own.text
    assert own.headers["content-type"].startswith("text/markdown")
    other = api.as_(
        "alice", "GET", "/v1/audit/report", params={"format": "json", "controller": "beta"}
    )
    assert other.status_code == 404
    assert api.as_("mia", "GET", "/v1/audit/report", params={"format": "json"}).status_code == 403
