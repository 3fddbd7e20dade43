"""`GET /v1/audit/inform-pack/{controller}` and the inspections' commands over the CLI
(SUBJ-10, AUD-7).
"""

from __future__ import annotations

from datetime import UTC, datetime


def test_the_controller_gets_its_inform_pack_over_http__SUBJ_10(api, desk):
    """Alice gets acme's pack with its fields and no automated decision; bob does not (404)."""
    from support import login

    login(desk, "alice").contacts.add(
        "acme", "news", "h@example.dk", "email:form", first_name="Hans"
    )
    answer = api.as_("alice", "GET", "/v1/audit/inform-pack/acme")
    assert answer.status_code == 200, answer.text
    pack = answer.json()
    assert "first_name" in pack["what_is_collected"]["fields_in_use"]
    assert pack["automated_decisions"]["made"] is False
    assert "Hans" not in answer.text
    assert api.as_("bob", "GET", "/v1/audit/inform-pack/acme").status_code == 404


def test_inspections_and_inform_pack_from_the_command_line__AUD_7__SUBJ_10(shared):
    """The GDPA records an inspection on the auditor's behalf and lists it; the controller's
    administrator gets its inform pack; others may not record.
    """
    from cli_helpers import new_tenant

    tenant = new_tenant(shared)
    today = datetime.now(UTC).date().isoformat()
    args = ["audit", "inspection", "--by", "auditor", "--party", tenant.ref,
            "--inspector", "Ida Revisor", "--on", today, "--outcome", "deviation",
            "--findings", "access reviews late"]  # fmt: skip
    done = shared.ok(*args, user="grete")
    assert (done["by"], done["of"], done["outcome"]) == ("auditor", "processor", "deviation")
    shared.fails(1, *args, user=tenant.admin)
    shared.fails(2, *args[:-1], " ", user="grete")
    listed = shared.ok("audit", "inspections", user="grete")["inspections"]
    assert {"inspector": "Ida Revisor", "findings": "access reviews late"}.items() <= listed[
        -1
    ].items()
    pack = shared.ok("audit", "inform-pack", tenant.ref, user=tenant.admin)
    assert pack["automated_decisions"]["made"] is False
