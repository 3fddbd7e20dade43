"""The HTTP baseline: a plain FastAPI + eventsourcing app saving one unsealed contact per request.

It answers `POST /v1/controllers/{controller}/contacts` with the body our `contacts add` route
takes, builds the same `PlainContact` the import baseline saves (`bench.baselines`, so both
baselines are the same thing) and saves it with `app.save()`: no authentication, no sealing, no
projection, no ledger. The route is sync (`def`), like ours, and the bench serves it under uvicorn
with the settings of `processor serve`.

The persistence settings (`Backend.eventsourcing_env`: `eventsourcing.sqlite` with its file, or
`eventsourcing.postgres` with a fresh schema) arrive as JSON in `BENCH_HTTP_BASELINE_ENV`; each
uvicorn worker builds its own `PlainApp` on the same database.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

from bench.baselines import PlainApp, PlainContact

ENV_VAR = "BENCH_HTTP_BASELINE_ENV"
Text = Annotated[str, Field(max_length=10_000)]


class ContactIn(BaseModel):
    """The body of our `contacts add` route (`processor.api.routes.contacts.ContactIn`)."""

    list: Text
    email: Text
    consent: Text
    phone: Text | None = None
    first_name: Text | None = None
    last_name: Text | None = None
    fields: dict[str, Text] = Field(default_factory=dict)
    consent_at: Text | None = None


def contact_of(controller: str, body: ContactIn) -> PlainContact:
    """The plain aggregate for one request: the profile as plain JSON, not sealed."""
    given = {"email": body.email, "phone": body.phone, "first_name": body.first_name,
             "last_name": body.last_name}  # fmt: skip
    profile = {**{k: v for k, v in given.items() if v is not None}, **body.fields}
    channel, _, rest = body.consent.partition(":")
    method, _, evidence = rest.partition(":")
    return PlainContact(
        id=uuid.uuid4(),
        actor="alice",
        controller=controller,
        profile=json.dumps(profile, separators=(",", ":"), ensure_ascii=False),
        fields=sorted(profile),
        source="api",
        list_name=body.list,
        consent={
            "channel": channel,
            "method": method,
            "evidence": evidence,
            "given_at": body.consent_at or datetime.now(tz=UTC).isoformat(),
        },
    )


def app(env: dict[str, str] | None = None) -> FastAPI:
    """The uvicorn factory (`--factory bench.httpbaseline:app`): one app per worker."""
    if env is None:
        env = json.loads(os.environ.get(ENV_VAR) or "{}")
    plain = PlainApp(env=env)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        plain.close()

    api = FastAPI(lifespan=lifespan, title="plain eventsourcing baseline")
    api.state.plain = plain

    @api.post("/v1/controllers/{controller}/contacts", status_code=201)
    def contacts_add(controller: str, body: ContactIn) -> dict[str, Any]:
        contact = contact_of(controller, body)
        plain.save(contact)
        return {"contact_id": str(contact.id), "created": True}

    @api.get("/health")
    def health() -> dict[str, int]:
        # The worker's pid: the bench asks on new connections until every worker has answered.
        return {"pid": os.getpid()}

    return api
