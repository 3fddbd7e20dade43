# Copyright 2026 The processor contributors
# SPDX-License-Identifier: Apache-2.0
"""The words the sub-processor registry understands (its ubiquitous language).

A closed vocabulary is what makes SUB-4 ("used only for the approved activity") and SUB-6
("a valid Chapter V basis") checkable at all: free text such as "E-mail tjenester" or
"Mail og elektronisk lagring" cannot be compared with the activity a command asks for.
The seeds' own wording is kept next to the normalised words in the policy files.
"""

from __future__ import annotations

from typing import Literal, get_args

Activity = Literal[
    "hosting",
    "backup",
    "storage",
    "email",
    "sms",
    "helpdesk",
    "survey",
    "communication",
    "recommendations",
    "crm",
    "timekeeping",
    "maps",
    "development",
    "operations",
    "analytics",
    "payment",
]
"""What a sub-processor does with the data (SCC B.1 "description of processing")."""

TransferBasis = Literal[
    "eea",
    "adequacy",
    "scc",
    "bcr",
    "dpf",
    "derogation",
    "privacy-shield",
    "safe-harbour",
    "none",
]
"""The Chapter V ground a record claims; `none` means "only a data processing agreement"."""

SupervisionMethod = Literal[
    "on-site-audit",
    "questionnaire",
    "documentation-review",
    "written-statement",
    "isae-3000-report",
    "certification-review",
]
"""The forms of supervision SCC C.7/C.8 and DPA18 Bilag 3 name."""

RecipientNoticeKind = Literal["rectification", "erasure", "restriction"]
"""The three changes Art. 19 GDPR requires to be passed on to recipients (SUBJ-5)."""

ACTIVITIES: frozenset[str] = frozenset(get_args(Activity))
TRANSFER_BASES: frozenset[str] = frozenset(get_args(TransferBasis))
SUPERVISION_METHODS: frozenset[str] = frozenset(get_args(SupervisionMethod))
RECIPIENT_NOTICE_KINDS: frozenset[str] = frozenset(get_args(RecipientNoticeKind))
