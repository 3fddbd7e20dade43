"""Authentication before the schema: no valid credential is 401 whatever the parameters (ACC-12)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from processor.readmodels import tables as t

BAD = "pcr1_0123456789ab_nothing-here"


def _refusals(proc, actor: str) -> list[tuple[str, str]]:
    with proc.engines.readmodels.connect() as conn:
        rows = conn.execute(
            sa.select(t.denials.c.command, t.denials.c.rule).where(t.denials.c.actor == actor)
        ).all()
    return [(r[0], r[1]) for r in rows]


@pytest.mark.parametrize(
    ("method", "url", "kwargs"),
    [
        ("GET", "/v1/access/log", {"params": {"limit": "0"}}),
        ("GET", "/v1/controllers/acme/contacts", {"params": {"limit": "many"}}),
        ("POST", "/v1/audit/samples", {"json": {"size": 0, "of": "nobody"}}),
        ("POST", "/v1/access", {"content": b"{not json", "headers": {"X": "y"}}),
    ],
)
def test_no_credential_with_bad_parameters_is_401_not_422__ACC_12(api, method, url, kwargs):
    """Without a credential a malformed request is 401: the schema is not shown to strangers."""
    r = api.client.request(method, url, **kwargs)
    assert r.status_code == 401, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"].endswith("/not-authenticated")


def test_wrong_credential_with_bad_parameters_is_401_and_recorded__ACC_8(api):
    """A wrong credential on a malformed request is refused and recorded, as on a good one."""
    r = api.client.get(
        "/v1/access/log", params={"limit": "0"}, headers={"Authorization": f"Bearer {BAD}"}
    )
    assert r.status_code == 401, r.text
    assert r.json()["rule"] == "CredentialMustBeValid"
    assert ("access log", "CredentialMustBeValid") in _refusals(api.proc, "(unknown credential)")


def test_a_value_a_route_parses_before_authenticating_waits_for_authentication__ACC_12(api):
    """`retention due?at=never` is 400 for the GDPA, 401 for a wrong or missing credential."""
    r = api.client.get("/v1/retention/due", params={"at": "never"})
    assert r.status_code == 401, r.text
    r = api.client.get(
        "/v1/retention/due", params={"at": "never"}, headers={"Authorization": f"Bearer {BAD}"}
    )
    assert r.status_code == 401, r.text
    assert ("retention due", "CredentialMustBeValid") in _refusals(api.proc, "(unknown credential)")
    r = api.as_("grete", "GET", "/v1/retention/due", params={"at": "never"})
    assert r.status_code == 400, r.text
    assert r.json()["type"].endswith("/invalid-input")


def test_authenticated_caller_with_bad_parameters_still_gets_the_422_problem(api):
    """Once the caller is known, a malformed request is the RFC 9457 422 as before."""
    r = api.as_("grete", "GET", "/v1/access/log", params={"limit": "0"})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"].endswith("/invalid-request")
    r = api.as_("grete", "POST", "/v1/audit/samples", json={"size": 0})
    assert r.status_code == 422, r.text
    assert not _refusals(api.proc, "grete")


def test_every_protected_route_answers_401_before_its_schema__ACC_12(api):
    """Every operation that needs a credential answers a malformed anonymous request with 401."""
    checked = 0
    for path, operations in api.client.get("/openapi.json").json()["paths"].items():
        for method, operation in operations.items():
            if not operation.get("security"):
                continue
            # Path parameters that fit no converter, a query and a body that fit no schema.
            r = api.client.request(
                method.upper(),
                re.sub(r"\{[^}]+\}", "0", path),
                params={"limit": "-1", "cursor": "~", "format": "?", "at": "never"},
                content=b"{not json",
                headers={"Content-Type": "application/json"},
            )
            assert r.status_code == 401, (method, path, r.status_code, r.text)
            checked += 1
    assert checked > 50
