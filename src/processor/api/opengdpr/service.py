"""OpenGDPR and OpenDSR use cases over the CLI's sessions and services (SUBJ-4, SUBJ-6, RET-3).

OpenDSR 2.0 is the current name and version of the OpenGDPR specification; its section 10.1 has
every party keep honouring the OpenGDPR routes and headers. Both are served by this one service:
one register, one set of events, so a request received over one protocol is the same request
over the other. Only the answers differ (`Protocol`): the headers' prefix, the `api_version`
and where `results_url` points.

A request is received (pending, cancellable), then fulfilled by the requesting person's own
authority: the server keeps their credential in memory for the grace period only, and logs in
with it again to act, so a credential revoked meanwhile stops the fulfilment. An erasure is the
same crypto-shredding erasure as `processor erase`, and completes with our signed receipt; an
access or portability request completes with a `results_url` that only users of the requesting
controller can fetch, until `results_days` after completion, streamed from the live contact so
no copy of the export is ever stored.
"""

from __future__ import annotations

import base64
import io
import json
import os
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from processor.api import publicurl
from processor.api.opengdpr.callbacks import QUEUE_SIZE, Callback, Dispatcher, encoded
from processor.api.opengdpr.destinations import from_options
from processor.api.opengdpr.domain import (
    COMPLETED,
    EXTENSION_RIGHTS,
    PENDING,
    TYPES,
    OpenGdprRegister,
    OpenGdprRequest,
    register_id,
    request_id,
)
from processor.api.opengdpr.signing import BodySigner
from processor.kernel.errors import InvalidInputError, NotFoundError, ProcessorError, RefusedError
from processor.logs import get_logger
from processor.services.profile import typed_fields

if TYPE_CHECKING:
    from typing import TextIO

    from processor.api.opengdpr.destinations import Resolver
    from processor.api.runtime import Runtime
    from processor.desk import Desk

API_VERSION: Final = "0.1"  # the OpenGDPR version the unversioned OpenGDPR routes speak
OPENDSR_API_VERSION: Final = "2.0"  # OpenDSR 2.0, under /v2 (its section 3.4: the major version)
REGULATIONS: Final = ("gdpr",)  # OpenDSR 7.1.1 names gdpr and ccpa; we process under the GDPR
SUPPORTED_IDENTITIES: Final = (("email", "raw"), ("controller_customer_id", "raw"))
MAX_CALLBACK_URLS: Final = 10
LOOPBACK: Final = frozenset({"localhost", "127.0.0.1", "::1"})
_log = get_logger("processor.api.opengdpr")


def _domain_default() -> str:
    return os.environ.get("PROCESSOR_OPENGDPR_DOMAIN", "localhost")


@dataclass(frozen=True)
class OpenGdprOptions:
    """Tunables: the signing domain, public base URL, grace before fulfilment, back-off, lifetimes.

    `public_url` is where controllers reach us; signed links are built from it, never from the
    request's Host header (see `processor.api.publicurl`).
    """

    domain: str = field(default_factory=_domain_default)
    public_url: str = field(default_factory=publicurl.default)
    # Non-public ranges callbacks may go to anyway (None: PROCESSOR_CALLBACK_ALLOW).
    callback_allow: str | tuple[str, ...] | None = None
    callback_queue: int = QUEUE_SIZE
    # Name resolution for callbacks (None: the system's); a test's stands in for DNS.
    resolve: Resolver | None = None
    grace_seconds: float = 0.0
    backoff: tuple[float, ...] = (1.0, 4.0, 16.0, 64.0)
    timeout: float = 5.0
    results_days: int = 7
    completion_days: int = 30


@dataclass(frozen=True)
class Protocol:
    """What differs between the OpenGDPR and the OpenDSR answers to the same request."""

    name: str  # "opengdpr" or "opendsr": the headers' prefix (`signing.PREFIXES`)
    api_version: str
    requests: str  # the requests collection, relative to the public base URL


OPENGDPR: Final = Protocol("opengdpr", API_VERSION, "opengdpr_requests")
OPENDSR: Final = Protocol("opendsr", OPENDSR_API_VERSION, "v2/requests")
PROTOCOLS: Final = {p.name: p for p in (OPENGDPR, OPENDSR)}


@dataclass
class Received:
    """What `submit` answers: the status code and the exact body, signed."""

    status: int
    body: bytes
    headers: dict[str, str]


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


class OpenGdpr:
    """Receives, fulfils, reports and cancels OpenGDPR requests."""

    def __init__(self, rt: Runtime, options: OpenGdprOptions) -> None:
        self.rt = rt
        self.options = options
        self.base_url = publicurl.checked(options.public_url)
        with rt.store() as proc:
            key = proc.ledger.signer().private_key
        self.signer = BodySigner(key, options.domain)
        self.destinations = from_options(options.callback_allow, options.resolve)
        self.callbacks = Dispatcher(rt, self.signer, options.backoff, options.timeout,
                                    self.destinations, options.callback_queue)  # fmt: skip
        self._workers: list[threading.Thread] = []

    def stop(self) -> None:
        """Let fulfilments in hand finish (none starts any more), then stop the dispatcher."""
        self.callbacks.stopping.set()
        for worker in self._workers:
            worker.join(timeout=30)
        self.callbacks.stop()

    def idle(self, timeout: float = 30.0) -> bool:
        """Wait for fulfilments and callbacks in flight (tests)."""
        for worker in list(self._workers):
            worker.join(timeout)
        return self.callbacks.idle(timeout)

    def signed(self, status: int, body: dict[str, Any], protocol: Protocol = OPENGDPR) -> Received:
        """A body as exact bytes, with the protocol's signature headers."""
        data = encoded(body)
        return Received(status, data, self.signer.headers(data, protocol.name))

    # -- discovery --------------------------------------------------------------------------------

    def discovery(self, protocol: Protocol = OPENGDPR) -> Received:
        """What we support, and where the signing key is (OpenDSR section 6.3).

        `api_version` is the version of the protocol asked; `supported_api_versions` (each
        version served, newest first) and `supported_regulations` are ours: section 6.3 has
        neither, and a controller needs both to choose.
        """
        return self.signed(
            200,
            {
                "api_version": protocol.api_version,
                "supported_api_versions": [OPENDSR_API_VERSION, API_VERSION],
                "supported_regulations": list(REGULATIONS),
                "supported_identities": [
                    {"identity_type": t, "identity_format": f} for t, f in SUPPORTED_IDENTITIES
                ],
                "supported_subject_request_types": list(TYPES),
                "processor_certificate": f"{self.base_url}v1/opengdpr/processor-key.pem",
                "extensions": {self.options.domain: {"rights": list(EXTENSION_RIGHTS)}},
            },
            protocol,
        )

    # -- callback URLs ----------------------------------------------------------------------------

    def register_callbacks(self, s: Desk, controller: str, urls: list[str]) -> dict[str, Any]:
        """A controller administrator names the only URLs callbacks may go to."""
        s.authorize("opengdpr.callbacks", command="opengdpr callbacks", controller=controller)
        s.controllers.get(controller)
        if len(urls) > MAX_CALLBACK_URLS:
            raise InvalidInputError(f"at most {MAX_CALLBACK_URLS} callback URLs")
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme not in ("https", "http") or not parts.hostname:
                raise InvalidInputError("a callback URL is an absolute https URL")
            if parts.scheme == "http" and parts.hostname not in LOOPBACK:
                # Callbacks carry results URLs and statuses: never in clear over a network.
                raise InvalidInputError("a callback URL must use https (http only on loopback)")
            if parts.username or parts.password:
                raise InvalidInputError("a callback URL must not carry credentials")
            self.destinations.check_url(url)  # a non-public address, before anything is saved
        proc = s.proc
        with proc.using_clock():
            register = self._register(proc, controller, s.user_name)
            register.register_callbacks(actor=s.user_name, urls=sorted(set(urls)))
            proc.commit(register)
        return {"controller": controller, "status_callback_urls": register.callback_urls}

    def _register(self, proc: Any, controller: str, actor: str) -> OpenGdprRegister:  # noqa: ANN401
        found = proc.find(register_id(controller))
        if isinstance(found, OpenGdprRegister):
            return found
        return OpenGdprRegister(actor=actor, controller=controller)

    # -- requests ---------------------------------------------------------------------------------

    def _own_controller(self, s: Desk, command: str) -> str:
        user = s.authorize("opengdpr.request", command=command)
        if user.controller is None:
            raise RefusedError(
                "OpenGDPR requests come from a controller's users", rule="RequesterMustBeController"
            )
        s.authorize("opengdpr.request", command=command, controller=user.controller)
        return user.controller

    def submit(
        self,
        s: Desk,
        raw: bytes,
        parsed: dict[str, Any],
        credential: str,
        protocol: Protocol = OPENGDPR,
    ) -> Received:
        """Receive a request: record it pending, answer signed, then fulfil it in the background.

        The same request again (same `subject_request_id`, same content) is answered with the
        original acknowledgement and records nothing; a different request under a known id is
        refused. Neither spec says what a duplicate gets; this is the idempotent reading.
        """
        controller = self._own_controller(s, "opengdpr request")
        srid = str(parsed["subject_request_id"]).lower()
        regulation = str(parsed.get("regulation") or "gdpr").lower()
        if regulation not in REGULATIONS:
            raise InvalidInputError(
                f"regulation {regulation[:20]!r} is not processed here: only "
                + ", ".join(REGULATIONS)
            )
        right, extension = self._right(parsed)
        proc = s.proc
        urls = list(parsed.get("status_callback_urls") or [])
        known = proc.find(request_id(controller, srid))
        if isinstance(known, OpenGdprRequest):
            self._must_be_the_same(known, parsed, right, regulation, urls)
            return self._acknowledgement(known, raw, protocol)
        if right == "rectification":
            typed_fields(proc.policies.fields, extension.get("fields") or {}, "fields")
        contact, identity_types = self._subject(s, controller, parsed["subject_identities"])
        register = self._register(proc, controller, s.user_name)
        unregistered = [u for u in urls if u not in register.callback_urls]
        if unregistered:
            raise RefusedError(
                "status_callback_urls must be registered by the controller's administrator first "
                "(PUT /v1/controllers/{controller}/opengdpr/callbacks)",
                rule="CallbackUrlMustBeRegistered",
            )
        for url in urls:
            # Registered before addresses were checked, or the operator's allowance narrowed.
            self.destinations.check_url(url)
        now = proc.now()
        expected = _iso(now + timedelta(days=self.options.completion_days))
        with proc.using_clock():
            request = OpenGdprRequest(
                actor=s.user_name, controller=controller, subject_request_id=srid,
                subject_request_type=str(parsed["subject_request_type"]), right=right,
                submitted_time=str(parsed["submitted_time"]), expected_completion_time=expected,
                status_callback_urls=urls, contact_id=contact, identity_types=identity_types,
                api_version=str(parsed.get("api_version") or protocol.api_version),
                policy_version=proc.policies.version, regulation=regulation,
                protocol=protocol.name,
            )  # fmt: skip
            register.file(actor=s.user_name, request=str(request.id))
            proc.commit(register, request)
        self._notify(request)
        worker = threading.Thread(
            target=self._fulfil,
            args=(request.id, credential, extension),
            name="opengdpr-fulfil",
            daemon=True,
        )
        self._workers = [w for w in self._workers if w.is_alive()] + [worker]
        worker.start()
        return self._acknowledgement(request, raw, protocol)

    def _acknowledgement(
        self, request: OpenGdprRequest, raw: bytes, protocol: Protocol
    ) -> Received:
        """The 201 answer (section 7.3), the same times for a resubmission as the first time."""
        return self.signed(
            201,
            {
                "controller_id": request.controller,
                "expected_completion_time": request.expected_completion_time,
                "received_time": _iso(request.received_time),
                "encoded_request": base64.b64encode(raw).decode("ascii"),
                "subject_request_id": request.subject_request_id,
                "api_version": protocol.api_version,
                # Our signature over the request exactly as received: proof of what we got.
                "processor_signature": self.signer.signature(raw),
            },
            protocol,
        )

    @staticmethod
    def _must_be_the_same(
        known: OpenGdprRequest,
        parsed: dict[str, Any],
        right: str,
        regulation: str,
        urls: list[str],
    ) -> None:
        """A resubmission must be the request we have: what the events keep must agree.

        The subject's identity values are not compared: the events never keep them (only the
        contact id they resolved to, which an erasure since makes unresolvable).
        """
        differs = [
            name
            for name, ours, theirs in (
                (
                    "subject_request_type",
                    known.subject_request_type,
                    str(parsed["subject_request_type"]),
                ),
                ("submitted_time", known.submitted_time, str(parsed["submitted_time"])),
                ("regulation", known.regulation, regulation),
                ("status_callback_urls", known.status_callback_urls, urls),
                (
                    "subject_identities",
                    known.identity_types,
                    [str(i["identity_type"]) for i in parsed["subject_identities"]],
                ),
                ("extensions", known.right, right),
            )
            if ours != theirs
        ]
        if differs:
            raise RefusedError(
                "a different request was already received under this subject_request_id "
                f"({', '.join(differs)} differ)",
                rule="SubjectRequestIdMustNameOneRequest",
            )

    def _right(self, parsed: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The right exercised: the spec's type, or one of ours under `extensions`."""
        extensions = parsed.get("extensions") or {}
        ours = extensions.get(self.options.domain) if isinstance(extensions, dict) else None
        if ours is None:
            return str(parsed["subject_request_type"]), {}
        if not isinstance(ours, dict):
            raise InvalidInputError(f"extensions.{self.options.domain} must be an object")
        right = ours.get("right", parsed["subject_request_type"])
        if right not in (*TYPES, *EXTENSION_RIGHTS):
            raise InvalidInputError(
                f"extensions.{self.options.domain}.right must be one of "
                + ", ".join((*TYPES, *EXTENSION_RIGHTS))
            )
        fields = ours.get("fields")
        if right == "rectification" and (not isinstance(fields, dict) or not fields):
            raise InvalidInputError("a rectification needs extensions.<domain>.fields")
        if fields is not None and not all(
            isinstance(k, str) and isinstance(v, str) for k, v in (fields or {}).items()
        ):
            raise InvalidInputError("extension fields map names to strings")
        return str(right), dict(ours)

    def _subject(
        self, s: Desk, controller: str, identities: list[dict[str, Any]]
    ) -> tuple[str | None, list[str]]:
        """Our contact id for the first identity we can match (None: no such subject)."""
        kinds = [str(i["identity_type"]) for i in identities]
        usable = [
            i
            for i in identities
            if (i["identity_type"], i["identity_format"]) in SUPPORTED_IDENTITIES
        ]
        if not usable:
            raise InvalidInputError(
                "no supported identity: we match email/raw and controller_customer_id/raw only "
                "(hashed identities cannot be matched against our keyed blind index)"
            )
        first = usable[0]
        value = str(first["identity_value"])
        if first["identity_type"] == "email":
            return s.contacts.id_by_email(controller, value), kinds
        try:
            contact = str(uuid.UUID(value))
        except ValueError:
            raise InvalidInputError("controller_customer_id is our contact id (a UUID)") from None
        try:
            s.contacts.load(controller, contact)
        except NotFoundError:
            return None, kinds
        return contact, kinds

    def _fulfil(self, rid: uuid.UUID, credential: str, extension: dict[str, Any]) -> None:
        """Wait out the grace period, then act as the requester (unless cancelled meanwhile)."""
        if self.options.grace_seconds and self.callbacks.stopping.wait(self.options.grace_seconds):
            return
        try:
            with self.rt.acting(credential, "opengdpr fulfil") as s:
                request = s.proc.find(rid)
                if not isinstance(request, OpenGdprRequest) or request.status != PENDING:
                    return
                with s.proc.using_clock():
                    request.start(actor=s.user_name)
                    s.proc.commit(request)
                self._notify(request)
                outcome, position, until = self._act(s, request, extension)
                request = s.proc.find(rid)
                assert isinstance(request, OpenGdprRequest)  # noqa: S101 - it was found above
                with s.proc.using_clock():
                    request.complete(s.user_name, outcome, position, until)
                    s.proc.commit(request)
                self._notify(request)
        except ProcessorError as exc:
            _log.warning("opengdpr_fulfilment_stopped", error_type=type(exc).__name__,
                         rule=getattr(exc, "rule", ""))  # fmt: skip

    def _act(
        self, s: Desk, request: OpenGdprRequest, extension: dict[str, Any]
    ) -> tuple[str, int | None, str | None]:
        """Do what the request asks; (outcome, receipt position, results available until)."""
        controller, contact = request.controller, request.contact_id
        if contact is None:
            return "no-matching-subject", None, None
        reason = f"OpenGDPR {request.right} request {request.subject_request_id}"
        try:
            if request.right == "erasure":
                receipt = s.erasure.erase(controller, reason, contact=contact)
                return "erased", int(receipt["metadata"]["position"]), None
            if request.right in ("access", "portability"):
                until = s.proc.now() + timedelta(days=self.options.results_days)
                return "results-available", None, _iso(until)
            if request.right == "rectification":
                fields = typed_fields(s.proc.policies.fields, extension["fields"], "fields")
                s.contacts.update(controller, contact, fields)
                return "rectified", None, None
            action = "restrict" if request.right == "restriction" else "object"
            s.contacts.set_state(action, controller, contact, reason)
        except RefusedError as exc:
            return f"refused ({exc.rule})", None, None
        return ("restricted" if action == "restrict" else "objected"), None, None

    # -- status, cancellation, results ------------------------------------------------------------

    def _load(self, s: Desk, controller: str, srid: str) -> OpenGdprRequest:
        found = s.proc.find(request_id(controller, srid))
        if not isinstance(found, OpenGdprRequest):
            raise NotFoundError(f"unknown subject_request_id {srid[:64]!r}")
        return found

    def status(self, s: Desk, srid: str, protocol: Protocol = OPENGDPR) -> Received:
        """The request's status, signed (section 8.3); a completed erasure carries our receipt."""
        controller = self._own_controller(s, "opengdpr status")
        request = self._load(s, controller, srid)
        body = self._status_body(request, protocol)
        if request.status == COMPLETED and request.receipt_position is not None:
            receipt = s.erasure.reissue(str(request.contact_id), controller)
            body["extensions"][self.options.domain]["receipt"] = receipt
        return self.signed(200, body, protocol)

    def cancel(self, s: Desk, srid: str, raw: bytes, protocol: Protocol = OPENGDPR) -> Received:
        """Cancel a pending request (202, section 9.2); any other state is refused.

        Signed in the headers like every answer; `processor_signature` signs the cancellation
        as received (the method and path), as the 201 answer's signs the request.
        """
        controller = self._own_controller(s, "opengdpr cancel")
        request = self._load(s, controller, srid)
        with s.proc.using_clock():
            request.cancel(actor=s.user_name)
            s.proc.commit(request)
        self._notify(request)
        return self.signed(
            202,
            {
                "controller_id": controller,
                "subject_request_id": request.subject_request_id,
                "received_time": _iso(s.proc.now()),
                "encoded_request": base64.b64encode(raw).decode("ascii"),
                "processor_signature": self.signer.signature(raw),
                "api_version": protocol.api_version,
            },
            protocol,
        )

    def results(self, s: Desk, srid: str, protocol: Protocol = OPENGDPR) -> Received:
        """The export of an access or portability request (its controller, in time), signed.

        The body is built whole before it is signed and sent: the signature header must cover
        every byte, and it goes out before the body. One subject's export is small.
        """
        out = io.StringIO()
        self._export(s, srid, out)
        data = out.getvalue().encode("utf-8")
        return Received(200, data, self.signer.headers(data, protocol.name))

    def _export(self, s: Desk, srid: str, out: TextIO) -> None:
        controller = self._own_controller(s, "opengdpr results")
        request = self._load(s, controller, srid)
        if request.status != COMPLETED or request.results_until is None:
            raise NotFoundError(f"no results for subject_request_id {srid[:64]!r}")
        if s.proc.now() > datetime.fromisoformat(request.results_until):
            raise RefusedError(
                f"the results were available until {request.results_until}",
                rule="ResultsMustNotHaveExpired",
            )
        s.exports.export(controller, out, contact=str(request.contact_id), data_format="json")

    def _status_body(
        self, request: OpenGdprRequest, protocol: Protocol | None = None
    ) -> dict[str, Any]:
        """The status (section 8.3); a callback's follows the protocol the request came over."""
        protocol = protocol or PROTOCOLS.get(request.protocol, OPENGDPR)
        body: dict[str, Any] = {
            "controller_id": request.controller,
            "expected_completion_time": request.expected_completion_time,
            "subject_request_id": request.subject_request_id,
            "request_status": request.status,
            "api_version": protocol.api_version,
        }
        if request.results_until is not None:
            body["results_url"] = (
                f"{self.base_url}{protocol.requests}/{request.subject_request_id}/results"
            )
        body["extensions"] = {
            self.options.domain: {
                "right": request.right,
                "outcome": request.outcome,
                "results_until": request.results_until,
            }
        }
        return body

    def _notify(self, request: OpenGdprRequest) -> None:
        """Queue a signed callback of the current status to each of the request's URLs."""
        for url in request.status_callback_urls:
            body = {**self._status_body(request), "status_callback_url": url}
            self.callbacks.send(
                Callback(
                    request.id,
                    request.controller,
                    url,
                    request.status,
                    json.loads(json.dumps(body)),
                )
            )
