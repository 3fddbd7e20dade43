"""User and controller administration, agreements and instructions over HTTP
(ACC-2, ACC-12, ACC-13, INSTR-1, INSTR-2, INSTR-5, INSTR-6, RET-4).
"""

from __future__ import annotations


def _own(api, name: str, handed: str, controller: str) -> dict[str, str]:
    """A credential handed over by staff works only to replace itself (ACC-12): replace it."""
    handed_over = {"Authorization": f"Bearer {handed}"}
    first = api.client.get(f"/v1/controllers/{controller}", headers=handed_over)
    assert first.status_code == 403
    assert first.json()["rule"] == "CredentialMustBeTheHoldersOwn"
    rotated = api.client.post(f"/v1/users/{name}/credential", headers=handed_over)
    assert rotated.status_code == 200, rotated.text
    assert name not in api.client.app.state.runtime.proc.issued
    return {"Authorization": f"Bearer {rotated.json()['credential']}"}


def test_staff_change_a_controllers_users_only_on_its_request__ACC_13(api):
    """Sam cannot add acme's user unasked; alice records the request; sam then adds carl, who
    replaces the handed-over credential; alice revokes him and his credential gets 401.
    """
    carl = {"name": "carl", "role": "bookkeeper", "controller": "acme"}
    unasked = api.as_("sam", "POST", "/v1/users", json=carl)
    assert unasked.status_code == 403, unasked.text
    assert unasked.json()["rule"]
    asked = api.as_("alice", "POST", "/v1/controllers/acme/instructions",
                    json={"kind": "user-request", "text": "please add carl", "change": "add",
                          "user": "carl", "role": "bookkeeper"})  # fmt: skip
    assert asked.status_code == 201, asked.text
    number = asked.json()["number"]
    added = api.as_("sam", "POST", "/v1/users", json={**carl, "request": number})
    assert added.status_code == 201, added.text
    credential = added.json()["credential"]
    assert "carl" not in api.client.app.state.runtime.proc.issued
    mine = _own(api, "carl", credential, "acme")
    assert api.client.get("/v1/controllers/acme", headers=mine).status_code == 200
    assert api.client.get("/v1/controllers/beta", headers=mine).status_code == 404
    listed = api.as_("alice", "GET", "/v1/users").json()["users"]
    assert "carl" in {u["name"] for u in listed}
    assert "bob" not in {u["name"] for u in listed}
    assert api.as_("bob", "POST", "/v1/users/carl/revoke",
                   json={"reason": "not yours"}).status_code == 404  # fmt: skip
    revoked = api.as_("alice", "POST", "/v1/users/carl/revoke", json={"reason": "left"})
    assert revoked.status_code == 200, revoked.text
    after = api.client.get("/v1/controllers/acme", headers=mine)
    assert after.status_code == 401
    assert after.json()["rule"] == "UserMustNotBeRevoked"


def test_register_a_controller_and_its_administrators_credential__ACC_12(api):
    """Sam registers gamma with its administrator; the credential is answered once, and works
    to replace itself;
    alice (a controller's administrator) cannot register.
    """
    body = {"controller_id": "gamma", "name": "Gamma ApS", "country": "DK",
            "account": "paying", "agreement": "scc", "admin": "gina"}  # fmt: skip
    refused = api.as_("alice", "POST", "/v1/controllers", json=body)
    assert refused.status_code == 403
    assert refused.json()["rule"] == "RoleMustGrantPermission"
    made = api.as_("sam", "POST", "/v1/controllers", json=body)
    assert made.status_code == 201, made.text
    assert "gina" not in api.client.app.state.runtime.proc.issued
    gina = _own(api, "gina", made.json()["admin_credential"], "gamma")
    shown = api.client.get("/v1/controllers/gamma", headers=gina)
    assert shown.status_code == 200, shown.text
    assert api.as_("alice", "GET", "/v1/controllers/gamma").status_code == 404
    twice = api.as_("sam", "POST", "/v1/controllers", json={**body, "admin": None})
    assert twice.status_code in (400, 403)


def test_flag_confirm_and_withdraw_instructions__INSTR_2(api):
    """Alice gives instructions; the GDPA flags one; alice confirms it, withdraws another;
    bob cannot settle acme's (404), a marketing user cannot give one (403).
    """
    numbers = []
    for text in ("mail weekly", "keep bounces forever"):
        r = api.as_("alice", "POST", "/v1/controllers/acme/instructions",
                    json={"kind": "general", "text": text})  # fmt: skip
        assert r.status_code == 201, r.text
        numbers.append(r.json()["number"])
    assert api.as_("mia", "POST", "/v1/controllers/acme/instructions",
                   json={"kind": "general", "text": "x"}).status_code == 403  # fmt: skip
    for n in numbers:
        flagged = api.as_("grete", "POST", f"/v1/controllers/acme/instructions/{n}/flag",
                          json={"reason": "may infringe Art. 5(1)(e)"})  # fmt: skip
        assert flagged.status_code == 200, flagged.text
    assert (
        api.as_(
            "bob", "POST", f"/v1/controllers/acme/instructions/{numbers[0]}/confirm"
        ).status_code
        == 404
    )
    confirmed = api.as_("alice", "POST", f"/v1/controllers/acme/instructions/{numbers[0]}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    withdrawn = api.as_("alice", "POST", f"/v1/controllers/acme/instructions/{numbers[1]}/withdraw")
    assert withdrawn.status_code == 200, withdrawn.text
    again = api.as_("alice", "POST", f"/v1/controllers/acme/instructions/{numbers[1]}/confirm")
    assert again.status_code == 403
    assert again.json()["rule"]
    legal = api.as_("grete", "POST", "/v1/controllers/acme/legal-requirement",
                    json={"text": "tax law keeps invoices 5 years"})  # fmt: skip
    assert legal.status_code == 200, legal.text


def test_agreement_accept_and_upgrade__INSTR_5__RET_4(api):
    """Sam records beta's new agreement; bob accepts it; beta is upgraded on its request."""
    signed = api.as_("sam", "POST", "/v1/controllers/beta/agreement",
                     json={"edition": "scc", "signed_on": "2026-03-01", "text": "SCC text v2",
                           "processor_signatory": "Sam", "controller_signatory": "Bob"})  # fmt: skip
    assert signed.status_code == 201, signed.text
    assert "SCC text v2" not in signed.text
    assert api.as_("alice", "POST", "/v1/controllers/beta/accept",
                   json={"edition": "scc"}).status_code == 404  # fmt: skip
    accepted = api.as_("bob", "POST", "/v1/controllers/beta/accept", json={"edition": "scc"})
    assert accepted.status_code == 200, accepted.text
    unasked = api.as_("sam", "POST", "/v1/controllers/beta/upgrade", json={"account": "paying"})
    assert unasked.status_code in (400, 403)
    request = api.as_("bob", "POST", "/v1/controllers/beta/instructions",
                      json={"kind": "upgrade-request", "text": "upgrade us",
                            "account": "paying"}).json()["number"]  # fmt: skip
    done = api.as_("sam", "POST", "/v1/controllers/beta/upgrade",
                   json={"account": "paying", "request": request})  # fmt: skip
    assert done.status_code == 200, done.text
    assert api.as_("bob", "GET", "/v1/controllers/beta").json()["account"] == "paying"
