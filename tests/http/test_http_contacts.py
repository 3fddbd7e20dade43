"""Contacts over HTTP: the CLI's contact commands, through the real ASGI app (SUBJ-1..6, RET-3)."""

from __future__ import annotations

import csv
import io
import json

from ledger import Verifier, verify_receipt


def test_add_find_show_and_readd_keep_one_contact__SUBJ_4(api):
    """Adding, finding and showing work as on the CLI; the same e-mail again is the same person."""
    cid = api.add("mia", "ann@example.com")
    r = api.as_("mia", "GET", "/v1/controllers/acme/contacts", params={"email": "ANN@example.com"})
    assert r.status_code == 200
    assert r.json()["contact_id"] == cid
    again = api.as_("mia", "POST", "/v1/controllers/acme/contacts",
                    json={"list": "offers", "email": "ann@example.com", "consent": "email:form"})  # fmt: skip
    assert again.status_code == 201
    assert again.json() == {"contact_id": cid, "created": False}
    shown = api.as_("alice", "GET", f"/v1/controllers/acme/contacts/{cid}").json()
    assert shown["fields"]["email"] == "ann@example.com"
    assert set(shown["lists"]) == {"news", "offers"}


def test_bad_input_is_a_one_line_problem_without_personal_data__SUBJ_1(api):
    """A malformed e-mail is a 400 problem; the value itself is never echoed."""
    r = api.as_("mia", "POST", "/v1/controllers/acme/contacts",
                json={"list": "news", "email": "not-an-address-secret", "consent": "email:x"})  # fmt: skip
    assert r.status_code == 400
    assert "not-an-address-secret" not in r.text
    assert "\n" not in r.json()["detail"]
    r = api.as_("mia", "POST", "/v1/controllers/acme/contacts", json={"list": "news"})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"


def test_import_streams_a_csv_body_and_counts_rejects__SUBJ_1(api):
    """A `text/csv` body is imported as it arrives; bad rows are counted, good rows added."""
    rows = "".join(f"p{i}@example.com,P{i}\n" for i in range(1500))

    def body():  # sent in pieces: the server never needs the whole file at once
        yield b"email,first_name\n"
        for start in range(0, len(rows), 4096):
            yield rows[start : start + 4096].encode()
        yield b"broken,row\n"

    r = api.as_("mia", "POST", "/v1/controllers/acme/contacts/import",
                params={"list": "news", "consent_method": "double-opt-in"},
                headers={"Content-Type": "text/csv"}, content=body())  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["added"] == 1500
    assert r.json()["rejected"] == 1
    r = api.as_("mia", "GET", "/v1/controllers/acme/lists/news", params={"limit": 1000})
    page = r.json()
    assert page["count"] == 1500
    assert len(page["items"]) == 1000
    rest = api.as_("mia", "GET", "/v1/controllers/acme/lists/news",
                   params={"limit": 1000, "cursor": page["next_cursor"]}).json()  # fmt: skip
    assert len(rest["items"]) == 500
    assert rest["next_cursor"] is None
    seen = {m["contact_id"] for m in page["items"]} | {m["contact_id"] for m in rest["items"]}
    assert len(seen) == 1500  # the pages neither overlap nor leave anyone out


def test_rectify_unsubscribe_restrict_object__SUBJ_4(api):
    """Rectification, unsubscribe, restriction and objection each change what the CLI shows."""
    cid = api.add("mia", "bo@example.com")
    r = api.as_("mia", "PATCH", f"/v1/controllers/acme/contacts/{cid}",
                json={"set": {"first_name": "Bo"}})  # fmt: skip
    assert r.json()["changed"] == ["first_name"]
    r = api.as_("mia", "POST", f"/v1/controllers/acme/contacts/{cid}/unsubscribe",
                json={"list": "news"})  # fmt: skip
    assert r.json()["subscribed"] is False
    r = api.as_("alice", "POST", f"/v1/controllers/acme/contacts/{cid}/restrict",
                json={"reason": "disputed accuracy"})  # fmt: skip
    assert r.json()["restricted"] is True
    r = api.as_("alice", "POST", f"/v1/controllers/acme/contacts/{cid}/object", json={})
    assert r.json()["objected"] is True
    shown = api.as_("alice", "GET", f"/v1/controllers/acme/contacts/{cid}").json()
    assert shown["fields"]["first_name"] == "Bo"
    assert shown["restricted"] is True


def test_export_streams_json_and_csv__SUBJ_6(api):
    """Exports stream in a standard format: JSON with every contact, or CSV with a header."""
    for i in range(3):
        api.add("alice", f"e{i}@example.com")
    with api.client.stream("GET", "/v1/controllers/acme/export", params={"all": "true"},
                           headers=api.auth("alice")) as r:  # fmt: skip
        assert r.status_code == 200
        data = json.loads(b"".join(r.iter_bytes()))
    assert len(data["contacts"]) == 3
    r = api.as_("alice", "GET", "/v1/controllers/acme/export",
                params={"all": "true", "format": "csv"})  # fmt: skip
    assert r.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(r.text)))
    assert sorted(row["email"] for row in table) == [f"e{i}@example.com" for i in range(3)]


def test_export_all_is_refused_for_marketing_with_the_rule__SUBJ_6(api):
    """A streamed export still answers a refusal with 403 and the rule, not a broken stream."""
    r = api.as_("mia", "GET", "/v1/controllers/acme/export", params={"all": "true"})
    assert r.status_code == 403
    assert r.json()["rule"] == "RoleMustGrantPermission"


def test_erase_answers_a_receipt_that_verifies_offline__RET_3(api):
    """Erasure over HTTP returns the signed receipt; it verifies with the public key alone."""
    cid = api.add("alice", "gone@example.com")
    r = api.as_("alice", "POST", "/v1/controllers/acme/erase",
                json={"email": "gone@example.com", "reason": "subject asked"})  # fmt: skip
    assert r.status_code == 200, r.text
    receipt = r.json()
    assert receipt["metadata"]["details"]["contact_id"] == cid
    vkey = api.client.get("/.well-known/processor-ledger.pub").text.strip()
    result = verify_receipt(receipt, Verifier.from_vkey(vkey))
    assert result.kind == "erasure"
    again = api.as_("alice", "GET", f"/v1/receipts/erasure/{cid}")
    assert again.status_code == 200
    assert verify_receipt(again.json(), Verifier.from_vkey(vkey)).kind == "erasure"
    shown = api.as_("alice", "GET", f"/v1/controllers/acme/contacts/{cid}").json()
    assert shown["erased"] is True
    assert "gone@example.com" not in json.dumps(shown)
