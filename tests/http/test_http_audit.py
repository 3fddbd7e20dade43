"""The GDPA's audit work over HTTP: samples, changes, record, packs, reviews, contact persons
and supervision challenges (ACC-7, ACC-10, AUD-2, AUD-3, AUD-5, AUD-6, SUB-7, SUBJ-9).
"""

from __future__ import annotations

import json


def _reveal(api) -> None:
    """Sven asks for a contact, alice approves, sven reveals: an access event to sample."""
    api.add("alice", "ann.secret@example.com")
    api.as_("alice", "POST", "/v1/controllers/acme/instructions",
            json={"kind": "support-request", "text": "look at T-1", "case": "T-1"})  # fmt: skip
    view = api.as_("sven", "GET", "/v1/controllers/acme/support-view",
                   params={"list": "news", "case": "T-1", "reason": "ticket 7"})  # fmt: skip
    pseudonym = view.json()["items"][0]["pseudonym"]
    grant = api.as_("sven", "POST", "/v1/access",
                    json={"controller": "acme", "reason": "ticket 7", "contacts": [pseudonym],
                          "hours": 2}).json()["grant"]  # fmt: skip
    api.as_("alice", "POST", f"/v1/access/{grant}/approve")
    api.as_("sven", "POST", f"/v1/access/{grant}/reveal", json={"pseudonym": pseudonym})


def test_sample_draw_list_and_review_by_the_gdpa_only__ACC_7(api):
    """Grete draws a sample of access events and reviews an entry; alice and sven cannot."""
    _reveal(api)
    for name in ("alice", "sven"):
        refused = api.as_(name, "POST", "/v1/audit/samples", json={"size": 5})
        assert refused.status_code == 403
        assert refused.json()["rule"] == "RoleMustGrantPermission"
    drawn = api.as_("grete", "POST", "/v1/audit/samples", json={"size": 50, "seed": 1})
    assert drawn.status_code == 201, drawn.text
    sample = drawn.json()
    assert sample["size"] >= 1
    assert "ann.secret" not in drawn.text
    entry = sample["entries"][0]["entry"]
    reviewed = api.as_("grete", "POST", f"/v1/audit/samples/{sample['sample']}/review",
                       json={"entry": entry, "finding": "ok", "note": "ticket checked"})  # fmt: skip
    assert reviewed.status_code == 200, reviewed.text
    assert reviewed.json()["unreviewed"] == sample["unreviewed"] - 1
    listed = api.as_("grete", "GET", "/v1/audit/samples").json()
    assert [s["sample"] for s in listed["samples"]] == [sample["sample"]]
    unknown = api.as_("grete", "POST", "/v1/audit/samples/nope/review",
                      json={"entry": entry, "finding": "ok", "note": "x"})  # fmt: skip
    assert unknown.status_code in (400, 404)


def test_changes_a_controller_reads_its_own_only__ACC_10(api):
    """The change log: alice sees acme's changes (and only acme's), names of fields, no values."""
    api.add("alice", "ann.secret@example.com")
    api.add("bob", "bo.secret@example.com", controller="beta")
    mine = api.as_("alice", "GET", "/v1/audit/changes", params={"limit": 1000})
    assert mine.status_code == 200, mine.text
    rows = mine.json()["items"]
    assert rows
    assert {r["controller"] for r in rows} <= {"acme", None}
    assert "secret" not in mine.text
    everything = api.as_("grete", "GET", "/v1/audit/changes", params={"limit": 1000}).json()
    assert "beta" in {r["controller"] for r in everything["items"]}
    assert api.as_("alice", "GET", "/v1/audit/changes",
                   params={"controller": "beta"}).status_code == 404  # fmt: skip
    paged = api.as_("grete", "GET", "/v1/audit/changes", params={"limit": 2}).json()
    assert len(paged["items"]) == 2
    assert paged["next_cursor"]


def test_record_in_three_formats_for_the_gdpa__AUD_3(api):
    """The Art. 30(2) record as Markdown, JSON and DPV JSON-LD; refused to a controller."""
    md = api.as_("grete", "GET", "/v1/audit/record")
    assert md.status_code == 200, md.text
    assert md.headers["content-type"].startswith("text/markdown")
    as_json = api.as_("grete", "GET", "/v1/audit/record", params={"format": "json"})
    assert {c["id"] for c in as_json.json()["controllers"]} >= {"acme", "beta"}
    dpv = api.as_("grete", "GET", "/v1/audit/record", params={"format": "dpv"})
    assert json.loads(dpv.content)["@type"] == "dpv:RecordsOfActivities"
    refused = api.as_("alice", "GET", "/v1/audit/record")
    assert refused.status_code == 403


def test_packs_and_a_challenge_for_ones_own_controller__AUD_2__SUBJ_9__SUB_7(api):
    """Alice gets acme's packs, not beta's (404); she challenges a supervision, notified."""
    pack = api.as_("alice", "GET", "/v1/audit/controller-pack/acme")
    assert pack.status_code == 200, pack.text
    assert pack.json()["charge"] == "none"
    assert api.as_("alice", "GET", "/v1/audit/controller-pack/beta").status_code == 404
    dpia = api.as_("alice", "GET", "/v1/audit/dpia-pack/acme")
    assert dpia.json()["risks"]
    assert api.as_("bob", "GET", "/v1/audit/dpia-pack/acme").status_code == 404
    name = pack.json()["subprocessors"][0]["name"]
    supervised = api.as_("grete", "POST", f"/v1/subprocessors/{name}/supervise",
                         json={"method": "questionnaire", "finding": "fine"})  # fmt: skip
    assert supervised.status_code == 201, supervised.text
    done = api.as_("alice", "POST", f"/v1/subprocessors/{name}/challenge",
                   json={"reason": "self-assessed only"})  # fmt: skip
    assert done.status_code == 201, done.text
    assert done.json()["new_audit_requested"] is True
    notices = api.as_("alice", "GET", "/v1/notices").json()["items"]
    assert "supervision-challenged" in [n["kind"] for n in notices]
    assert api.as_("grete", "POST", f"/v1/subprocessors/{name}/challenge",
                   json={"reason": "x"}).status_code == 403  # fmt: skip


def test_risk_and_policy_reviews__AUD_6(api):
    """Grete records both reviews; a risk review needs its next date; alice may not review."""
    risk = api.as_("grete", "POST", "/v1/audit/risk-review",
                   json={"text": "risks re-assessed", "next": "2026-09-01"})  # fmt: skip
    assert risk.status_code == 201, risk.text
    assert risk.json()["next_due"].startswith("2026-09-01")
    policy = api.as_("grete", "POST", "/v1/audit/policy-review", json={"text": "policy read"})
    assert policy.status_code == 201, policy.text
    assert api.as_("grete", "POST", "/v1/audit/risk-review",
                   json={"text": "no date"}).status_code == 400  # fmt: skip
    refused = api.as_("alice", "POST", "/v1/audit/policy-review", json={"text": "x"})
    assert refused.status_code == 403


def test_contact_persons_of_both_parties__AUD_5(api):
    """Alice sets acme's DPO (grete's notices show it), bob cannot read it; sam sets ours."""
    r = api.as_("alice", "PUT", "/v1/controllers/acme/contact-persons/data-protection",
                json={"name": "Dora Dpo", "email": "dpo@acme.example"})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["notified"] >= 1
    bad = api.as_("alice", "PUT", "/v1/controllers/acme/contact-persons/security",
                  json={"name": "Hidden Person", "email": "hidden.person-at-acme"})  # fmt: skip
    assert bad.status_code == 400
    assert "hidden" not in bad.text.lower()
    shown = api.as_("alice", "GET", "/v1/controllers/acme/contact-persons").json()
    assert "data-protection" in shown["contact_persons"]
    assert api.as_("bob", "GET", "/v1/controllers/acme/contact-persons").status_code == 404
    assert api.as_("bob", "PUT", "/v1/controllers/acme/contact-persons/security",
                   json={"name": "X", "email": "x@beta.example"}).status_code == 404  # fmt: skip
    removed = api.as_("alice", "DELETE", "/v1/controllers/acme/contact-persons/data-protection")
    assert removed.status_code == 200, removed.text
    assert "data-protection" not in removed.json()["contact_persons"]
    ours = api.as_("sam", "PUT", "/v1/processor-contacts/security",
                   json={"name": "Sec Officer", "email": "sec@processor.example"})  # fmt: skip
    assert ours.status_code == 200, ours.text
    assert api.as_("alice", "PUT", "/v1/processor-contacts/security",
                   json={"name": "X", "email": "x@a.example"}).status_code == 403  # fmt: skip
    assert "security" in api.as_("alice", "GET", "/v1/processor-contacts").json()["contact_persons"]
