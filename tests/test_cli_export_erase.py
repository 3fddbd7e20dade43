"""End-to-end: `export` (SUBJ-4, SUBJ-6), `erase` (RET-5) and `receipts verify` of its receipt."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import stat

import pytest
from cli_helpers import new_tenant, run_processor

from ledger import Signer
from processor.policies import load_policies


@pytest.fixture(scope="module")
def erased(shared, tmp_path_factory):
    """A controller with three contacts, one of them erased with a receipt and the public key."""
    files = tmp_path_factory.mktemp("erasure")
    tenant = new_tenant(shared)
    keep = tenant.add("keep@example.dk", "--first-name", "Karen", "--field", "custom.shoe_size=39")
    gone = tenant.add("gone@example.dk", "--first-name", "Gunnhild", "--last-name", "Ravnsborg",
                      "--phone", "+45 61 62 63 64", "--field", "custom.shoe_size=44",
                      consent="email:double-opt-in:form 7781 at the fair")  # fmt: skip
    tenant.add("gone@example.dk", list_name="vip", consent="sms:web-form:order 99120")
    tenant.add("third@example.dk")
    receipt = files / "receipt.json"
    out = shared.ok(
        "erase", tenant.ref, "--email", "gone@example.dk", "--reason", "data subject request",
        "--receipt", receipt, user=tenant.admin,
    )  # fmt: skip
    key = shared.public_key(files / "ledger.pub")
    return {
        "tenant": tenant,
        "keep": keep,
        "gone": gone,
        "receipt": receipt,
        "key": key,
        "out": out,
    }


SECRETS = ("gone@example.dk", "Gunnhild", "Ravnsborg", "61 62 63 64", "form 7781", "order 99120")


def assert_no_secret(text):
    """The erased subject's values appear nowhere in `text`."""
    for secret in SECRETS:
        assert secret not in text


# -- export ---------------------------------------------------------------------------------------


def test_export_one_contact_as_json__SUBJ_4(shared):
    """`export --contact` prints one JSON document with the subject's values, consents and lists."""
    tenant = new_tenant(shared)
    cid = tenant.add("lene@example.dk", "--first-name", "Lene", "--field", "city=Roskilde")
    tenant.add("lene@example.dk", list_name="vip")
    shared.ok("contacts", "unsubscribe", tenant.ref, cid, "--list", "vip", user=tenant.admin)
    doc = shared.ok("export", tenant.ref, "--contact", cid, user=tenant.admin)
    assert doc["format"] == "processor-export/1"
    assert (doc["controller"], doc["scope"], doc["exported_by"]) == (
        tenant.ref,
        "contact",
        tenant.admin,
    )
    assert doc["simulation"] is False
    [contact] = doc["contacts"]
    assert contact["contact_id"] == cid
    assert contact["fields"] == {
        "email": "lene@example.dk",
        "first_name": "Lene",
        "city": "Roskilde",
    }
    assert [(c["list"], c["method"], c["evidence"]) for c in contact["consents"]] == [
        ("news", "double-opt-in", "signup form"),
        ("vip", "double-opt-in", "signup form"),
    ]
    assert contact["lists"]["news"]["subscribed"] is True
    assert contact["lists"]["vip"]["subscribed"] is False
    by_email = shared.ok("export", tenant.ref, "--email", "LENE@example.dk", user=tenant.admin)
    assert by_email["contacts"] == doc["contacts"]


def test_export_to_file_reports_count_and_digest__SUBJ_6(shared, tmp_path):
    """`export --out` writes the file and prints its contact count and SHA-256."""
    tenant = new_tenant(shared)
    cid = tenant.add("mads@example.dk", "--first-name", "Mads")
    out = tmp_path / "subject.json"
    summary = shared.ok("export", tenant.ref, "--contact", cid, "--out", out, user=tenant.admin)
    assert summary["contacts"] == 1
    assert summary["out"] == str(out)
    assert summary["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    recorded = shared.controller_events(tenant.ref)[-1]
    assert (type(recorded).__name__, recorded.sha256, recorded.contacts) == (
        "DataExported", summary["sha256"], 1,
    )  # fmt: skip
    assert (
        json.loads(out.read_text(encoding="utf-8"))["contacts"][0]["fields"]["first_name"] == "Mads"
    )
    assert not out.with_name(out.name + ".partial").exists()
    text = shared.text(
        "export", tenant.ref, "--all", "--out", tmp_path / "all.json", user=tenant.admin
    )
    assert text.startswith(f"exported 1 contacts to {tmp_path / 'all.json'}")


def test_export_all_as_csv__SUBJ_6(shared, tmp_path):
    """`export --all --format csv` has the vocabulary as header and one row per live contact."""
    tenant = new_tenant(shared)
    tenant.add(
        "nina@example.dk",
        "--first-name",
        "Nina",
        "--phone",
        "+4520304050",
        "--field",
        "custom.shoe_size=37",
    )
    tenant.add("ole@example.dk", "--last-name", "Olsen", "--field", "custom.vip_level=gold")
    gone = tenant.add("pia@example.dk", "--first-name", "Pia")
    shared.ok("erase", tenant.ref, "--contact", gone, "--reason", "asked", user=tenant.admin)
    path = tmp_path / "all.csv"
    summary = shared.ok(
        "export", tenant.ref, "--all", "--format", "csv", "--out", path, user=tenant.admin
    )
    assert summary["contacts"] == 2
    assert summary["format"] == "csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    standard = list(load_policies().fields.standard)
    assert rows[0] == ["contact_id", *standard, "shoe_size", "vip_level", "lists", "unsubscribed_lists",
                       "restricted", "objected", "erased", "source", "added_at", "consents"]  # fmt: skip
    records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert sorted(r["email"] for r in records) == ["nina@example.dk", "ole@example.dk"]
    nina = next(r for r in records if r["email"] == "nina@example.dk")
    assert (nina["first_name"], nina["phone"], nina["shoe_size"], nina["lists"]) == (
        "Nina", "+4520304050", "37", "news",
    )  # fmt: skip
    assert json.loads(nina["consents"])[0]["method"] == "double-opt-in"
    assert "Pia" not in path.read_text(encoding="utf-8")


def test_export_needs_exactly_one_scope(shared):
    """`export` needs exactly one of --contact, --email or --all (exit 2)."""
    tenant = new_tenant(shared)
    cid = tenant.add("rut@example.dk")
    shared.fails(2, "export", tenant.ref, user=tenant.admin)
    shared.fails(2, "export", tenant.ref, "--contact", cid, "--all", user=tenant.admin)
    shared.fails(
        2, "export", tenant.ref, "--contact", cid, "--email", "rut@example.dk", user=tenant.admin
    )


def test_export_to_missing_directory_exits_2(shared, tmp_path):
    """An export file in a directory that does not exist is invalid input (exit 2)."""
    tenant = new_tenant(shared)
    tenant.add("sol@example.dk")
    shared.fails(
        2,
        "export",
        tenant.ref,
        "--all",
        "--out",
        tmp_path / "missing" / "x.json",
        user=tenant.admin,
    )


# -- erase ----------------------------------------------------------------------------------------


def test_erase_prints_the_receipt__RET_5(shared, erased):
    """`erase --json` prints the receipt: erasure of the contact by the administrator, not simulated."""
    out = erased["out"]
    assert out["kind"] == "erasure"
    assert out["metadata"]["simulation"] is False
    details = out["metadata"]["details"]
    assert details["contact_id"] == erased["gone"]
    assert details["controller"] == erased["tenant"].ref
    assert details["erased_by"] == erased["tenant"].admin
    assert "crypto-shredding" in details["method"]
    assert json.loads(erased["receipt"].read_text(encoding="utf-8")) == out
    assert_no_secret(erased["receipt"].read_text(encoding="utf-8"))


def test_erased_subject_is_gone_from_every_read__RET_5(shared, erased):
    """After `erase`, find/show/lists show/export hold none of the subject's values."""
    tenant, gone = erased["tenant"], erased["gone"]
    admin = tenant.admin
    shared.fails(2, "contacts", "find", tenant.ref, "--email", "gone@example.dk", user=admin)
    shared.fails(2, "contacts", "show", tenant.ref, "gone@example.dk", user=admin)
    shown = shared.run("contacts", "show", tenant.ref, gone, user=admin, as_json=True)
    assert json.loads(shown.stdout)["fields"] == "[erased]"
    assert json.loads(shown.stdout)["erased"] is True
    assert_no_secret(shown.stdout)
    for list_name in ("news", "vip"):
        members = shared.run("lists", "show", tenant.ref, list_name, user=admin, as_json=True)
        assert gone not in members.stdout
        assert_no_secret(members.stdout)
    everything = shared.run("export", tenant.ref, "--all", user=admin)
    assert gone not in everything.stdout
    assert_no_secret(everything.stdout)
    assert len(json.loads(everything.stdout)["contacts"]) == 2
    one = shared.run("export", tenant.ref, "--contact", gone, user=admin)
    assert json.loads(one.stdout)["contacts"][0]["fields"] == "[erased]"
    assert_no_secret(one.stdout)
    assert shared.ok("controllers", "show", tenant.ref, user=admin)["contacts"] == {
        "active": 2,
        "erased": 1,
    }
    kept = shared.ok("contacts", "show", tenant.ref, erased["keep"], user=admin)
    assert kept["fields"]["first_name"] == "Karen"


def test_erased_contact_cannot_be_changed_or_erased_again__RET_5(shared, erased):
    """An erased contact is refused further changes and a second erasure (exit 1)."""
    tenant, gone = erased["tenant"], erased["gone"]
    admin = tenant.admin
    assert "already erased" in shared.fails(
        1, "erase", tenant.ref, "--contact", gone, "--reason", "x", user=admin
    )
    shared.fails(1, "contacts", "update", tenant.ref, gone, "--set", "first_name=Back", user=admin)
    shared.fails(1, "contacts", "restrict", tenant.ref, gone, user=admin)
    shared.fails(2, "erase", tenant.ref, "--email", "gone@example.dk", "--reason", "x", user=admin)


def test_erased_email_can_be_added_again_as_a_new_contact(shared):
    """The e-mail of an erased subject can join again, as a new contact with a new id."""
    tenant = new_tenant(shared)
    first = tenant.add("again@example.dk", "--first-name", "Old")
    shared.ok("erase", tenant.ref, "--contact", first, "--reason", "asked", user=tenant.admin)
    second = tenant.add("again@example.dk")
    assert second != first
    found = shared.ok(
        "contacts", "find", tenant.ref, "--email", "again@example.dk", user=tenant.admin
    )
    assert found["contact_id"] == second
    assert "first_name" not in found["fields"]


def test_erase_input_errors_exit_2(shared, tmp_path):
    """`erase` needs one of --contact/--email, a non-blank reason and an existing receipt folder."""
    tenant = new_tenant(shared)
    cid = tenant.add("tor@example.dk")
    admin = tenant.admin
    shared.fails(2, "erase", tenant.ref, "--reason", "x", user=admin)
    shared.fails(
        2,
        "erase",
        tenant.ref,
        "--contact",
        cid,
        "--email",
        "tor@example.dk",
        "--reason",
        "x",
        user=admin,
    )
    shared.fails(2, "erase", tenant.ref, "--contact", cid, "--reason", "  ", user=admin)
    shared.fails(2, "erase", tenant.ref, "--contact", cid, "--reason", "x",
                 "--receipt", tmp_path / "missing" / "r.json", user=admin)  # fmt: skip
    assert tenant.active() == 1


# -- receipts -------------------------------------------------------------------------------------


def test_receipt_verifies_offline(shared, erased):
    """`receipts verify R --public-key K` accepts the erasure receipt (exit 0), not as simulation."""
    receipt, key = erased["receipt"], erased["key"]
    text = shared.text("receipts", "verify", receipt, "--public-key", key)
    assert text.startswith("receipt verified: erasure at leaf ")
    out = shared.ok("receipts", "verify", receipt, "--public-key", key)
    assert out["ok"] is True
    assert out["kind"] == "erasure"
    assert out["simulation"] is False
    assert out["details"]["contact_id"] == erased["gone"]
    assert out["leaf_index"] == erased["out"]["leaf_index"]


def _flip(text):
    """The same text with its last hex/base64 character changed."""
    last = text[-1]
    return text[:-1] + ("0" if last != "0" else "1")


TAMPERINGS = {
    "proof-hash": lambda r: r["inclusion_proof"].__setitem__(0, _flip(r["inclusion_proof"][0])),
    "record-state": lambda r: r["record"].__setitem__(
        "state_b64",
        r["record"]["state_b64"][:20]
        + _flip(r["record"]["state_b64"][20])
        + r["record"]["state_b64"][21:],
    ),
    "record-position": lambda r: r["record"].__setitem__("position", r["record"]["position"] + 1),
    "leaf-index": lambda r: r.__setitem__("leaf_index", r["leaf_index"] + 1),
    "details": lambda r: r["metadata"]["details"].__setitem__("erased_by", "someone-else"),
    "simulation-flag": lambda r: r["metadata"].__setitem__("simulation", True),
    "checkpoint": lambda r: r.__setitem__("checkpoint", r["checkpoint"].replace("\n", "\n1", 1)),
    "signature": lambda r: r.__setitem__(
        "signature", _flip(r["signature"][:-1]) + r["signature"][-1]
    ),
}


@pytest.mark.parametrize("where", sorted(TAMPERINGS))
def test_tampered_receipt_fails_with_exit_3(shared, erased, tmp_path, where):
    """A receipt with one value changed does not verify: exit 3, one line."""
    receipt = json.loads(erased["receipt"].read_text(encoding="utf-8"))
    TAMPERINGS[where](receipt)
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(receipt, indent=2), encoding="utf-8")
    assert "does not verify" in shared.fails(
        3, "receipts", "verify", path, "--public-key", erased["key"]
    )


def test_receipt_with_one_byte_changed_fails_in_a_real_process(shared, erased, tmp_path):
    """The console script exits 3 with one `error: ` line when one byte of a proof hash changes."""
    text = erased["receipt"].read_text(encoding="utf-8")
    proof = json.loads(text)["inclusion_proof"][0]
    path = tmp_path / "tampered.json"
    path.write_text(text.replace(proof, _flip(proof)), encoding="utf-8")
    done = run_processor(["receipts", "verify", str(path), "--public-key", str(erased["key"])], {})
    assert done.returncode == 3
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith("error: receipt does not verify")


def test_receipt_with_another_key_or_bad_files(shared, erased, tmp_path):
    """Another key of the same name fails the receipt (exit 3); unreadable files exit 2."""
    origin = json.loads(erased["receipt"].read_text(encoding="utf-8"))["checkpoint"].split("\n", 1)[
        0
    ]
    other = tmp_path / "other.pub"
    other.write_text(Signer.generate(origin).vkey() + "\n", encoding="utf-8")
    assert "does not verify" in shared.fails(
        3, "receipts", "verify", erased["receipt"], "--public-key", other
    )
    garbage_key = tmp_path / "garbage.pub"
    garbage_key.write_text("not a key\n", encoding="utf-8")
    assert "invalid public key" in shared.fails(
        2, "receipts", "verify", erased["receipt"], "--public-key", garbage_key
    )
    not_json = tmp_path / "r.json"
    not_json.write_text("{", encoding="utf-8")
    assert "cannot read receipt" in shared.fails(
        2, "receipts", "verify", not_json, "--public-key", erased["key"]
    )
    empty = tmp_path / "empty.json"
    empty.write_text("{}", encoding="utf-8")
    shared.fails(3, "receipts", "verify", empty, "--public-key", erased["key"])


def test_files_with_personal_data_are_not_readable_by_other_accounts__ACC_1(shared, tmp_path):
    """An export is 0600 and a return's folder 0700 whatever the umask: a support user with a
    shell on the same machine cannot read what a controller's administrator exported.
    """
    tenant = new_tenant(shared)
    tenant.add("vera@example.dk", "--first-name", "Vera")
    previous = os.umask(0o022)
    try:
        one = tmp_path / "one.json"
        shared.ok("export", tenant.ref, "--email", "vera@example.dk", "--out", one,
                  user=tenant.admin)  # fmt: skip
        every = tmp_path / "all.csv"
        shared.ok("export", tenant.ref, "--all", "--format", "csv", "--out", every,
                  user=tenant.admin)  # fmt: skip
        returned = tmp_path / "return"
        shared.ok("export", tenant.ref, "--all", "--out", returned, user=tenant.admin)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(one.stat().st_mode) == 0o600
    assert stat.S_IMODE(every.stat().st_mode) == 0o600
    assert stat.S_IMODE(returned.stat().st_mode) == 0o700
    for path in returned.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
