"""Refused attempts (ACC-8): one small aggregate per refusal.

A refusal is a fact of its own, stored even for a user name nobody knows, so one aggregate per
attempt keeps every write cheap and no aggregate grows without bound.
"""

from __future__ import annotations

from eventsourcing.domain import event

from processor.kernel.aggregate import ProcessorAggregate


class AccessDenial(ProcessorAggregate):
    """One refused command."""

    @event("AccessDenied")
    def __init__(
        self,
        actor: str,
        command: str,
        controller: str | None,
        rule: str,
        reason: str,
        policy_version: str,
    ) -> None:
        self.actor = actor
        self.command = command
        self.controller = controller
        self.rule = rule
        self.reason = reason
        self.policy_version = policy_version
