"""OpenGDPR requests as aggregates, and one register per controller.

A request never holds the subject's identity: it is resolved to our contact id when the request
is received, and the id is all the events keep (the e-mail would be personal data at rest). The
register has a deterministic id per controller (uuid5), holds the callback URLs the controller's
administrator registered and the ids of the requests filed, so nothing needs a read model.
"""

# ruff: noqa: ARG002 - @event methods' arguments become the event's attributes (the evidence)
from __future__ import annotations

from datetime import datetime
from typing import Final
from uuid import UUID, uuid5

from eventsourcing.domain import event

from processor.kernel.aggregate import ProcessorAggregate
from processor.kernel.errors import RefusedError

_NAMESPACE: Final = UUID("3c2f5a8e-41b7-4f0e-9a51-0d6b8e7c2f19")
PENDING: Final = "pending"
IN_PROGRESS: Final = "in_progress"
COMPLETED: Final = "completed"
CANCELLED: Final = "cancelled"
STATUSES: Final = (PENDING, IN_PROGRESS, COMPLETED, CANCELLED)
TYPES: Final = ("access", "portability", "erasure")
EXTENSION_RIGHTS: Final = ("rectification", "restriction", "objection")


def request_id(controller: str, subject_request_id: str) -> UUID:
    """The aggregate id of a controller's request (ids are the controller's, so scoped by it)."""
    return uuid5(_NAMESPACE, f"opengdpr-request:{controller}:{subject_request_id.lower()}")


def register_id(controller: str) -> UUID:
    """The aggregate id of a controller's OpenGDPR register."""
    return uuid5(_NAMESPACE, f"opengdpr-register:{controller}")


class OpenGdprRequest(ProcessorAggregate):
    """One data-subject request from a controller, and every status it went through."""

    @staticmethod
    def create_id(controller: str, subject_request_id: str, **_: object) -> UUID:
        """Scoped by controller: another controller's id never finds this one."""
        return request_id(controller, subject_request_id)

    @event("OpenGdprRequestReceived")
    def __init__(
        self,
        actor: str,
        controller: str,
        subject_request_id: str,
        subject_request_type: str,
        right: str,
        submitted_time: str,
        expected_completion_time: str,
        status_callback_urls: list[str],
        api_version: str,
        contact_id: str | None,
        identity_types: list[str],
        policy_version: str,
        regulation: str = "gdpr",
        protocol: str = "opengdpr",
    ) -> None:
        # `regulation` (OpenDSR 2.0, section 7.1.1) and `protocol` (the one it arrived over)
        # came with OpenDSR: events recorded before them load with the defaults.
        self.controller = controller
        self.subject_request_id = subject_request_id
        self.subject_request_type = subject_request_type
        self.right = right
        self.submitted_time = submitted_time
        self.expected_completion_time = expected_completion_time
        self.status_callback_urls = list(status_callback_urls)
        self.api_version = api_version
        self.contact_id = contact_id
        self.identity_types = list(identity_types)
        self.policy_version = policy_version
        self.regulation = regulation
        self.protocol = protocol
        self.requested_by = actor
        self.received_time: datetime = self.created_on
        self.status = PENDING
        self.outcome = ""
        self.receipt_position: int | None = None
        self.results_until: str | None = None
        self.completed_at: datetime | None = None
        self.attempts = 0

    def start(self, actor: str) -> None:
        """Begin fulfilment; a cancelled request is never acted on."""
        self._must_be(PENDING, "started")
        self._status_changed(actor=actor, status=IN_PROGRESS, outcome="", receipt_position=None,
                             results_until=None)  # fmt: skip

    def complete(
        self,
        actor: str,
        outcome: str,
        receipt_position: int | None = None,
        results_until: str | None = None,
    ) -> None:
        """Record the fulfilment: the receipt's ledger position, or until when results last."""
        self._must_be(IN_PROGRESS, "completed")
        self._status_changed(
            actor=actor,
            status=COMPLETED,
            outcome=outcome,
            receipt_position=receipt_position,
            results_until=results_until,
        )

    def cancel(self, actor: str) -> None:
        """The controller withdraws the request while it is still pending."""
        self._must_be(PENDING, "cancelled")
        self._status_changed(actor=actor, status=CANCELLED, outcome="cancelled by the controller",
                             receipt_position=None, results_until=None)  # fmt: skip

    def _must_be(self, status: str, what: str) -> None:
        if self.status != status:
            raise RefusedError(
                f"the request is {self.status}; only a {status} request can be {what}",
                rule=f"OpenGdprRequestMustBe{status.title().replace('_', '')}",
            )

    @event("OpenGdprRequestStatusChanged")
    def _status_changed(
        self,
        actor: str,
        status: str,
        outcome: str,
        receipt_position: int | None,
        results_until: str | None,
    ) -> None:
        self.status = status
        self.outcome = outcome
        if receipt_position is not None:
            self.receipt_position = receipt_position
        if results_until is not None:
            self.results_until = results_until
        if status == COMPLETED:
            self.completed_at = self.modified_on

    @event("OpenGdprCallbackAttempted")
    def record_callback(
        self,
        actor: str,
        url: str,
        request_status: str,
        attempt: int,
        delivered: bool,
        http_status: int | None,
        error: str,
    ) -> None:
        """Record one attempt to deliver a status callback (every attempt is evidence)."""
        self.attempts += 1


class OpenGdprRegister(ProcessorAggregate):
    """A controller's OpenGDPR register: its callback URLs and the requests it filed."""

    @staticmethod
    def create_id(controller: str, **_: object) -> UUID:
        """One register per controller."""
        return register_id(controller)

    @event("OpenGdprRegisterOpened")
    def __init__(self, actor: str, controller: str) -> None:
        self.controller = controller
        self.callback_urls: list[str] = []
        self.requests: list[str] = []

    @event("OpenGdprCallbackUrlsRegistered")
    def register_callbacks(self, actor: str, urls: list[str]) -> None:
        """Replace the callback URLs (a controller administrator's decision)."""
        self.callback_urls = list(urls)

    @event("OpenGdprRequestFiled")
    def file(self, actor: str, request: str) -> None:
        """Remember a request's aggregate id."""
        self.requests.append(request)
