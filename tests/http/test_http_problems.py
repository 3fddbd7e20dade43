"""Errors a caller can act on: a request id, a problem type that leads somewhere, HTTP's own words
(issue 25; RFC 9457).
"""

from __future__ import annotations

import re

from processor.api.problems import http_detail
from processor.api.schemas import (
    ContactChanged,
    ContactCreated,
    ContactsPage,
    ContactState,
    ContactView,
    Handoff,
    ListPage,
    MessageRecordedOut,
    MessagesSent,
    MessageView,
    Receipt,
    Unsubscribed,
)


def test_every_answer_has_a_request_id_that_the_problem_repeats(api):
    """`X-Request-ID` is on every answer; a problem document carries the same id; a caller's
    own plain id is kept, a malformed one replaced.
    """
    ok = api.as_("alice", "GET", "/v1/controllers/acme/messages/usage")
    assert ok.status_code == 200 and len(ok.headers["X-Request-ID"]) == 32
    refused = api.as_("mia", "PUT", "/v1/controllers/acme/opengdpr/callbacks",
                      json={"status_callback_urls": ["https://controller.example/hook"]})  # fmt: skip
    assert refused.status_code == 403
    assert refused.json()["request_id"] == refused.headers["X-Request-ID"]
    mine = api.as_("mia", "GET", "/v1/controllers/beta/messages/usage",
                   headers={"X-Request-ID": "support-ticket-77"})  # fmt: skip
    assert mine.status_code == 404
    assert mine.headers["X-Request-ID"] == mine.json()["request_id"] == "support-ticket-77"
    odd = api.as_("mia", "GET", "/v1/controllers/beta/messages/usage",
                  headers={"X-Request-ID": "no spaces <allowed>"})  # fmt: skip
    assert odd.headers["X-Request-ID"] != "no spaces <allowed>"


def test_a_problem_type_leads_to_a_page_the_server_serves(api):
    """`type` is `/problems/KIND`, resolved against the server: a page without scripts."""
    refused = api.as_("mia", "PUT", "/v1/controllers/acme/opengdpr/callbacks",
                      json={"status_callback_urls": ["https://controller.example/hook"]})  # fmt: skip
    kind = refused.json()["type"]
    assert kind == "/problems/refused"
    page = api.client.get(kind)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "refused (403)" in page.text and "<script" not in page.text
    assert api.client.get("/problems/nonsense").status_code == 404


def test_http_errors_name_the_requests_fields_not_cli_options__ACC_4(api):
    """A grant of too many hours is refused naming `hours` (the body's field), not `--hours`."""
    r = api.as_("sven", "POST", "/v1/access",
                json={"controller": "acme", "reason": "ticket 9", "hours": 999})  # fmt: skip
    assert r.status_code in (400, 403), r.text
    assert "hours must be between" in r.json()["detail"]
    assert "--" not in r.json()["detail"]


def test_option_names_become_field_names_outside_quoted_commands():
    """Outside backticks `--consent-method` is `consent_method`; a quoted command is kept."""
    assert http_detail("--hours must be between 1 and 8") == "hours must be between 1 and 8"
    assert http_detail("give --consent-method") == "give consent_method"
    quoted = "run `processor users credential alice --rotate` first"
    assert http_detail(quoted) == quoted
    assert http_detail("a-b--c stays") == "a-b--c stays"


def test_a_201_names_what_it_created_in_location(api):
    """`contacts add` and `messages record` answer 201 with `Location` naming the new resource,
    which the same person can GET.
    """
    r = api.as_("alice", "POST", "/v1/controllers/acme/contacts",
                json={"list": "news", "email": "loc.one@example.com", "consent": "email:form"})  # fmt: skip
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == f"/v1/controllers/acme/contacts/{r.json()['contact_id']}"
    shown = api.as_("alice", "GET", r.headers["Location"])
    assert shown.status_code == 200
    ContactCreated.model_validate(r.json())
    ContactView.model_validate(shown.json())
    m = api.as_("alice", "POST", "/v1/controllers/acme/messages/record",
                json={"contact": "loc.one@example.com", "channel": "email", "test": True})  # fmt: skip
    assert m.status_code == 201, m.text
    assert (
        api.as_("alice", "GET", m.headers["Location"]).json()["message_id"]
        == (m.json()["message_id"])
    )


def test_the_contacts_come_a_page_at_a_time_to_their_controller_only__ACC_9(api):
    """Without `email`, `GET .../contacts` pages through the controller's live contacts (an
    erased one is gone); another controller's user gets 404.
    """
    emails = [f"page.{i}@example.com" for i in range(5)]
    ids = [api.add("alice", e) for e in emails]
    api.as_("alice", "POST", "/v1/controllers/acme/erase",
            json={"contact": ids[0], "reason": "Art. 17"})  # fmt: skip
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.as_("alice", "GET", "/v1/controllers/acme/contacts", params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        assert body["count"] == 4 and len(body["items"]) <= 2
        ContactsPage.model_validate(body)  # the answer is what /openapi.json says it is
        seen += [item["email"] for item in body["items"]]
        assert all(item["lists"] == ["news"] for item in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(emails[1:])
    assert api.as_("bob", "GET", "/v1/controllers/acme/contacts").status_code == 404


def test_the_api_docs_load_their_assets_from_this_server(api):
    """`/docs` and `/redoc` reference scripts and styles on this server only (no CDN), and the
    server serves them: the API's documentation works offline.
    """
    for page in ("/docs", "/redoc"):
        r = api.client.get(page)
        assert r.status_code == 200, page
        assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", r.text)
        assets += re.findall(
            r"""(?:url|_url)['"]?\s*:\s*['"]([^'"]+\.(?:js|css|png))['"]""", r.text
        )
        assert assets, page
        for asset in assets:
            assert not asset.startswith(("http://", "https://", "//")), asset
            assert api.client.get(asset).status_code == 200, asset
        assert "cdn.jsdelivr" not in r.text and "unpkg" not in r.text


def test_the_contact_answers_are_what_the_openapi_document_says(api):
    """Update, unsubscribe, restrict and `lists show` answer in the shapes `/openapi.json`
    gives them (`processor.api.schemas`), and the document names those shapes.
    """
    cid = api.add("alice", "typed.one@example.com")
    base = f"/v1/controllers/acme/contacts/{cid}"
    changed = api.as_("alice", "PATCH", base, json={"set": {"first_name": "Tia"}})
    ContactChanged.model_validate(changed.json())
    state = api.as_("alice", "POST", f"{base}/restrict", json={"reason": "contested"})
    ContactState.model_validate(state.json())
    left = api.as_("alice", "POST", f"{base}/unsubscribe", json={"list": "news"})
    Unsubscribed.model_validate(left.json())
    api.add("alice", "typed.two@example.com")
    page = api.as_("alice", "GET", "/v1/controllers/acme/lists/news", params={"limit": 1})
    ListPage.model_validate(page.json())
    names = set(api.client.get("/openapi.json").json()["components"]["schemas"])
    assert {"ContactView", "ContactsPage", "ListPage", "ContactState"} <= names


def test_the_message_and_erasure_answers_are_what_the_openapi_document_says__SUB_9__RET_3(api):
    """`messages send`, `record`, `show`, `handoff` and `erase` answer in their documented
    shapes (`processor.api.schemas`).
    """
    api.add("alice", "typed.msg@example.com")
    base = "/v1/controllers/acme/messages"
    sent = api.as_("mia", "POST", base, json={"list": "news", "channel": "email", "subject": "S"})
    assert sent.status_code == 201, sent.text
    MessagesSent.model_validate(sent.json())
    one = api.as_("alice", "POST", f"{base}/record",
                  json={"contact": "typed.msg@example.com", "channel": "email", "body": "B"})  # fmt: skip
    MessageRecordedOut.model_validate(one.json())
    MessageView.model_validate(api.as_("alice", "GET", one.headers["Location"]).json())
    handed = api.as_("alice", "GET", f"{base}/handoff", params={"via": one.json()["subprocessor"]})
    assert Handoff.model_validate(handed.json()).handed_over == 2
    erased = api.as_("alice", "POST", "/v1/controllers/acme/erase",
                     json={"email": "typed.msg@example.com", "reason": "Art. 17"})  # fmt: skip
    assert erased.status_code == 200, erased.text
    assert Receipt.model_validate(erased.json()).kind == "erasure"
