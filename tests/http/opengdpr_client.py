"""A small OpenGDPR controller client, written from the spec's own examples (OpenGDPR 0.1.4).

It knows nothing of the processor's models: requests are the JSON of spec section 7.2, answers
are checked for the fields sections 7.3, 8.3, 8.6 and 9.2 require, and every signature is
checked over the raw bytes before anything is parsed (section 8.8), with the key downloaded
from where `/discovery` says (`processor_certificate`).
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
CANCEL_FIELDS = {"controller_id", "received_time", "encoded_request", "subject_request_id"}


class BadSignatureError(Exception):
    """A body whose signature does not verify (the spec says: answer 403, do not parse)."""


class Client:
    """The controller's side of OpenGDPR, over any httpx-like client."""

    def __init__(self, http: Any, credential: str, domain: str) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {credential}", "Accept": "application/json"}
        self.domain = domain
        self._key: Any = None

    def discovery(self) -> dict[str, Any]:
        """GET /discovery (6.1), signature checked."""
        r = self.http.get("/discovery", headers={"Accept": "application/json"})
        assert r.status_code == 200, r.text
        found = json.loads(r.content)
        self._key = load_pem_public_key(
            self.http.get(urlsplit(found["processor_certificate"]).path).content
        )
        return self.verified(r.headers, r.content)

    def verified(self, headers: Any, body: bytes) -> dict[str, Any]:
        """Check domain and signature over the raw body, then parse (8.8)."""
        if headers.get("X-OpenGDPR-Processor-Domain") != self.domain:
            raise BadSignatureError("wrong processor domain")
        try:
            self._key.verify(base64.b64decode(headers["X-OpenGDPR-Signature"]), body)
        except (InvalidSignature, KeyError, ValueError) as exc:
            raise BadSignatureError(str(exc)) from None
        parsed: dict[str, Any] = json.loads(body)
        return parsed

    @staticmethod
    def request_body(kind: str, email: str, callbacks: list[str], **extra: Any) -> dict[str, Any]:
        """The request of spec 7.2, with our values."""
        return {
            "subject_request_id": str(uuid.uuid4()),
            "subject_request_type": kind,
            "submitted_time": "2018-10-02T15:00:00Z",
            "subject_identities": [
                {"identity_type": "email", "identity_value": email, "identity_format": "raw"}
            ],
            "api_version": "0.1",
            "status_callback_urls": callbacks,
            **extra,
        }

    def submit(self, body: dict[str, Any]) -> tuple[int, Any]:
        """POST /opengdpr_requests; the exact bytes sent, and the verified answer on 201."""
        raw = json.dumps(body).encode()
        r = self.http.post("/opengdpr_requests", content=raw,
                           headers={**self.headers, "Content-Type": "application/json"})  # fmt: skip
        answer = self.verified(r.headers, r.content)  # errors are signed too
        if r.status_code != 201:
            return r.status_code, answer
        assert set(answer) >= RESPONSE_FIELDS
        assert base64.b64decode(answer["encoded_request"]) == raw
        return 201, answer

    def status(self, request_id: str) -> tuple[int, Any]:
        """GET /opengdpr_requests/{id} (8.1)."""
        r = self.http.get(f"/opengdpr_requests/{request_id}", headers=self.headers)
        answer = self.verified(r.headers, r.content)
        if r.status_code != 200:
            return r.status_code, answer
        assert set(answer) >= STATUS_FIELDS
        assert answer["request_status"] in ("pending", "in_progress", "completed", "cancelled")
        return 200, answer

    def cancel(self, request_id: str) -> tuple[int, Any]:
        """DELETE /opengdpr_requests/{id} (9)."""
        r = self.http.delete(f"/opengdpr_requests/{request_id}", headers=self.headers)
        answer = self.verified(r.headers, r.content)
        if r.status_code != 202:
            return r.status_code, answer
        assert set(answer) >= CANCEL_FIELDS
        return 202, answer


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
