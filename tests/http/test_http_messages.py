"""`messages` over HTTP: send, record, show, bounce, usage (INSTR-1, SUBJ-7, RET-7, ACC-9, ACC-12)."""

from __future__ import annotations

import uuid


def _events(api, message_id: str) -> list:
    return list(api.proc.store.events.get(uuid.UUID(message_id)))


def test_send_on_a_list_records_the_person_and_instruction__INSTR_1__ACC_12(api):
    """Mia sends on acme's news list over HTTP: one message per subscriber, each recorded as
    hers, the instruction relied on is named, and the sealed body reads back.
    """
    api.add("alice", "ann.secret@example.com")
    api.add("alice", "bo.secret@example.com")
    r = api.as_("mia", "POST", "/v1/controllers/acme/messages",
                json={"list": "news", "channel": "email", "subject": "Offer",
                      "body": "Hello Secret Reader"})  # fmt: skip
    assert r.status_code == 201, r.text
    sent = r.json()
    assert sent["sent"] == 2
    assert sent["instruction"] == "agreement:scc"
    assert sent["emails_sent"] == 2
    for mid in sent["message_ids"]:
        events = _events(api, mid)
        assert [type(e).__name__ for e in events] == ["MessageRecorded"]
        assert {e.actor for e in events} == {"mia"}
    shown = api.as_("alice", "GET", f"/v1/controllers/acme/messages/{sent['message_ids'][0]}")
    assert shown.status_code == 200, shown.text
    assert shown.json()["body"] == "Hello Secret Reader"
    assert shown.json()["content_erased"] is False
    usage = api.as_("alice", "GET", "/v1/controllers/acme/messages/usage")
    assert usage.status_code == 200, usage.text
    assert usage.json()["emails_total"] == 2


def test_refusals_name_their_rule_and_echo_nothing__SUBJ_7__INSTR_1(api):
    """A bookkeeper may not send; an instruction that is not there refuses the whole send;
    beta's freemium account sends no SMS. Each is 403 with the rule, and no content or address.
    """
    api.add("alice", "ann.secret@example.com")
    body = {"list": "news", "channel": "email", "subject": "Secret Subject", "body": "Secret Body"}
    r = api.as_("ben", "POST", "/v1/controllers/acme/messages", json=body)
    assert r.status_code == 403
    assert r.json()["rule"] == "RoleMustGrantPermission"
    r = api.as_("mia", "POST", "/v1/controllers/acme/messages", json={**body, "instruction": 99})
    assert r.status_code == 403, r.text
    assert r.json()["rule"] == "MessageMustRelyOnInstruction"
    api.add("bob", "beta.secret@example.com", controller="beta")
    r = api.as_("bob", "POST", "/v1/controllers/beta/messages", json={**body, "channel": "sms"})
    assert r.status_code == 403, r.text
    assert r.json()["rule"]
    for text in (r.text,):
        assert "Secret" not in text and "secret@" not in text
    nobody = api.as_("mia", "POST", "/v1/controllers/acme/messages/record",
                     json={"contact": "nobody.secret@example.com", "channel": "email"})  # fmt: skip
    assert nobody.status_code == 404
    assert "nobody.secret" not in nobody.text
    assert api.as_("mia", "POST", "/v1/controllers/acme/messages", json=body).json()["sent"] == 1


def test_record_bounce_and_another_controllers_ids_are_404__SUBJ_7__ACC_9(api):
    """Alice records a test message by e-mail and a bounce: it still counts. Bob gets 404 for
    acme's message, under acme's path and under his own; nothing of it is in the answer.
    """
    api.add("alice", "ann.secret@example.com")
    r = api.as_("alice", "POST", "/v1/controllers/acme/messages/record",
                json={"contact": "ann.secret@example.com", "channel": "email", "test": True,
                      "subject": "Private Subject"})  # fmt: skip
    assert r.status_code == 201, r.text
    mid = r.json()["message_id"]
    assert r.json()["test"] is True
    bounced = api.as_("alice", "POST", f"/v1/controllers/acme/messages/{mid}/bounce")
    assert bounced.status_code == 200, bounced.text
    assert bounced.json()["still_counted"] is True
    bounce = _events(api, mid)[-1]
    assert (type(bounce).__name__, bounce.actor, bounce.channel) == (
        "MessageBounced",
        "alice",
        "http",
    )
    usage = api.as_("alice", "GET", "/v1/controllers/acme/messages/usage").json()
    assert usage["emails_total"] == 1
    for path in (f"/v1/controllers/acme/messages/{mid}", f"/v1/controllers/beta/messages/{mid}"):
        other = api.as_("bob", "GET", path)
        assert other.status_code == 404, (path, other.text)
        assert "Private" not in other.text and "ann.secret" not in other.text
    assert api.as_("bob", "POST", f"/v1/controllers/beta/messages/{mid}/bounce").status_code == 404
    assert api.as_("alice", "GET", "/v1/controllers/acme/messages/not-an-id").status_code == 400


def test_a_sent_message_records_the_http_channel__ACC_12(api):
    """Every event of an HTTP request records the channel `http`, a `MessageRecorded` too."""
    api.add("alice", "ann.secret@example.com")
    r = api.as_("mia", "POST", "/v1/controllers/acme/messages",
                json={"list": "news", "channel": "email", "body": "Hi"})  # fmt: skip
    assert r.status_code == 201, r.text
    (mid,) = r.json()["message_ids"]
    assert {e.channel for e in _events(api, mid)} == {"http"}


def test_handoff_gives_the_carrier_address_and_content_only_and_bob_gets_404__SUB_9__ACC_9(api):
    """`GET .../messages/handoff?via=` hands an e-mail's carrier the address, subject and body
    (no name, no contact id); another controller's user is refused acme's handoff.
    """
    added = api.add("alice", "ann.secret@example.com")
    r = api.as_("alice", "POST", "/v1/controllers/acme/messages/record",
                json={"contact": "ann.secret@example.com", "channel": "email",
                      "subject": "Private Subject"})  # fmt: skip
    assert r.status_code == 201, r.text
    via = r.json()["subprocessor"]
    handed = api.as_("alice", "GET", "/v1/controllers/acme/messages/handoff", params={"via": via})
    assert handed.status_code == 200, handed.text
    assert handed.json()["messages"] == [
        {"message_id": r.json()["message_id"], "channel": "email",
         "to": "ann.secret@example.com", "subject": "Private Subject"}
    ]  # fmt: skip
    assert added not in handed.text
    other = api.as_("bob", "GET", "/v1/controllers/acme/messages/handoff", params={"via": via})
    assert other.status_code in (403, 404) and "ann.secret" not in other.text
