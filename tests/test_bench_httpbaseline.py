"""The HTTP figure's baseline app: a plain FastAPI + eventsourcing `contacts add` (issue 28)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from uuid import UUID

from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.baselines import PlainContact  # noqa: E402 - the bench lives beside src/, not in it
from bench.httpbaseline import app  # noqa: E402


def test_baseline_post_saves_one_plain_contact_aggregate(tmp_path):
    """POST answers 201 like ours and saves one unsealed `ContactAdded`-shaped aggregate."""
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(tmp_path / "events.sqlite"),
    }
    api = app(env)
    with TestClient(api) as client:
        answer = client.post(
            "/v1/controllers/acme/contacts",
            json={"list": "news", "email": "ann@example.com", "consent": "email:form",
                  "first_name": "Ann"},
        )  # fmt: skip
        assert answer.status_code == 201
        body = answer.json()
        assert body["created"] is True
        plain = api.state.plain
        contact = plain.repository.get(UUID(body["contact_id"]))
        assert isinstance(contact, PlainContact)
        assert contact.controller == "acme"
        assert json.loads(contact.profile) == {"email": "ann@example.com", "first_name": "Ann"}
        assert contact.lists == {"news": True}
        assert contact.consents[0]["channel"] == "email"
        assert contact.consents[0]["method"] == "form"
        assert contact.version == 1
        notes = plain.recorder.select_notifications(start=1, limit=10)
        assert [n.topic.rsplit(".", 1)[-1] for n in notes] == ["ContactAdded"]


def test_baseline_rejects_a_body_without_consent(tmp_path):
    """The body is validated as ours is: a missing consent is 422 and nothing is saved."""
    api = app({"PERSISTENCE_MODULE": "eventsourcing.sqlite",
               "SQLITE_DBNAME": str(tmp_path / "events.sqlite")})  # fmt: skip
    with TestClient(api) as client:
        answer = client.post(
            "/v1/controllers/acme/contacts", json={"list": "news", "email": "a@example.com"}
        )
        assert answer.status_code == 422
        assert api.state.plain.recorder.select_notifications(start=1, limit=10) == []
