"""Signed links from the configured public URL, never the Host header; request bodies bounded
while they stream (SUBJ-4, SUBJ-1). Both backends, through the real ASGI app.
"""

from __future__ import annotations

import io
import json
from urllib.parse import urlsplit

import pytest
from http_helpers import Api, TestClient
from opengdpr_client import Client

from processor.api import publicurl
from processor.api.app import create_app
from processor.kernel.errors import ConfigurationError, InvalidInputError
from processor.services.csvrows import MAX_LINE_BYTES, read_rows

DOMAIN = "processor.test"
PUBLIC = "https://gdpr.processor.example/"
FORGED = {"Host": "attacker.example"}
IMPORT = "/v1/controllers/acme/contacts/import"
IMPORT_PARAMS = {"list": "news", "consent_method": "double-opt-in"}


@pytest.fixture
def public(desk, settings, clock):
    """The app with a configured public URL, and alice's OpenGDPR client."""
    options = {"domain": DOMAIN, "public_url": PUBLIC, "backoff": (0.05,), "timeout": 2.0}
    app = create_app(settings, clock=clock, opengdpr=options)
    with TestClient(app, raise_server_exceptions=False) as http:
        yield Api(desk, http), Client(http, desk.issued["alice"], DOMAIN), app.state.opengdpr


def test_forged_host_header_changes_nothing_in_signed_answers__SUBJ_4(public):
    """Discovery and a completed access request's status carry links under the configured
    public URL, byte for byte the same whatever Host header the request carried.
    """
    api, client, service = public
    plain = api.client.get("/discovery")
    forged = api.client.get("/discovery", headers=FORGED)
    assert forged.content == plain.content
    assert forged.headers["X-OpenGDPR-Signature"] == plain.headers["X-OpenGDPR-Signature"]
    assert client.discovery()["processor_certificate"] == f"{PUBLIC}v1/opengdpr/processor-key.pem"
    api.add("alice", "see.me@example.com")
    _, answer = client.submit(client.request_body("access", "see.me@example.com", []))
    service.idle()
    srid = answer["subject_request_id"]
    auth = {**api.auth("alice"), **FORGED}
    r = api.client.get(f"/opengdpr_requests/{srid}", headers=auth)
    status = client.verified(r.headers, r.content)
    assert status["results_url"] == f"{PUBLIC}opengdpr_requests/{srid}/results"
    assert b"attacker.example" not in r.content
    assert (
        r.content == api.client.get(f"/opengdpr_requests/{srid}", headers=api.auth("alice")).content
    )


def test_public_url_defaults_to_the_bound_loopback_address_and_is_checked():
    """On loopback the bound address is the default; elsewhere a public URL is required, https
    (http on loopback only), without credentials, query or fragment.
    """
    assert publicurl.for_serving(None, "127.0.0.1", 8123) == ("http://127.0.0.1:8123/", True)
    assert publicurl.for_serving(None, "::1", 80) == ("http://[::1]:80/", True)
    given = publicurl.for_serving("https://p.example/x", "0.0.0.0", 80)  # noqa: S104
    assert given == ("https://p.example/x/", False)
    with pytest.raises(ConfigurationError, match="needs the public base URL"):
        publicurl.for_serving(None, "0.0.0.0", 8080)  # noqa: S104
    for bad in ("http://p.example/", "ftp://p.example/", "https://u:pw@p.example/",
                "https://p.example/?a=1", "/relative"):  # fmt: skip
        with pytest.raises(ConfigurationError):
            publicurl.checked(bad)


def test_serve_on_a_public_address_without_a_public_url_is_refused(tmp_path):
    """`serve --host 0.0.0.0` without --public-url: exit 2, one line, nothing started."""
    from cli_helpers import Cli

    from processor.config import Settings

    cli = Cli(Settings(data_dir=tmp_path / "d"))
    error = cli.fails(2, "serve", "--host", "0.0.0.0", "--port", "1")  # noqa: S104
    assert "--public-url" in error
    error = cli.fails(2, "serve", "--public-url", "http://p.example/", "--port", "1")
    assert "https" in error


# -- request size ---------------------------------------------------------------------------------


@pytest.fixture
def small(desk, settings, clock):
    """The app with a 1 MB body limit."""
    app = create_app(settings, clock=clock, max_body_mb=1)
    with TestClient(app, raise_server_exceptions=False) as http:
        yield Api(desk, http)


def _problem(r, status: int) -> str:
    assert r.status_code == status, r.text[:300]
    assert r.headers["content-type"].startswith("application/problem+json")
    detail = r.json()["detail"]
    assert "\n" not in detail
    return str(detail)


def test_declared_body_past_the_limit_is_413_before_it_is_read__SUBJ_1(small):
    """A Content-Length above the limit is answered 413 at once; nothing is imported."""
    body = b"email\n" + b"a" * (2 * 1024 * 1024) + b"@example.com\n"
    r = small.as_("alice", "POST", IMPORT, params=IMPORT_PARAMS, content=body,
                  headers={"Content-Type": "text/csv"})  # fmt: skip
    assert "larger than the limit of 1 MB" in _problem(r, 413)
    assert r.json()["type"].endswith("/too-large")


def test_streamed_body_past_the_limit_is_stopped_with_413__SUBJ_1(small):
    """A chunked body (no Content-Length) is counted as it arrives and stopped past the limit,
    on the import's streaming reader and on a JSON endpoint alike.
    """

    def chunks():
        yield b"email\n"
        for _ in range(40):
            yield b"x" * (64 * 1024)

    r = small.as_("alice", "POST", IMPORT, params=IMPORT_PARAMS, content=chunks(),
                  headers={"Content-Type": "text/csv"})  # fmt: skip
    assert "larger than the limit" in _problem(r, 413)

    def json_chunks():
        yield b'{"status_callback_urls": ["'
        for _ in range(40):
            yield b"x" * (64 * 1024)
        yield b'"]}'

    r = small.as_("alice", "PUT", "/v1/controllers/acme/opengdpr/callbacks", content=json_chunks(),
                  headers={"Content-Type": "application/json"})  # fmt: skip
    assert "larger than the limit" in _problem(r, 413)


def test_import_line_longer_than_the_field_limit_is_refused_while_streaming__SUBJ_1(api):
    """A single 17 MB line (under the 64 MB body limit) stops the import with one-line 400 that
    names the line; the value is never echoed.
    """

    def chunks():
        yield b"email,first_name\nok@example.com,Ok\n"
        for _ in range(17 * 16):
            yield b"z" * (64 * 1024)

    r = api.as_("alice", "POST", IMPORT, params=IMPORT_PARAMS, content=chunks(),
                headers={"Content-Type": "text/csv"})  # fmt: skip
    detail = _problem(r, 400)
    assert "line 3 of the CSV is longer than the field limit (16 MB)" in detail
    assert "zzz" not in r.text
    assert json.loads(r.text)["exit_code"] == 2
    assert urlsplit(IMPORT).path == IMPORT


class _EndlessLine(io.RawIOBase):
    """A body that is one endless line; it fails the test if read much past the line limit."""

    def __init__(self) -> None:
        self.given = 0

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        assert self.given <= MAX_LINE_BYTES + 1024 * 1024, "read on past the line limit"
        target[: len(target)] = b"z" * len(target)
        self.given += len(target)
        return len(target)


def test_an_endless_line_is_refused_after_reading_the_limit_only__SUBJ_1():
    """The CSV reader stops an endless line after the limit: memory stays bounded whatever
    the upload (before, a whole line was read into memory first).
    """
    raw = _EndlessLine()
    with pytest.raises(InvalidInputError, match="line 1 of the CSV is longer than the field"):
        read_rows(io.BufferedReader(raw), ("email",))
    assert raw.given <= MAX_LINE_BYTES + 1024 * 1024


def test_serve_refuses_a_bad_callback_allowance_or_body_limit(tmp_path):
    """`serve --callback-allow intranet` and a bad PROCESSOR_MAX_BODY_MB: exit 2, one line."""
    from cli_helpers import Cli

    from processor.config import Settings

    cli = Cli(Settings(data_dir=tmp_path / "d"))
    assert "not an address range" in cli.fails(2, "serve", "--callback-allow", "intranet")
    error = cli.fails(2, "serve", env={"PROCESSOR_MAX_BODY_MB": "lots"})
    assert "PROCESSOR_MAX_BODY_MB" in error
