"""The staff takeover over HTTP, and an administrator cancelling an account recovery (ACC-13,
ACC-9, ACC-12), on SQLite and PostgreSQL.
"""

from __future__ import annotations

from support import login


def test_staff_cannot_record_a_user_request_over_http__ACC_13(api):
    """Sam and grete POST a user-request in acme's name: 403 with the rule; nothing recorded;
    sam's rotation of alice's credential citing it is refused too.
    """
    body = {"kind": "user-request", "text": "CEO called", "change": "credential", "user": "alice"}
    for staff in ("sam", "grete"):
        refused = api.as_(staff, "POST", "/v1/controllers/acme/instructions", json=body)
        assert refused.status_code == 403, refused.text
        assert refused.json()["rule"] == "UserRequestsComeFromTheController"
    shown = api.as_("alice", "GET", "/v1/controllers/acme").json()
    assert [i for i in shown["instructions"] if i["kind"] == "user-request"] == []
    rotated = api.as_("sam", "POST", "/v1/users/alice/credential", json={"request": 1})
    assert rotated.status_code == 403, rotated.text
    assert rotated.json()["rule"] == "UserChangesNeedTheControllersRequest"


def test_an_administrator_cancels_a_recovery_over_http__ACC_13(api):
    """Sam starts a recovery (CLI side); alice lists and cancels it over HTTP; bob cannot."""
    login(api.proc, "sam").recovery.start("acme", "alice2", "ticket 9")
    listed = api.as_("alice", "GET", "/v1/controllers/acme/recoveries")
    assert listed.status_code == 200, listed.text
    assert [r["state"] for r in listed.json()["recoveries"]] == ["started"]
    url = "/v1/controllers/acme/recoveries/1/cancel"
    assert api.as_("bob", "POST", url, json={"reason": "x"}).status_code == 404  # not his
    assert api.as_("mia", "POST", url, json={}).status_code == 403
    cancelled = api.as_("alice", "POST", url, json={"reason": "we did not ask"})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["state"] == "cancelled"
    again = api.as_("alice", "POST", url, json={})
    assert again.status_code == 403, again.text
    assert again.json()["rule"] == "RecoveryMustBeOpen"


def test_staff_user_changes_sampled_over_http__ACC_13(api):
    """A user added by sam on alice's request is in a `user-changes` sample drawn over HTTP."""
    number = login(api.proc, "alice").controllers.instruct(
        "acme", "user-request", "add Carl", {"change": "add", "user": "carl", "role": "support"}
    )["number"]
    login(api.proc, "sam").users.add("carl", "support", controller="acme", request=number)
    drawn = api.as_("grete", "POST", "/v1/audit/samples", json={"of": "user-changes", "size": 9})
    assert drawn.status_code < 300, drawn.text
    entries = drawn.json()["entries"]
    assert {(e["kind"], e["actor"]) for e in entries} == {("user-change", "sam")}
    assert len(entries) == 2  # carl added, and his handed-over credential
