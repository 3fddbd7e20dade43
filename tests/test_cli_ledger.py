"""End-to-end: `ledger head|verify|prove|consistency|public-key` and `receipts verify --consistency`."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from urllib.parse import parse_qs

import sqlalchemy as sa
from cli_helpers import Cli, new_tenant


def test_ledger_head_and_verify_on_a_clean_store__AUD_4(shared):
    """`ledger head` prints the signed checkpoint; `ledger verify` exits 0 on an untouched store."""
    tenant = new_tenant(shared)
    tenant.add("a@example.dk")
    head = shared.ok("ledger", "head", user="grete")
    assert head["size"] >= 5
    assert head["simulation"] is False
    assert head["checkpoint"].splitlines()[:2] == [head["origin"], str(head["size"])]
    text = shared.text("ledger", "head", user=tenant.admin)
    assert text.splitlines()[1] == str(head["size"])
    verified = shared.text("ledger", "verify", user="grete")
    assert verified.startswith(f"ledger verified: {head['size']} events, ")
    report = shared.ok("ledger", "verify", user="sam")
    assert report["ok"] is True
    assert report["records_checked"] == head["size"]
    assert report["first_bad_index"] is None
    assert report["simulation"] is False


def test_ledger_prove_gives_an_inclusion_proof(shared):
    """`ledger prove N --json` returns the leaf, its inclusion proof and the signed checkpoint."""
    head = shared.ok("ledger", "head", user="grete")
    proof = shared.ok("ledger", "prove", "1", user="grete")
    assert proof["position"] == 1
    assert proof["leaf_index"] == 0
    assert proof["tree_size"] == head["size"]
    assert proof["root"] == head["root"]
    assert proof["checkpoint"] == head["checkpoint"]
    assert len(proof["leaf_hash"]) == 64
    assert proof["inclusion_proof"]
    assert all(len(h) == 64 for h in proof["inclusion_proof"])
    assert "no event at position" in shared.fails(2, "ledger", "prove", "0", user="grete")
    shared.fails(2, "ledger", "prove", str(head["size"] + 1000), user="grete")


def test_ledger_public_key_is_the_init_key(shared):
    """`ledger public-key` prints the verifier key, as text or JSON."""
    text = shared.text("ledger", "public-key", user="grete").strip()
    assert shared.ok("ledger", "public-key", user="sam") == {"public_key": text}
    assert text.startswith(shared.ok("ledger", "head", user="grete")["origin"] + "+")


def test_consistency_proof_extends_a_receipt(shared, tmp_path):
    """A consistency proof from the receipt's checkpoint to a later one verifies with the receipt."""
    tenant = new_tenant(shared)
    cid = tenant.add("b@example.dk")
    receipt = tmp_path / "receipt.json"
    shared.ok(
        "erase",
        tenant.ref,
        "--contact",
        cid,
        "--reason",
        "asked",
        "--receipt",
        receipt,
        user=tenant.admin,
    )
    first = shared.ok("ledger", "head", user=tenant.admin)["size"]
    key = shared.public_key(tmp_path / "ledger.pub", user=tenant.admin)
    assert shared.ok("receipts", "verify", receipt, "--public-key", key)["tree_size"] == first
    tenant.add("c@example.dk")
    tenant.add("d@example.dk")
    second = shared.ok("ledger", "head", user=tenant.admin)["size"]
    assert second == first + 2
    text = shared.text("ledger", "consistency", "--from", first, "--to", second, user=tenant.admin)
    proof = tmp_path / "consistency.json"
    proof.write_text(text, encoding="utf-8")
    assert json.loads(text)
    out = shared.ok("receipts", "verify", receipt, "--public-key", key, "--consistency", proof)
    assert out["ok"] is True
    latest = tmp_path / "latest.json"
    latest.write_text(
        shared.text("ledger", "consistency", "--from", first, user="grete"), encoding="utf-8"
    )
    shared.ok("receipts", "verify", receipt, "--public-key", key, "--consistency", latest)
    wrong = tmp_path / "wrong.json"
    wrong.write_text(
        shared.text("ledger", "consistency", "--from", first + 1, "--to", second, user="grete"),
        encoding="utf-8",
    )
    shared.fails(3, "receipts", "verify", receipt, "--public-key", key, "--consistency", wrong)
    shared.fails(2, "ledger", "consistency", "--from", second, "--to", first, user="grete")
    shared.fails(2, "ledger", "consistency", "--from", "0", user="grete")
    broken = tmp_path / "broken.json"
    broken.write_text(text.replace('"', "'"), encoding="utf-8")
    shared.fails(2, "receipts", "verify", receipt, "--public-key", key, "--consistency", broken)


def test_ledger_needs_ledger_read__ACC_9(shared):
    """Roles without ledger access (marketing, bookkeeper, support) are refused (exit 1)."""
    tenant = new_tenant(shared)
    for role in ("marketing", "bookkeeper"):
        user = tenant.user(role)
        shared.fails(1, "ledger", "head", user=user)
        shared.fails(1, "ledger", "verify", user=user)
    shared.ok("users", "add", "ledger-sup", "--role", "support", "--confidentiality-signed", "2026-01-01",
              "--trained", "2026-01-01", user="sam")  # fmt: skip
    shared.fails(1, "ledger", "prove", "1", user="ledger-sup")
    shared.ok("users", "add", "ledger-dev", "--role", "developer", user="sam")
    assert shared.ok("ledger", "prove", "1", user="ledger-dev")["leaf_index"] == 0


def tamper_with_first_event(settings, contact_id):
    """Change one byte of the contact's first stored event (its year of consent), behind the store's back."""
    if settings.database_url:
        url, _, query = settings.database_url.partition("?")
        schema = parse_qs(query)["schema"][0]
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        table, originator = f'"{schema}".processor_events', uuid.UUID(contact_id)
    else:
        engine = sa.create_engine(f"sqlite:///{settings.data_dir / 'events.sqlite'}")
        table, originator = "stored_events", uuid.UUID(contact_id).hex
    where = "WHERE originator_id = :o AND originator_version = 1"
    try:
        with engine.begin() as conn:
            state = bytes(
                conn.execute(
                    sa.text(f"SELECT state FROM {table} {where}"), {"o": originator}
                ).scalar_one()
            )
            assert b'"given_at":"20' in state
            changed = state.replace(b'"given_at":"20', b'"given_at":"21', 1)
            conn.execute(
                sa.text(f"UPDATE {table} SET state = :s {where}"), {"s": changed, "o": originator}
            )
    finally:
        engine.dispose()


def test_ledger_verify_detects_a_changed_event__AUD_4(settings):
    """One byte changed in a stored event makes `ledger verify` exit 3 and name the position."""
    fresh = Cli(settings)
    fresh.init()
    tenant = new_tenant(fresh)
    cid = tenant.add("e@example.dk")
    tenant.add("f@example.dk")
    assert fresh.ok("ledger", "verify", user="grete")["ok"] is True
    tamper_with_first_event(settings, cid)
    error = fresh.fails(3, "ledger", "verify", user="grete")
    assert error.startswith("error: ledger verification failed at position ")
    result = fresh.run("ledger", "verify", user="grete", as_json=True)
    assert result.exit_code == 3
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert report["first_bad_position"] is not None
    assert f"position {report['first_bad_position']} " in result.stderr


def test_timestamps_are_timezone_aware(shared):
    """Times printed by `ledger head` and `users list` carry their UTC offset on every backend."""
    head = shared.ok("ledger", "head", user="grete")
    assert datetime.fromisoformat(head["signed_at"]).utcoffset() is not None
    for user in shared.ok("users", "list", user="grete")["users"]:
        assert datetime.fromisoformat(user["created_at"]).utcoffset() is not None
