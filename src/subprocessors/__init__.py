# Copyright 2026 The processor contributors
# SPDX-License-Identifier: Apache-2.0
"""The sub-processor registry: lists, change notices, objections and transfer rules.

Obligations SUB-1 to SUB-7 and SUBJ-5 of `OBLIGATIONS.md`. The domain (`SubProcessor`,
`RecipientOutbox`) records what happened; the rules (`may_process`, `check`) judge dated
facts against the policy files (`load_edition_list`, `load_transfer_policy`).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from subprocessors.decisions import (
        Decision,
        Finding,
        approved_from,
        check,
        in_use,
        may_process,
        notice_dates,
        recipients,
    )
    from subprocessors.details import SubProcessorDetails, subprocessor_id
    from subprocessors.domain import SubProcessor, facts_as_of
    from subprocessors.facts import (
        ControllerFacts,
        Objection,
        SubProcessorFacts,
        Supervision,
        TransferInstruction,
    )
    from subprocessors.loader import edition_names, load_edition_list, load_transfer_policy
    from subprocessors.outbox import RecipientNotice, RecipientOutbox
    from subprocessors.policy import EditionList, NoticeRule, SubProcessorEntry, TransferPolicy
    from subprocessors.seeding import add_edition_list, details_from_entry, signature_instructions

__all__ = [
    "ControllerFacts",
    "Decision",
    "EditionList",
    "Finding",
    "NoticeRule",
    "Objection",
    "RecipientNotice",
    "RecipientOutbox",
    "SubProcessor",
    "SubProcessorDetails",
    "SubProcessorEntry",
    "SubProcessorFacts",
    "Supervision",
    "TransferInstruction",
    "TransferPolicy",
    "add_edition_list",
    "approved_from",
    "check",
    "details_from_entry",
    "edition_names",
    "facts_as_of",
    "in_use",
    "load_edition_list",
    "load_transfer_policy",
    "may_process",
    "notice_dates",
    "recipients",
    "signature_instructions",
    "subprocessor_id",
]


# Each public name and the module that defines it. A name is imported on first use (PEP 562), so
# a command that only reads a recipient outbox (every store open: processor.storage.eventstore)
# does not pay for the rules, policy models and loaders it never judges with (issue 28).
_HOMES = {
    "ControllerFacts": "facts",
    "Decision": "decisions",
    "EditionList": "policy",
    "Finding": "decisions",
    "NoticeRule": "policy",
    "Objection": "facts",
    "RecipientNotice": "outbox",
    "RecipientOutbox": "outbox",
    "SubProcessor": "domain",
    "SubProcessorDetails": "details",
    "SubProcessorEntry": "policy",
    "SubProcessorFacts": "facts",
    "Supervision": "facts",
    "TransferInstruction": "facts",
    "TransferPolicy": "policy",
    "add_edition_list": "seeding",
    "approved_from": "decisions",
    "check": "decisions",
    "details_from_entry": "seeding",
    "edition_names": "loader",
    "facts_as_of": "domain",
    "in_use": "decisions",
    "load_edition_list": "loader",
    "load_transfer_policy": "loader",
    "may_process": "decisions",
    "notice_dates": "decisions",
    "recipients": "decisions",
    "signature_instructions": "seeding",
    "subprocessor_id": "details",
}


def __getattr__(name: str) -> object:
    """Import the module that defines `name` on first use, and keep the name here."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"subprocessors.{home}"), name)
    globals()[name] = value
    return value
