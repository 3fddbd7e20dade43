"""End-to-end: who may run which command (ACC-8, ACC-9) and who is recorded as doing it (ACC-10)."""

from __future__ import annotations

import json

from cli_helpers import new_tenant, write_rows


def test_bookkeeper_cannot_read_contacts__ACC_9(shared):
    """A bookkeeper may see the account but not show, find or list contacts (exit 1, recorded)."""
    tenant = new_tenant(shared)
    ben = tenant.user("bookkeeper")
    cid = tenant.add("anna@example.dk", "--first-name", "Anna")
    assert shared.ok("controllers", "show", tenant.ref, user=ben)["controller"] == tenant.ref
    for args in (
        ["contacts", "show", tenant.ref, cid],
        ["contacts", "find", tenant.ref, "--email", "anna@example.dk"],
        ["lists", "show", tenant.ref, "news"],
    ):
        result = shared.run(*args, user=ben, as_json=True)
        assert result.exit_code == 1
        # With --json a failure prints only its error document: no contact data.
        assert json.loads(result.stdout)["error"]["code"] == 1
        assert "Anna" not in result.stdout
        assert "Anna" not in result.stderr
        assert "anna@example.dk" not in result.stderr
    denials = shared.denials(ben)
    assert [d["command"] for d in denials] == ["contacts show", "contacts find", "lists show"]
    assert {d["rule"] for d in denials} == {"RoleMustGrantPermission"}
    assert {d["controller"] for d in denials} == {tenant.ref}


def test_refused_command_records_access_denied__ACC_8(shared):
    """Processor staff are refused a controller's contacts; each refusal is an AccessDenied."""
    tenant = new_tenant(shared)
    cid = tenant.add("bo@example.dk")
    before = len(shared.denials("grete"))
    result = shared.run("contacts", "show", tenant.ref, cid, user="grete", as_json=True)
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["rule"] == "RoleMustGrantPermission"
    assert "may not contacts.show" in result.stderr
    shared.fails(1, "contacts", "show", tenant.ref, cid, user="sam")
    shared.fails(1, "erase", tenant.ref, "--contact", cid, "--reason", "x", user="sam")
    after = shared.denials("grete")
    assert len(after) == before + 1
    assert after[-1]["command"] == "contacts show"
    assert after[-1]["controller"] == tenant.ref
    assert [d["command"] for d in shared.denials("sam")][-2:] == ["contacts show", "erase"]


def test_unknown_user_is_refused_and_recorded__ACC_8(shared):
    """A user name nobody knows fails authentication (exit 1), recorded under that name (ACC-12).

    The message is the one a known user with a wrong credential gets, so it does not tell an
    attacker which names exist.
    """
    tenant = new_tenant(shared)
    error = shared.fails(
        1, "contacts", "find", tenant.ref, "--email", "x@example.dk", user="ghost-1"
    )
    assert "no valid credential for user 'ghost-1'" in error
    known = shared.fails(
        1, "ledger", "head", user=tenant.admin, env={"PROCESSOR_CREDENTIAL": "pcr1_x_y"}
    )
    assert known.replace(tenant.admin, "NAME") == error.replace("ghost-1", "NAME").replace(
        "contacts find", "ledger head"
    )
    shared.fails(1, "ledger", "head", user="ghost-1")
    denials = shared.denials("ghost-1")
    assert [(d["command"], d["rule"]) for d in denials] == [
        ("contacts find", "CredentialMustBeValid"),
        ("ledger head", "CredentialMustBeValid"),
    ]


def test_controller_user_cannot_act_on_another_controller__ACC_9(shared, tmp_path):
    """A controller's administrator is refused every command on another controller (exit 1)."""
    mine, theirs = new_tenant(shared), new_tenant(shared)
    cid = theirs.add("carl@example.dk")
    csv_file = write_rows(tmp_path / "c.csv", "email", ["dora@example.dk"])
    ref = theirs.ref
    commands = [
        ["controllers", "show", ref],
        ["controllers", "instruct", ref, "--kind", "general", "--text", "x"],
        ["users", "add", f"{mine.ref}-spy", "--role", "marketing", "--controller", ref],
        ["users", "list", "--controller", ref],
        [
            "contacts",
            "add",
            ref,
            "--list",
            "news",
            "--email",
            "eve@example.dk",
            "--consent",
            "email:x",
        ],
        ["contacts", "import", ref, csv_file, "--list", "news", "--consent-method", "x"],
        ["contacts", "update", ref, cid, "--set", "first_name=Mallory"],
        ["contacts", "unsubscribe", ref, cid, "--list", "news"],
        ["contacts", "restrict", ref, cid],
        ["contacts", "object", ref, cid],
        ["contacts", "find", ref, "--email", "carl@example.dk"],
        ["contacts", "show", ref, cid],
        ["lists", "show", ref, "news"],
        ["export", ref, "--all"],
        ["erase", ref, "--contact", cid, "--reason", "x"],
    ]
    # Four refusals per user at most: the fifth in a row would lock the user (ACC-8).
    attackers = [mine.admin]
    for i in range(1, 4):
        name = f"{mine.ref}-admin{i}"
        shared.ok(
            "users",
            "add",
            name,
            "--role",
            "administrator",
            "--controller",
            mine.ref,
            user=mine.admin,
        )
        attackers.append(name)
    for i, args in enumerate(commands):
        shared.fails(1, *args, user=attackers[i // 4])
    denials = [d for name in attackers for d in shared.denials(name)]
    assert len(denials) == len(commands)
    assert {d["rule"] for d in denials} == {"ControllerUsersSeeOnlyTheirOwn"}
    assert {d["controller"] for d in denials} == {ref}
    shown = shared.ok("contacts", "show", ref, cid, user=theirs.admin)
    assert shown["fields"] == {"email": "carl@example.dk"}
    assert shown["restricted"] is False
    assert shown["lists"]["news"]["subscribed"] is True
    assert theirs.members()["count"] == 1
    assert shared.ok("controllers", "show", ref, user=theirs.admin)["instructions"] == []


def test_repeated_refusals_lock_the_user__ACC_8(shared):
    """Five refused attempts lock a user out of everything until a GDPA unlocks them."""
    tenant = new_tenant(shared)
    ben = tenant.user("bookkeeper")
    for _ in range(5):
        shared.fails(1, "lists", "show", tenant.ref, "news", user=ben)
    assert "locked" in shared.fails(1, "controllers", "show", tenant.ref, user=ben)
    assert shared.denials(ben)[-1]["rule"] == "UserMustNotBeLocked"
    shared.fails(1, "users", "unlock", ben, user=tenant.admin)
    shared.ok("users", "unlock", ben, user="grete")
    assert shared.ok("controllers", "show", tenant.ref, user=ben)["controller"] == tenant.ref


def test_other_controllers_contact_ids_are_unknown(shared):
    """A contact id of another controller is unknown (exit 2) under one's own controller."""
    mine, theirs = new_tenant(shared), new_tenant(shared)
    cid = theirs.add("fay@example.dk")
    shared.fails(2, "contacts", "show", mine.ref, cid, user=mine.admin)
    shared.fails(2, "erase", mine.ref, "--contact", cid, "--reason", "x", user=mine.admin)
    shared.fails(2, "export", mine.ref, "--contact", cid, user=mine.admin)
    assert theirs.active() == 1


def test_only_the_administrator_exports_all_and_erases__ACC_9(shared):
    """Marketing and support may not export --all or erase (exit 1); the administrator may."""
    tenant = new_tenant(shared)
    mia, sue = tenant.user("marketing"), tenant.user("support")
    cid = tenant.add("gus@example.dk", user=mia)
    assert (
        shared.ok("contacts", "find", tenant.ref, "--email", "gus@example.dk", user=mia)[
            "contact_id"
        ]
        == cid
    )
    for user in (mia, sue):
        shared.fails(1, "export", tenant.ref, "--all", user=user)
        shared.fails(1, "erase", tenant.ref, "--contact", cid, "--reason", "asked", user=user)
    shared.fails(1, "export", tenant.ref, "--contact", cid, user=mia)
    assert (
        shared.ok("export", tenant.ref, "--contact", cid, user=sue)["contacts"][0]["contact_id"]
        == cid
    )
    shared.fails(1, "contacts", "add", tenant.ref, "--list", "x", "--email", "h@example.dk",
                 "--consent", "email:x", user=sue)  # fmt: skip
    assert [d["command"] for d in shared.denials(mia)] == ["export", "erase", "export"]
    assert tenant.active() == 1
    assert shared.ok("export", tenant.ref, "--all", user=tenant.admin)["scope"] == "all"
    shared.ok("erase", tenant.ref, "--contact", cid, "--reason", "asked", user=tenant.admin)
    assert tenant.active() == 0


def test_marketing_cannot_read_the_ledger_instruct_or_restrict(shared):
    """Marketing has no ledger access, gives no instructions and may not restrict (exit 1)."""
    tenant = new_tenant(shared)
    mia, sue = tenant.user("marketing"), tenant.user("support")
    cid = tenant.add("ulla@example.dk", user=mia)
    shared.fails(1, "ledger", "head", user=mia)
    shared.fails(
        1, "controllers", "instruct", tenant.ref, "--kind", "general", "--text", "x", user=mia
    )
    shared.fails(1, "contacts", "restrict", tenant.ref, cid, user=mia)
    shared.fails(1, "contacts", "object", tenant.ref, cid, user=mia)
    assert shared.ok("contacts", "restrict", tenant.ref, cid, user=sue)["restricted"] is True
    assert shared.ok("contacts", "object", tenant.ref, cid, user=sue)["objected"] is True
    shared.ok("contacts", "update", tenant.ref, cid, "--set", "city=Vejle", user=mia)
    assert shared.ok("ledger", "head", user=tenant.admin)["size"] > 0


def test_changes_carry_the_actor__ACC_10(shared):
    """Every stored creation and change names the user who ran the command as its actor."""
    tenant = new_tenant(shared)
    mia = tenant.user("marketing")
    cid = tenant.add("ida@example.dk", "--first-name", "Ida", user=mia)
    tenant.add("ida@example.dk", list_name="vip", user=mia)
    admin = tenant.admin
    shared.ok("contacts", "update", tenant.ref, cid, "--set", "last_name=Holm", user=admin)
    shared.ok("contacts", "unsubscribe", tenant.ref, cid, "--list", "news", user=mia)
    shared.ok("contacts", "restrict", tenant.ref, cid, "--reason", "contested", user=admin)
    shared.ok("contacts", "unrestrict", tenant.ref, cid, user=admin)
    shared.ok("contacts", "object", tenant.ref, cid, user=admin)
    shared.ok("controllers", "instruct", tenant.ref, "--kind", "general", "--text", "x", user=admin)
    shared.ok("export", tenant.ref, "--all", user=admin)
    shared.ok("erase", tenant.ref, "--contact", cid, "--reason", "asked", user=admin)

    def actors(events):
        return [(type(e).__name__, e.actor) for e in events]

    assert actors(shared.events(cid)) == [
        ("ContactAdded", mia),
        ("SubscribedToList", mia),
        ("ContactRectified", admin),
        ("UnsubscribedFromList", mia),
        ("ProcessingRestricted", admin),
        ("RestrictionLifted", admin),
        ("ProcessingObjectedTo", admin),
        ("ContactErased", admin),
    ]
    assert actors(shared.controller_events(tenant.ref)) == [
        ("ControllerRegistered", "sam"),
        ("AgreementRecorded", "sam"),  # the signed agreement processing needs (INSTR-5)
        ("InstructionRecorded", admin),
        ("DataExported", admin),
    ]
    assert actors(shared.user_events(admin)) == [
        ("UserAdded", "sam"),
        ("CredentialIssued", "sam"),  # handed over at registration
        ("CredentialIssued", admin),  # replaced by its holder (ACC-13)
    ]
    assert actors(shared.user_events(mia)) == [("UserAdded", admin), ("CredentialIssued", admin)]
    # Every event records the channel and the operating-system account too (ACC-10, ACC-12).
    channels = {(e.channel, e.os_account is not None) for e in shared.events(cid)}
    assert channels == {("cli", True)}
    shown = shared.ok("contacts", "show", tenant.ref, cid, user=admin)
    assert shown["added_by"] == mia
