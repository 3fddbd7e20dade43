"""Policies as data, and logs that never carry personal data."""

from __future__ import annotations

import json

import pytest
import structlog

from processor import logs
from processor.kernel.errors import ConfigurationError
from processor.policies import CONTROLLER_ROLES, PROCESSOR_ROLES, load_policies


def test_shipped_policies_validate_and_name_their_versions():
    """Every policy file loads through its pydantic model and carries a version."""
    policies = load_policies()
    assert policies.version.count(";") == 4
    assert set(policies.roles.processor) == set(PROCESSOR_ROLES)
    assert set(policies.roles.controller) == set(CONTROLLER_ROLES)


def test_default_roles_are_sensible__ACC_9():
    """Only a controller's administrator erases or exports all; a bookkeeper sees no contacts."""
    roles = load_policies().roles.controller
    for role, spec in roles.items():
        assert ("erase" in spec.permissions) == (role == "administrator")
        assert ("export.all" in spec.permissions) == (role == "administrator")
    assert not any(
        p.startswith(("contacts.", "lists.", "export")) for p in roles["bookkeeper"].permissions
    )


def test_edition_terms_differ_where_the_agreements_do__INSTR_4():
    """The current SCC fixes 24 hours for breach notice; the 2018 edition does not."""
    editions = load_policies().editions.editions
    assert editions["scc"].breach_notice_fixed_by_agreement
    assert not editions["dpa-2018"].breach_notice_fixed_by_agreement
    assert editions["scc"].deletion_after_termination_days == 120


def test_freemium_holds_fewer_than_200_contacts__SUBJ_7():
    """The freemium limit refuses the 200th contact and all SMS."""
    freemium = load_policies().accounts.accounts["freemium"]
    assert freemium.max_contacts == 199
    assert not freemium.sms_allowed


@pytest.mark.parametrize(
    ("name", "sensitive"),
    [
        ("health_note", True),
        ("Helbredsoplysninger", True),
        ("religious_belief", True),
        ("trade_union", True),
        ("control_group", False),
        ("shoe_size", False),
        ("racing_team", False),
    ],
)
def test_sensitive_field_names_are_recognised__INSTR_3(name, sensitive):
    """Special-category custom fields are recognised by the words in their names."""
    assert load_policies().fields.is_sensitive(name) is sensitive


def test_a_broken_policy_file_is_a_one_line_configuration_error(monkeypatch):
    """An invalid policy gives a configuration error that names where it is wrong."""
    from processor import policies as module

    original = module.read_policy_file

    def broken(name: str):
        data = original(name)
        if name == "accounts.toml":
            data["accounts"]["freemium"]["max_contacts"] = "many"
        return data

    module.load_policies.cache_clear()
    monkeypatch.setattr(module, "read_policy_file", broken)
    try:
        with pytest.raises(ConfigurationError, match="accounts.freemium.max_contacts"):
            module.load_policies()
    finally:
        module.load_policies.cache_clear()


def test_logs_redact_personal_values(capsys):
    """Personal fields and anything shaped like an e-mail or phone never reach the log."""
    logs.configure("INFO", json=True)
    log = structlog.get_logger("test")
    log.info(
        "imported",
        email="anne.nielsen@example.dk",
        first_name="Anne",
        note="contact anne.nielsen@example.dk or +45 12 34 56 78 about it",
        nested={"phone": "+4512345678", "count": 3},
        count=3,
    )
    line = capsys.readouterr().err.strip().splitlines()[-1]
    entry = json.loads(line)
    assert "anne" not in line.lower()
    assert "12 34 56 78" not in line and "4512345678" not in line
    assert entry["count"] == 3
    assert entry["nested"]["count"] == 3
    assert entry["email"] == logs.REDACTED


@pytest.mark.parametrize(
    ("value", "category"),
    [
        ("Has diabetes", "health"),
        ("Diabetiker siden 2019", "health"),
        ("gravid, termin i maj", "health"),
        ("Muslim", "religion"),
        ("medlem af fagforeningen", "trade_union"),
        ("likes sickle-shaped cookies", None),
        ("VIP customer, prefers SMS", None),
        ("shoe size 42", None),
    ],
)
def test_sensitive_values_are_recognised_in_english_and_danish__INSTR_3(value, category):
    """A free-text value is read for special-category words, whole words or stems only."""
    assert load_policies().fields.sensitive_category(value) == category
