"""A small OpenGDPR / OpenDSR controller client, written from the specs' own examples.

It speaks either protocol: `opengdpr` (OpenGDPR 0.1.4: `/discovery`, `/opengdpr_requests`,
`X-OpenGDPR-*` headers) or `opendsr` (OpenDSR 2.0: the major version first, section 3.4, so
`/v2/discovery` and `/v2/requests`; `X-OpenDSR-*` headers, sections 7.4, 8.3, 9.3; a
`regulation` in every request, section 7.1.1). It knows nothing of the processor's models:
requests are the JSON of spec section 7.2, answers are checked for the fields sections 7.3, 8.3,
8.6 and 9.2 require, and every signature is checked over the raw bytes before anything is
parsed (section 8.8), with the key downloaded from where discovery says (`processor_certificate`).
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import load_pem_public_key

RESPONSE_FIELDS = {"controller_id", "expected_completion_time", "received_time",
                   "encoded_request", "subject_request_id"}  # fmt: skip
STATUS_FIELDS = {"controller_id", "expected_completion_time", "subject_request_id",
                 "request_status"}  # fmt: skip
CALLBACK_FIELDS = STATUS_FIELDS | {"status_callback_url"}
CANCEL_FIELDS = {"controller_id", "received_time", "subject_request_id", "processor_signature"}
# protocol: (discovery path, requests path, headers' prefix, api_version asked for)
PROTOCOLS = {
    "opengdpr": ("/discovery", "/opengdpr_requests", "X-OpenGDPR", "0.1"),
    "opendsr": ("/v2/discovery", "/v2/requests", "X-OpenDSR", "2.0"),
}


class BadSignatureError(Exception):
    """A body whose signature does not verify (the spec says: answer 403, do not parse)."""


class Client:
    """The controller's side of OpenGDPR or OpenDSR, over any httpx-like client."""

    def __init__(self, http: Any, credential: str, domain: str, protocol: str = "opengdpr") -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {credential}", "Accept": "application/json"}
        self.domain = domain
        self.protocol = protocol
        self.discovery_path, self.requests, self.prefix, self.api_version = PROTOCOLS[protocol]
        self._key: Any = None

    def discovery(self) -> dict[str, Any]:
        """GET discovery (6.1), signature checked."""
        r = self.http.get(self.discovery_path, headers={"Accept": "application/json"})
        assert r.status_code == 200, r.text
        found = json.loads(r.content)
        self._key = load_pem_public_key(
            self.http.get(urlsplit(found["processor_certificate"]).path).content
        )
        return self.verified(r.headers, r.content)

    def verified(self, headers: Any, body: bytes) -> dict[str, Any]:
        """Check domain and signature over the raw body, then parse (8.8)."""
        if headers.get(f"{self.prefix}-Processor-Domain") != self.domain:
            raise BadSignatureError("wrong processor domain")
        try:
            self._key.verify(base64.b64decode(headers[f"{self.prefix}-Signature"]), body)
        except (InvalidSignature, KeyError, ValueError) as exc:
            raise BadSignatureError(str(exc)) from None
        parsed: dict[str, Any] = json.loads(body)
        return parsed

    def request_body(
        self, kind: str, email: str, callbacks: list[str], **extra: Any
    ) -> dict[str, Any]:
        """The request of spec 7.2, with our values (OpenDSR's with its `regulation`)."""
        regulation = {"regulation": "gdpr"} if self.protocol == "opendsr" else {}
        return {
            **regulation,
            "subject_request_id": str(uuid.uuid4()),
            "subject_request_type": kind,
            "submitted_time": "2018-10-02T15:00:00Z",
            "subject_identities": [
                {"identity_type": "email", "identity_value": email, "identity_format": "raw"}
            ],
            "api_version": self.api_version,
            "status_callback_urls": callbacks,
            **extra,
        }

    def submit(self, body: dict[str, Any] | bytes) -> tuple[int, Any]:
        """POST the request; the exact bytes sent, and the verified answer on 201."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        r = self.http.post(self.requests, content=raw,
                           headers={**self.headers, "Content-Type": "application/json"})  # fmt: skip
        answer = self.verified(r.headers, r.content)  # errors are signed too
        if r.status_code != 201:
            return r.status_code, answer
        assert set(answer) >= RESPONSE_FIELDS
        assert base64.b64decode(answer["encoded_request"]) == raw
        assert answer["api_version"] == self.api_version
        self.signed_by_processor(answer, raw)
        return 201, answer

    def signed_by_processor(self, answer: dict[str, Any], raw: bytes) -> None:
        """`processor_signature` signs what was sent, as `encoded_request` echoes it (7.3, 9.2)."""
        assert base64.b64decode(answer["encoded_request"]) == raw
        try:
            self._key.verify(base64.b64decode(answer["processor_signature"]), raw)
        except InvalidSignature as exc:
            raise BadSignatureError("processor_signature") from exc

    def status(self, request_id: str) -> tuple[int, Any]:
        """GET the request (8.1)."""
        r = self.http.get(f"{self.requests}/{request_id}", headers=self.headers)
        answer = self.verified(r.headers, r.content)
        if r.status_code != 200:
            return r.status_code, answer
        assert set(answer) >= STATUS_FIELDS
        assert answer["request_status"] in ("pending", "in_progress", "completed", "cancelled")
        assert answer["api_version"] == self.api_version
        return 200, answer

    def cancel(self, request_id: str) -> tuple[int, Any]:
        """DELETE the request (9)."""
        r = self.http.delete(f"{self.requests}/{request_id}", headers=self.headers)
        answer = self.verified(r.headers, r.content)
        if r.status_code != 202:
            return r.status_code, answer
        assert set(answer) >= CANCEL_FIELDS
        assert answer["api_version"] == self.api_version
        self.signed_by_processor(answer, base64.b64decode(answer["encoded_request"]))
        return 202, answer

    def results(self, results_url: str) -> tuple[int, Any]:
        """GET a status' `results_url` (8.3): the export, its signature checked before parsing."""
        r = self.http.get(urlsplit(results_url).path, headers=self.headers)
        return r.status_code, self.verified(r.headers, r.content)


class CallbackServer:
    """A local controller endpoint that records every callback (and can fail the first ones)."""

    def __init__(self, failures: int = 0) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.failures = failures
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if outer.failures > 0:
                    outer.failures -= 1
                    self.send_response(503)
                else:
                    outer.received.append((dict(self.headers.items()), body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/opengdpr_callbacks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> CallbackServer:  # noqa: PYI034 - not subclassed
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def statuses(self, client: Client) -> list[str]:
        """The statuses received, each signature checked over the exact bytes first."""
        out = []
        for headers, body in self.received:
            parsed = client.verified(headers, body)
            assert set(parsed) >= CALLBACK_FIELDS
            assert parsed["status_callback_url"] == self.url
            out.append(parsed["request_status"])
        return out
