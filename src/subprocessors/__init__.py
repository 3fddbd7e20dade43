# Copyright 2026 The processor contributors
# SPDX-License-Identifier: Apache-2.0
"""The sub-processor registry: lists, change notices, objections and transfer rules.

Obligations SUB-1 to SUB-7 and SUBJ-5 of `OBLIGATIONS.md`. The domain (`SubProcessor`,
`RecipientOutbox`) records what happened; the rules (`may_process`, `check`) judge dated
facts against the policy files (`load_edition_list`, `load_transfer_policy`).
"""

from __future__ import annotations

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
