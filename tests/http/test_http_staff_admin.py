"""The staff-registry and oversight commands over HTTP: `users review`, `unlock`, `staff`,
`undertaking`, `status`, `access sample`, `doctor --repair-duplicates`
(ACC-1, ACC-2, ACC-3, ACC-7, ACC-8, ACC-12, SUBJ-4).
"""

from __future__ import annotations

from datetime import timedelta

from processor.domain.ids import user_id

USAGE = "/v1/controllers/acme/messages/usage"  # something mia (marketing) may read


def _lock_out(api, name: str) -> None:
    """Five wrong secrets for `name`'s credential id lock them out (ACC-8)."""
    forged = api.proc.issued[name].rsplit("_", 1)[0] + "_" + "A" * 43
    for _ in range(5):
        r = api.client.get("/v1/notices", headers={"Authorization": f"Bearer {forged}"})
        assert r.status_code == 401


def _user_events(api, name: str) -> list:
    return list(api.proc.store.events.get(user_id(name)))


def test_the_gdpa_unlocks_over_http_once__ACC_8(api):
    """Mia is locked out; alice may not unlock her (403 with the rule); grete does, over HTTP;
    a second unlock is refused with its rule; the unlock event says `http` and the note is sealed.
    """
    _lock_out(api, "mia")
    locked = api.as_("mia", "GET", USAGE)
    assert locked.status_code == 403
    assert locked.json()["rule"] == "UserMustNotBeLocked"
    note = {"note": "Spoke to Mia Secretsen on the phone"}
    refused = api.as_("alice", "POST", "/v1/users/mia/unlock", json=note)
    assert refused.status_code == 403
    assert refused.json()["rule"] == "RoleMustGrantPermission"
    done = api.as_("grete", "POST", "/v1/users/mia/unlock", json=note)
    assert done.status_code == 200, done.text
    assert done.json() == {"name": "mia", "locked": False}
    back = api.as_("mia", "GET", USAGE)
    assert back.status_code == 200, back.text
    again = api.as_("grete", "POST", "/v1/users/mia/unlock", json=note)
    assert again.status_code == 403
    assert again.json()["rule"] == "UnlockNeedsLock"
    last = _user_events(api, "mia")[-1]
    assert (last.actor, last.channel) == ("grete", "http")
    assert "Secretsen" not in repr(last.__dict__)
    unknown = api.as_("grete", "POST", "/v1/users/nobody/unlock", json=note)
    assert unknown.status_code == 404
    assert "Secretsen" not in unknown.text


def test_review_and_the_staff_registry__ACC_2__ACC_3(api):
    """Grete reviews sven over HTTP and the registry shows it; support staff may not review;
    a controller's user asking to review another controller's user gets no answer about it.
    """
    before = {r["name"]: r for r in api.as_("grete", "GET", "/v1/users/staff").json()["staff"]}
    assert {"grete", "sam", "sven"} <= set(before)
    assert "alice" not in before  # processor staff only
    api.proc.clock.advance(timedelta(days=30))
    r = api.as_("grete", "POST", "/v1/users/sven/review", json={"note": "still needs access"})
    assert r.status_code == 200, r.text
    after = {r["name"]: r for r in api.as_("grete", "GET", "/v1/users/staff").json()["staff"]}
    assert after["sven"]["last_review"] > before["sven"]["last_review"]
    last = _user_events(api, "sven")[-1]
    assert (last.actor, last.channel) == ("grete", "http")
    denied = api.as_("sven", "POST", "/v1/users/sven/review", json={})
    assert denied.status_code == 403
    assert denied.json()["rule"] == "RoleMustGrantPermission"
    assert api.as_("mia", "GET", "/v1/users/staff").status_code == 403
    assert api.as_("grete", "POST", "/v1/users/nobody/review", json={}).status_code == 404


def test_the_system_manager_records_a_staff_undertaking__ACC_1(api):
    """Sam records dev's undertaking over HTTP; sven (support) may not record someone else's."""
    body = {"confidentiality_signed": "2026-02-01", "trained": "2026-02-02"}
    refused = api.as_("sven", "POST", "/v1/users/dev/undertaking", json=body)
    assert refused.status_code == 403
    assert refused.json()["rule"] == "RoleMustGrantPermission"
    r = api.as_("sam", "POST", "/v1/users/dev/undertaking", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["confidentiality_signed"] == "2026-02-01"
    dev = api.proc.find(user_id("dev"))
    assert (dev.confidentiality_signed, dev.trained) == ("2026-02-01", "2026-02-02")
    staff = {u["name"]: u for u in api.as_("grete", "GET", "/v1/users/staff").json()["staff"]}
    assert (staff["dev"]["confidentiality_signed"], staff["dev"]["trained"]) == (
        "2026-02-01", "2026-02-02",
    )  # fmt: skip
    assert _user_events(api, "dev")[-1].channel == "http"
    bad = api.as_("sam", "POST", "/v1/users/dev/undertaking", json={**body, "trained": "soon"})
    assert bad.status_code == 400


def test_status_for_the_gdpa_only_and_without_personal_data(api):
    """Grete reads the store's status; a controller's administrator may not."""
    api.add("alice", "status.secret@example.com")
    r = api.as_("grete", "GET", "/v1/status")
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["counts"]["contacts"] == 1
    assert data["read_models"]["behind"] == 0
    assert isinstance(data["attention"], list)
    assert "status.secret" not in r.text
    refused = api.as_("alice", "GET", "/v1/status")
    assert refused.status_code == 403
    assert refused.json()["rule"] == "RoleMustGrantPermission"


def test_access_sample_over_http__ACC_7(api):
    """`/v1/access/sample` answers what `/v1/audit/samples` answers; alice may not."""
    api.add("alice", "sample.secret@example.com")
    api.as_("alice", "POST", "/v1/controllers/acme/instructions",
            json={"kind": "support-request", "text": "look at T-1", "case": "T-1"})  # fmt: skip
    api.as_("sven", "GET", "/v1/controllers/acme/support-view",
            params={"case": "T-1", "reason": "a sampled view"})  # fmt: skip
    body = {"size": 5, "seed": 7, "of": "staff"}
    r = api.as_("grete", "POST", "/v1/access/sample", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["seed"] == 7
    assert r.json()["size"] >= 1
    assert "sample.secret" not in r.text
    audit = api.as_("grete", "POST", "/v1/audit/samples", json=body)
    assert audit.status_code == 201, audit.text
    own = ("sample", "drawn_at")  # each draw is its own recorded sample
    assert {k: v for k, v in r.json().items() if k not in own} == {
        k: v for k, v in audit.json().items() if k not in own
    }
    listed = api.as_("grete", "GET", "/v1/audit/samples").json()["samples"]
    assert r.json()["sample"] in [s["sample"] for s in listed]
    old_body = api.as_("grete", "POST", "/v1/access/sample", json={"since": "2026-01-01"})
    assert old_body.status_code == 422, old_body.text  # `since` is `from` now: never dropped
    refused = api.as_("alice", "POST", "/v1/access/sample", json={})
    assert refused.status_code == 403


def test_repair_duplicates_plan_for_the_own_controller_only__SUBJ_4(api):
    """Alice sees acme's (empty) repair plan; bob gets 404 for acme; mia may not erase."""
    api.add("alice", "one@example.com")
    r = api.as_("alice", "POST", "/v1/controllers/acme/repair-duplicates", json={})
    assert r.status_code == 200, r.text
    assert r.json() == {"controller": "acme", "confirmed": False, "groups": [], "repaired": []}
    assert api.as_("bob", "POST", "/v1/controllers/acme/repair-duplicates",
                   json={"confirm": True}).status_code == 404  # fmt: skip
    refused = api.as_("mia", "POST", "/v1/controllers/acme/repair-duplicates", json={})
    assert refused.status_code == 403


def test_staff_read_and_acknowledge_a_changed_policy_over_http__ACC_15(api):
    """After a policy change a staff member is refused (403, the rule named) until they read
    and acknowledge it at `/v1/users/me/policy`; then the same request is answered.
    """
    rt = api.client.app.state.runtime
    security = rt.proc.policies.security.model_copy(update={"version": "security-2027-02-01"})
    rt.proc.policies = rt.proc.policies.model_copy(update={"security": security})
    refused = api.as_("grete", "GET", "/v1/users/staff")
    assert refused.status_code == 403, refused.text
    assert "SecurityPolicyMustBeAcknowledged" in refused.text
    shown = api.as_("grete", "GET", "/v1/users/me/policy")
    assert shown.status_code == 200, shown.text
    assert shown.json()["version"] == "security-2027-02-01" and not shown.json()["acknowledged"]
    acked = api.as_("grete", "POST", "/v1/users/me/policy/acknowledgement")
    assert acked.status_code == 200, acked.text
    assert acked.json() == {"user": "grete", "version": "security-2027-02-01", "acknowledged": True}
    assert api.as_("grete", "GET", "/v1/users/staff").status_code == 200
