"""Sub-processor changes over HTTP: propose, engage, check, the outbox and its acks
(SUB-1, SUB-2, SUB-3, SUB-5, SUBJ-5).
"""

from __future__ import annotations

from datetime import timedelta

DELTA = {"name": "Delta Mail ApS", "address": "Østergade 1, 5000 Odense C", "country": "DK",
         "activities": ["email"], "basis": "eea", "registration": "CVR 11223344",
         "agreement_ref": "SPA-2026-1", "agreement_date": "2026-02-01",
         "beneficiary_clause": True}  # fmt: skip


def test_propose_then_engage_after_the_notice_period__SUB_2(api, clock):
    """Grete proposes (notice to both controllers); engaging is refused until the agreement's
    text is kept (SUB-5), then early with the rule and date; 30 days on it is engaged, never
    for beta, which objected; alice cannot propose.
    """
    refused = api.as_("alice", "POST", "/v1/subprocessors/propose", json=DELTA)
    assert refused.status_code == 403
    assert refused.json()["rule"] == "RoleMustGrantPermission"
    proposed = api.as_("grete", "POST", "/v1/subprocessors/propose", json=DELTA)
    assert proposed.status_code == 201, proposed.text
    assert {n["controller"] for n in proposed.json()["notices"]} == {"acme", "beta"}
    objected = api.as_("bob", "POST", "/v1/subprocessors/Delta Mail ApS/object",
                       json={"controller": "beta", "reason": "in-house only"})  # fmt: skip
    assert objected.status_code == 200, objected.text
    unkept = api.as_("grete", "POST", "/v1/subprocessors/Delta Mail ApS/engage")
    assert unkept.status_code == 403, unkept.text
    assert unkept.json()["rule"] == "AgreementTextMustBeKept"
    kept = api.as_("grete", "POST", "/v1/subprocessors/Delta Mail ApS/agreement",
                   json={"ref": "SPA-2026-1", "date": "2026-02-01", "beneficiary_clause": True,
                         "text": "Delta Mail ApS sub-processor agreement, SCC 7.6 included"})  # fmt: skip
    assert kept.status_code == 200, kept.text
    early = api.as_("grete", "POST", "/v1/subprocessors/Delta Mail ApS/engage")
    assert early.status_code == 403, early.text
    assert early.json()["rule"] == "NoticePeriodMustHaveElapsed"
    assert proposed.json()["may_be_engaged_from"] in early.json()["detail"]
    clock.advance(timedelta(days=31))
    engaged = api.as_("grete", "POST", "/v1/subprocessors/Delta Mail ApS/engage")
    assert engaged.status_code == 200, engaged.text
    assert engaged.json()["blocked_by_objection"] == ["beta"]
    assert api.as_("grete", "POST", "/v1/subprocessors/No Such/engage").status_code == 404
    bad = api.as_(
        "grete", "POST", "/v1/subprocessors/propose", json={**DELTA, "country": "Denmark"}
    )
    assert bad.status_code == 400


def test_add_agreement_retire_and_check__SUB_1(api):
    """Adding after the signatures is refused; the system manager records the agreement and
    retires; `check` answers its findings, a controller's own only.
    """
    echo = {**DELTA, "name": "Echo Sms ApS", "activities": ["sms"]}
    added = api.as_("sam", "POST", "/v1/subprocessors", json=echo)
    assert added.status_code == 403  # both controllers signed before: it needs a notice
    assert added.json()["rule"] == "ListEntryMustPrecedeSignature"
    proposed = api.as_("sam", "POST", "/v1/subprocessors/propose", json=echo)
    assert proposed.status_code == 201, proposed.text
    signed = api.as_("sam", "POST", "/v1/subprocessors/Echo Sms ApS/agreement",
                     json={"ref": "SPA-2", "date": "2026-02-02",
                           "text": "Echo Sms ApS data processing agreement, SCC 7.6 included",
                           "beneficiary_clause": True})  # fmt: skip
    assert signed.status_code == 200, signed.text
    check = api.as_("grete", "GET", "/v1/subprocessors/check")
    assert check.status_code == 200, check.text
    assert isinstance(check.json()["findings"], list)
    own = api.as_("alice", "GET", "/v1/subprocessors/check")
    assert {f["controller"] for f in own.json()["findings"]} <= {"acme"}
    assert api.as_("alice", "GET", "/v1/subprocessors/check",
                   params={"controller": "beta"}).status_code == 404  # fmt: skip
    retired = api.as_("sam", "POST", "/v1/subprocessors/Echo Sms ApS/retire", json={})
    assert retired.status_code == 200, retired.text
    assert api.as_("alice", "POST", "/v1/subprocessors/Echo Sms ApS/retire",
                   json={}).status_code == 403  # fmt: skip


def test_outbox_and_ack_by_id_only__SUBJ_5(api):
    """A rectification queues a notice per recipient; the outbox names the contact by id only;
    alice acknowledges one of acme's entries once; bob neither sees nor acknowledges them.
    """
    cid = api.add("alice", "karen.secret@example.com")
    r = api.as_("alice", "PATCH", f"/v1/controllers/acme/contacts/{cid}",
                json={"set": {"last_name": "Kristoffersen"}})  # fmt: skip
    assert r.status_code == 200, r.text
    box = api.as_("grete", "GET", "/v1/subprocessors/outbox")
    assert box.status_code == 200, box.text
    pending = box.json()["items"]
    assert pending
    assert {e["contact_id"] for e in pending} == {cid}
    assert "karen" not in box.text
    assert "Kristoffersen" not in box.text
    assert api.as_("bob", "GET", "/v1/subprocessors/outbox").json()["items"] == []
    first = pending[0]["id"]
    assert api.as_("bob", "POST", f"/v1/subprocessors/outbox/{first}/ack").status_code == 404
    done = api.as_("alice", "POST", f"/v1/subprocessors/outbox/{first}/ack")
    assert done.status_code == 200, done.text
    again = api.as_("alice", "POST", f"/v1/subprocessors/outbox/{first}/ack")
    assert again.status_code == 403
    assert again.json()["rule"] == "RecipientNoticeMustBePending"
    left = api.as_("alice", "GET", "/v1/subprocessors/outbox").json()["items"]
    assert len(left) == len(pending) - 1
