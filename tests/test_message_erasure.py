"""Erasing a contact erases its messages in the same command, not at the next sweep (RET-5)."""

from __future__ import annotations

import json

from support import login

from processor.integrity.keycheck import check_keys


def test_erasure_shreds_the_contacts_messages_at_once__RET_5(acme, tmp_path):
    """`messages show` and the return export show erased content right after the erasure."""
    alice = login(acme, "alice")
    cid = str(
        alice.contacts.add("acme", "news", "kim@example.dk", "email:form", phone="+4511223344")[
            "contact_id"
        ]
    )
    other = str(alice.contacts.add("acme", "news", "lea@example.dk", "email:form")["contact_id"])
    alice.contacts.add("acme", "news", "kim@example.dk", "sms:form")  # SUBJ-8: SMS needs its own
    sent = [
        alice.messages.record("acme", cid, "email", "Private offer", "Dear Kim")["message_id"],
        alice.messages.record("acme", cid, "sms", body="Kim, your code")["message_id"],
    ]
    kept = alice.messages.record("acme", other, "email", "Hello", "Dear Lea")["message_id"]
    assert alice.messages.show("acme", sent[0])["body"] == "Dear Kim"

    alice.erasure.erase("acme", "request", contact=cid)
    acme.end_command()
    for mid in sent:
        shown = alice.messages.show("acme", mid)
        assert shown["content_erased"] is True
        assert (shown["subject"], shown["body"]) == (None, None)
    assert alice.messages.show("acme", kept)["body"] == "Dear Lea"

    out = tmp_path / "return"
    alice.returns.write("acme", out)
    rows = [json.loads(line) for line in (out / "messages.jsonl").read_text().splitlines()]
    by_id = {r["message_id"]: r for r in rows}
    assert all(by_id[mid]["content_erased"] for mid in sent)
    text = (out / "messages.jsonl").read_text() + (out / "messages.csv").read_text()
    assert "Dear Kim" not in text and "Private offer" not in text and "your code" not in text
    assert (
        check_keys(acme.store, acme.keys) == []
    )  # every destroyed key has its event, none is left alive
