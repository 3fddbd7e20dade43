"""End-to-end: `processor init`, `users`, `controllers`, options and environment variables."""

from __future__ import annotations

import json

import pytest
from cli_helpers import Cli, cli_env, new_tenant, run_processor
from support import BACKENDS, UNDERTAKING

from processor.config import Settings

# Random-looking master keys: patterned ones ("ab" * 32) are refused as weak.
RIGHT_KEY = "5b1f0c7e9a2d4836b0e1f3a5c7d9e2b4a6c8e0f2d4b6a8c0e2f4a6b8d0c2e4f6"
WRONG_KEY = "e3a1c5f7092b4d6f8a0c2e4b6d8f1a3c5e7b9d0f2a4c6e8b0d2f4a6c8e1b3d5f"


@pytest.fixture
def fresh(settings):
    """A command line on a fresh, uninitialised store of the backend under test."""
    return Cli(settings)


# -- init ----------------------------------------------------------------------------------------


def test_init_creates_store_gdpa_and_system_manager(fresh, backend):
    """`init` creates the store with its GDPA and system manager and prints the ledger key."""
    out = fresh.init()
    assert out["backend"] == backend
    assert out["simulation"] is False
    assert out["profile"] == "standard"
    assert (out["gdpa"], out["system_manager"]) == ("grete", "sam")
    assert fresh.text("ledger", "public-key", user="sam").strip() == out["ledger_public_key"]
    users = {u["name"]: u for u in fresh.ok("users", "list", user="grete")["users"]}
    assert users["grete"]["role"] == "gdpa"
    assert users["sam"]["role"] == "system-manager"
    assert users["sam"]["controller"] is None
    key = fresh.settings.master_key_path()
    assert key.stat().st_mode & 0o077 == 0
    assert not key.is_relative_to(fresh.settings.data_dir)  # RET-5: keys apart from the data


def test_init_twice_is_refused(fresh):
    """A second `init` on the same data directory exits 1 and leaves the store as it was."""
    out = fresh.init("--profile", "no-staff-access")
    assert out["profile"] == "no-staff-access"
    error = fresh.fails(1, "init", "--gdpa", "other", "--system-manager", "someone")
    assert "already initialised" in error
    names = {u["name"] for u in fresh.ok("users", "list", user="grete")["users"]}
    assert names == {"grete", "sam"}


def test_command_before_init_exits_2_with_a_hint(fresh):
    """Any store command before `init` exits 2 with a one-line hint to run `processor init`."""
    assert "processor init" in fresh.fails(2, "users", "list", user="sam")
    assert "processor init" in fresh.fails(2, "ledger", "head", user="sam")


def test_init_with_processor_now_needs_simulation(fresh):
    """PROCESSOR_NOW with a non-simulation `init` is refused (exit 1) and creates nothing."""
    now = {"PROCESSOR_NOW": "2026-03-02T09:00:00Z"}
    error = fresh.fails(1, "init", "--gdpa", "grete", "--system-manager", "sam", env=now)
    assert "simulation" in error
    fresh.fails(2, "users", "list", user="sam")
    assert fresh.init()["simulation"] is False


# -- users ---------------------------------------------------------------------------------------


def test_users_add_processor_staff__ACC_1(shared):
    """Staff near personal data need confidentiality and training dates (ACC-1); roles are checked."""
    error = shared.fails(1, "users", "add", "sup-nodates", "--role", "support", user="sam")
    assert "ACC-1" in error
    added = shared.ok(
        "users", "add", "sup-dated", "--role", "support",
        "--confidentiality-signed", "2026-01-05", "--trained", "2026-01-06", user="sam",
    )  # fmt: skip
    assert added.pop("credential").startswith(f"pcr1_{added.pop('credential_id')}_")
    assert added == {"name": "sup-dated", "role": "support", "controller": None}
    shared.ok("users", "add", "dev-1", "--role", "developer", user="sam")
    rows = {u["name"]: u for u in shared.ok("users", "list", user="grete")["users"]}
    assert rows["sup-dated"]["confidentiality_signed"] == "2026-01-05"
    assert rows["sup-dated"]["trained"] == "2026-01-06"
    assert rows["sup-dated"]["created_by"] == "sam"
    assert "sup-nodates" not in rows
    assert "dev-1" in rows


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x1", "--role", "wizard"], "unknown processor role"),
        (["x2", "--role", "support", "--confidentiality-signed", "2026-13-01",
          "--trained", "2026-01-01"], "invalid date"),
        (["bad name!", "--role", "developer"], "invalid user name"),
        (["x3", "--role", "marketing", "--controller", "no-such-controller"], "unknown controller"),
        (["x4", "--role", "wizard", "--controller", "no-such-controller"], "unknown controller role"),
    ],
)  # fmt: skip
def test_users_add_bad_input_exits_2(shared, args, message):
    """An unknown role or controller, a bad date or a bad name is invalid input (exit 2)."""
    assert message in shared.fails(2, "users", "add", *args, user="sam")


def test_users_add_duplicate_name_is_refused(shared):
    """User names are unique across the processor: a second `users add` of a name exits 1."""
    shared.ok("users", "add", "dup-dev", "--role", "developer", user="sam")
    assert "already exists" in shared.fails(
        1, "users", "add", "dup-dev", "--role", "developer", user="sam"
    )


def test_users_list_by_controller__ACC_9(shared):
    """`users list --controller` filters; a controller's users see only their own controller's users."""
    one, two = new_tenant(shared), new_tenant(shared)
    mia = one.user("marketing")
    by_sam = {
        u["name"] for u in shared.ok("users", "list", "--controller", one.ref, user="sam")["users"]
    }
    assert by_sam == {one.admin, mia}
    own = {u["name"] for u in shared.ok("users", "list", user=one.admin)["users"]}
    assert own == {one.admin, mia}
    shared.fails(1, "users", "list", "--controller", two.ref, user=one.admin)
    shared.fails(1, "users", "list", user=mia)  # marketing may not list users
    assert "(processor)" in shared.text("users", "list", user="grete")


def test_controller_admin_adds_only_controller_users(shared):
    """A controller's administrator adds users to its own controller, never processor staff."""
    one = new_tenant(shared)
    shared.fails(1, "users", "add", f"{one.ref}-dev", "--role", "developer", user=one.admin)
    shared.fails(
        1,
        "users",
        "add",
        f"{one.ref}-x",
        "--role",
        "marketing",
        "--controller",
        one.ref,
        user="grete",
    )
    text = shared.text(
        "users",
        "add",
        f"{one.ref}-sup",
        "--role",
        "support",
        "--controller",
        one.ref,
        user=one.admin,
    )
    assert text.splitlines()[0] == f"added user {one.ref}-sup (support)"
    assert text.splitlines()[1] == f"credential for {one.ref}-sup, shown once:"


# -- controllers ---------------------------------------------------------------------------------


def test_controllers_register_and_show__INSTR_4(shared):
    """`controllers register` stores account, agreement and CVR; `show` gives the edition's terms."""
    out = shared.ok(
        "controllers", "register", "reg-show", "--name", "Reg Show ApS", "--country", "dk",
        "--account", "freemium", "--agreement", "dpa-2018", "--cvr", "12345678",
        "--admin", "reg-show-admin", user="sam",
    )  # fmt: skip
    assert out.pop("admin_credential").startswith(f"pcr1_{out.pop('admin_credential_id')}_")
    assert out == {
        "controller": "reg-show", "account": "freemium", "agreement": "dpa-2018",
        "admin": "reg-show-admin",
    }  # fmt: skip
    shown = shared.ok("controllers", "show", "reg-show", user="reg-show-admin")
    assert shown["name"] == "Reg Show ApS"
    assert shown["country"] == "DK"
    assert shown["cvr"] == "12345678"
    assert shown["registered_by"] == "sam"
    # The 2018 DPA's own terms (INSTR-4, RET-1): deletion at expiry, 36 h chosen by us.
    assert shown["agreement_terms"]["deletion_after_termination_days"] == 0
    assert shown["agreement_terms"]["breach_notice_hours"] == 36
    assert shown["agreement_terms"]["breach_notice_fixed_by_agreement"] is False
    assert shown["account_limits"]["max_contacts"] == 199
    assert shown["contacts"] == {"active": 0, "erased": 0}
    assert shown["instructions"] == []
    assert shared.ok("controllers", "show", "reg-show", user="grete")["controller"] == "reg-show"
    text = shared.text("controllers", "show", "reg-show", user="sam")
    assert "name: Reg Show ApS" in text


def test_controllers_register_refusals(shared):
    """Bad registrations: invalid id or country exit 2; a duplicate id or admin name exits 1."""
    base = ["--name", "X", "--account", "paying", "--agreement", "scc"]
    assert "invalid controller id" in shared.fails(
        2, "controllers", "register", "Bad Id", "--country", "DK", *base, user="sam"
    )
    assert "country" in shared.fails(
        2, "controllers", "register", "okid", "--country", "Denmark", *base, user="sam"
    )
    tenant = new_tenant(shared)
    assert "already exists" in shared.fails(
        1, "controllers", "register", tenant.ref, "--country", "DK", *base, user="sam"
    )
    assert "already exists" in shared.fails(
        1,
        "controllers",
        "register",
        "okid2",
        "--country",
        "DK",
        *base,
        "--admin",
        tenant.admin,
        user="sam",
    )
    shared.fails(1, "controllers", "register", "okid3", "--country", "DK", *base, user=tenant.admin)
    shared.fails(2, "controllers", "show", "okid2", user="sam")


def test_controllers_instruct__INSTR_1(shared):
    """The administrator records documented instructions; `show` lists them with who gave them."""
    tenant = new_tenant(shared)
    text = shared.text(
        "controllers",
        "instruct",
        tenant.ref,
        "--kind",
        "general",
        "--text",
        "Send newsletters.",
        user=tenant.admin,
    )
    assert text.strip() == f"recorded general instruction 1 for {tenant.ref}"
    out = shared.ok(
        "controllers",
        "instruct",
        tenant.ref,
        "--kind",
        "transfer",
        "--text",
        "  No transfers.  ",
        user=tenant.admin,
    )
    assert out["kind"] == "transfer"
    shown = shared.ok("controllers", "show", tenant.ref, user=tenant.admin)["instructions"]
    assert [(i["kind"], i["text"], i["given_by"]) for i in shown] == [
        ("general", "Send newsletters.", tenant.admin),
        ("transfer", "No transfers.", tenant.admin),
    ]
    assert "invalid instruction kind" in shared.fails(
        2,
        "controllers",
        "instruct",
        tenant.ref,
        "--kind",
        "Bad Kind",
        "--text",
        "x",
        user=tenant.admin,
    )
    shared.fails(
        2,
        "controllers",
        "instruct",
        tenant.ref,
        "--kind",
        "general",
        "--text",
        " ",
        user=tenant.admin,
    )
    shared.fails(
        1, "controllers", "instruct", tenant.ref, "--kind", "general", "--text", "x", user="sam"
    )


def test_unknown_controller_exits_2(shared):
    """An unknown controller id is invalid input (exit 2) for processor staff."""
    assert "unknown controller" in shared.fails(2, "controllers", "show", "nobody-here", user="sam")


# -- options and environment ----------------------------------------------------------------------


def test_user_from_environment_and_option(shared):
    """PROCESSOR_USER mirrors `--as`; `--as` wins over it; with neither, exit 2 (no user)."""
    tenant = new_tenant(shared)
    env = {"PROCESSOR_USER": tenant.admin}
    assert shared.ok("controllers", "show", tenant.ref, env=env)["controller"] == tenant.ref
    shared.fails(1, "contacts", "find", tenant.ref, "--email", "a@example.dk", user="sam", env=env)
    assert "no user" in shared.fails(2, "controllers", "show", tenant.ref)


def test_data_dir_option_and_environment(tmp_path):
    """`--data-dir` mirrors PROCESSOR_DATA_DIR, and wins over it."""
    runner = cli_without_data_dir(tmp_path)
    here = tmp_path / "here"
    runner.ok(
        "--data-dir",
        here,
        "init",
        "--gdpa",
        "g",
        "--system-manager",
        "s",
        "--gdpa-undertaking",
        *UNDERTAKING,
        "--manager-undertaking",
        *UNDERTAKING,
    )
    assert (here / "events.sqlite").exists()
    users = runner.ok("--data-dir", here, "users", "list", user="g")["users"]
    assert {u["name"] for u in users} == {"g", "s"}
    elsewhere = {"PROCESSOR_DATA_DIR": str(tmp_path / "elsewhere")}
    assert runner.ok("--data-dir", here, "users", "list", user="g", env=elsewhere)["users"]
    runner.fails(2, "users", "list", user="g", env=elsewhere)


def test_default_data_dir_is_processor_data(tmp_path, monkeypatch):
    """Without --data-dir or PROCESSOR_DATA_DIR the store is ./processor-data."""
    monkeypatch.chdir(tmp_path)
    runner = cli_without_data_dir(tmp_path)
    runner.ok(
        "init",
        "--gdpa",
        "g",
        "--system-manager",
        "s",
        "--gdpa-undertaking",
        *UNDERTAKING,
        "--manager-undertaking",
        *UNDERTAKING,
    )
    assert (tmp_path / "processor-data" / "events.sqlite").exists()
    assert not (tmp_path / "processor-data" / "master.key").exists()
    assert Settings(data_dir=tmp_path / "processor-data").master_key_path().exists()


def test_master_key_file_must_be_private(fresh):
    """A master.key readable by others is refused with a one-line hint (exit 2)."""
    fresh.init()
    key = fresh.settings.master_key_path()
    key.chmod(0o644)
    try:
        assert "chmod 600" in fresh.fails(2, "users", "list", user="sam")
    finally:
        key.chmod(0o600)
    assert fresh.ok("users", "list", user="sam")["users"]


def test_master_key_from_environment(fresh):
    """PROCESSOR_MASTER_KEY replaces master.key; a malformed key exits 2, a wrong one exits 3."""
    key = {"PROCESSOR_MASTER_KEY": RIGHT_KEY}
    fresh.env.update(key)
    fresh.init()
    assert not fresh.settings.master_key_path().exists()
    tenant = new_tenant(fresh)
    cid = tenant.add("mk@example.dk", "--first-name", "Maja")
    assert (
        fresh.ok("contacts", "show", tenant.ref, cid, user=tenant.admin)["fields"]["first_name"]
        == "Maja"
    )
    assert "64 hex" in fresh.fails(
        2, "users", "list", user="sam", env={"PROCESSOR_MASTER_KEY": "zz"}
    )
    error = fresh.fails(
        3,
        "contacts",
        "show",
        tenant.ref,
        cid,
        user=tenant.admin,
        env={"PROCESSOR_MASTER_KEY": WRONG_KEY},
    )
    assert "Maja" not in error


def test_processor_name_names_the_ledger(fresh):
    """`init --processor-name` names the origin of the signed checkpoints (with the key's hash)."""
    fresh.init("--processor-name", "nordic-processor")
    head = fresh.ok("ledger", "head", user="grete")
    assert head["origin"].startswith("processor/nordic-processor/")
    assert fresh.text("ledger", "public-key", user="grete").startswith(head["origin"] + "+")


@pytest.mark.parametrize("backend", [BACKENDS[1]])
def test_database_options_mirror_environment(fresh):
    """`--database-url`/`--keystore-url` mirror their variables; one schema for both is refused."""
    database, keystore = fresh.settings.database_url, fresh.settings.keystore_url
    fresh.env["PROCESSOR_DATABASE_URL"] = fresh.env["PROCESSOR_KEYSTORE_URL"] = None
    options = ["--database-url", database, "--keystore-url", keystore]
    assert (
        fresh.ok(
            *options,
            "init",
            "--gdpa",
            "grete",
            "--system-manager",
            "sam",
            "--gdpa-undertaking",
            *UNDERTAKING,
            "--manager-undertaking",
            *UNDERTAKING,
        )["backend"]
        == "postgres"
    )
    assert len(fresh.ok(*options, "users", "list", user="sam")["users"]) == 2
    env = {"PROCESSOR_DATABASE_URL": database, "PROCESSOR_KEYSTORE_URL": keystore}
    assert len(fresh.ok("users", "list", user="sam", env=env)["users"]) == 2
    error = fresh.fails(
        2, "--database-url", database, "--keystore-url", database, "users", "list", user="sam"
    )
    assert "separate" in error


def test_unknown_log_level_is_invalid_input(tmp_path):
    """An unknown PROCESSOR_LOG_LEVEL is a one-line configuration error (exit 2)."""
    runner = cli_without_data_dir(tmp_path)
    runner.env["PROCESSOR_LOG_LEVEL"] = "bogus"
    assert "PROCESSOR_LOG_LEVEL" in runner.fails(
        2, "--data-dir", tmp_path / "d", "users", "list", user="sam"
    )


def cli_without_data_dir(tmp_path):
    """A command line with none of our variables set (no data directory, SQLite)."""
    runner = Cli(Settings(data_dir=tmp_path / "unused"))
    runner.env["PROCESSOR_DATA_DIR"] = None
    return runner


# -- the real console script ----------------------------------------------------------------------


def test_console_script_exit_codes_and_one_line_errors(fresh):
    """The installed `processor` exits 2/0/1/2 with one `error: ` line on stderr for failures."""
    env = cli_env(fresh.settings)
    before = run_processor(["--as", "sam", "users", "list"], env)
    assert before.returncode == 2
    assert before.stderr.startswith("error: ")
    assert len(before.stderr.splitlines()) == 1
    assert "processor init" in before.stderr
    init = run_processor(
        ["--json", "init", "--gdpa", "grete", "--system-manager", "sam",
         "--gdpa-undertaking", *UNDERTAKING, "--manager-undertaking", *UNDERTAKING],
        env,
    )  # fmt: skip
    assert init.returncode == 0, init.stderr
    assert init.stderr == ""
    refused = run_processor(["--as", "nobody", "--json", "users", "list"], env)
    assert refused.returncode == 1
    assert json.loads(refused.stdout)["error"]["code"] == 1  # --json: the failure as a document
    assert refused.stderr.splitlines() == [
        (
            "error: refused: no valid credential for user 'nobody' "
            "(log in with `processor login nobody`) (CredentialMustBeValid)"
        )
    ]
    env["PROCESSOR_CREDENTIAL"] = json.loads(init.stdout)["credentials"]["sam"]
    bad = run_processor(["--as", "sam", "controllers", "show", "nope"], env)
    assert bad.returncode == 2
    assert bad.stderr.splitlines() == ["error: unknown controller 'nope'"]


def test_usage_errors_are_one_line(tmp_path):
    """A bad option value or a missing required option is one `error: ` line with exit 2."""
    runner = cli_without_data_dir(tmp_path)
    runner.fails(
        2, "controllers", "register", "x", "--name", "X", "--country", "DK",
        "--account", "gold", "--agreement", "scc", user="sam",
    )  # fmt: skip
    runner.fails(2, "contacts", "add", "x", "--list", "l", "--email", "a@example.dk", user="sam")
