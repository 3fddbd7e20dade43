"""The control objectives of the report, in the order of the Danish ISAE 3000 GDPR assurance report.

An auditor used to those reports (FSR's model for data processors) looks for a system description
and then objectives A to I; keeping that shape means they find each control where they expect it.
Each objective lists the obligation ids it covers and the event counts that evidence it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from processor.audit.evidence import EventFacts


@dataclass(frozen=True)
class Objective:
    """One control objective: its letter, title, what it aims at, ids and evidence counts."""

    key: str
    title: str
    aim: str
    ids: tuple[str, ...]
    # (label, event names whose count in the period is the figure)
    evidence: tuple[tuple[str, tuple[str, ...]], ...]

    def evidence_rows(self, facts: EventFacts) -> list[dict[str, object]]:
        """The objective's evidence counts for the period."""
        return [
            {"label": label, "count": facts.count(*names), "events": list(names)}
            for label, names in self.evidence
        ]


OBJECTIVES: tuple[Objective, ...] = (
    Objective(
        "A",
        "Instructions",
        "Personal data is processed only on the controller's documented instructions.",
        ("INSTR-1", "INSTR-2", "INSTR-3", "INSTR-4", "INSTR-5", "INSTR-7", "SUBJ-7", "SUBJ-8"),
        (
            ("instructions recorded", ("InstructionRecorded",)),
            ("instructions flagged", ("InstructionFlagged",)),
            ("flags settled", ("FlaggedInstructionConfirmed", "FlaggedInstructionWithdrawn")),
            ("agreements recorded", ("AgreementRecorded",)),
            ("amendments accepted", ("AmendmentAccepted",)),
            ("messages sent on instruction", ("MessageRecorded",)),
        ),
    ),
    Objective(
        "B",
        "Technical measures",
        "Technical measures protect the data: sealing, pseudonymised support, logging, "
        "authentication, refusal and lockout, and a tamper-evident ledger.",
        (
            "ACC-5",
            "ACC-6",
            "ACC-8",
            "ACC-9",
            "ACC-10",
            "ACC-12",
            "ACC-17",
            "AUD-4",
            "SUBJ-1",
            "SUBJ-2",
        ),
        (
            ("pseudonymised support views and logged reads", ("PersonalDataViewed",)),
            ("reveals of identifying data", ("PersonalDataRevealed",)),
            ("refused attempts", ("AccessDenied",)),
            ("lockouts", ("UserLocked",)),
            ("unlocks", ("UserUnlocked",)),
            ("personal credentials issued", ("CredentialIssued",)),
            ("contacts recorded with origin", ("ContactAdded",)),
            ("consents recorded", ("ConsentGiven",)),
        ),
    ),
    Objective(
        "C",
        "Organisational measures",
        "Only bound, trained and reviewed staff access data, by prior agreement, and the access "
        "log is sample-checked; the processor's own records and reviews are kept.",
        (
            "ACC-1",
            "ACC-2",
            "ACC-3",
            "ACC-4",
            "ACC-7",
            "ACC-11",
            "ACC-13",
            "ACC-14",
            "ACC-15",
            "ACC-16",
            "AUD-1",
            "AUD-2",
            "AUD-3",
            "AUD-5",
            "AUD-6",
            "AUD-7",
        ),
        (
            ("staff undertakings recorded", ("StaffUndertakingRecorded",)),
            ("staff reviews done", ("UserReviewed",)),
            ("users revoked", ("UserAccessRevoked",)),
            ("support cases closed", ("SupportRequestClosed",)),
            ("IT-security policy versions recorded", ("SecurityPolicyChanged",)),
            ("IT-security policy acknowledgements", ("SecurityPolicyAcknowledged",)),
            ("GDPA appointments and renewals", ("GdpaAppointed",)),
            ("access grants requested", ("AccessRequested",)),
            ("access grants approved", ("AccessApproved",)),
            ("access requests denied", ("AccessRequestDenied",)),
            ("access grants revoked", ("AccessGrantRevoked",)),
            ("access-log sample checks (before `audit sample`)", ("AccessLogSampleChecked",)),
            ("audit samples drawn", ("AuditSampleDrawn",)),
            ("sampled entries reviewed", ("SampleEntryReviewed",)),
            ("risk-assessment reviews", ("RiskAssessmentReviewed",)),
            ("IT-security policy reviews", ("SecurityPolicyReviewed",)),
            ("inspections and audits recorded", ("InspectionRecorded",)),
            ("controller users changed on request", ("UserRequestCarriedOut",)),
            ("notices to controllers", ("ControllerNotified",)),
        ),
    ),
    Objective(
        "D",
        "Deletion and return",
        "Data is deleted or returned as agreed, deletion is confirmed, and erased data stays "
        "unreadable everywhere.",
        ("RET-1", "RET-2", "RET-3", "RET-4", "RET-5", "RET-6", "RET-7"),
        (
            ("subjects erased (crypto-shredded)", ("ContactErased",)),
            ("terminations recorded", ("TerminationRecorded",)),
            ("data returned", ("DataReturned",)),
            ("sweeps completed", ("SweepCompleted",)),
            ("controllers swept", ("ControllerSwept",)),
            ("deletion certificates (PersonalDataDeleted)", ("PersonalDataDeleted",)),
            ("message contents shredded", ("MessageContentShredded",)),
            ("demo trials ended", ("DemoTrialEnded",)),
        ),
    ),
    Objective(
        "E",
        "Storage locations",
        "Data is stored only where agreed: events and keys in separate stores, backups that can "
        "be restored without bringing erased data back.",
        ("RET-8",),
        (),
    ),
    Objective(
        "F",
        "Sub-processors",
        "Sub-processors are used only as approved, after notice, never against an objection, "
        "under a recorded agreement, and supervised.",
        ("SUB-1", "SUB-2", "SUB-3", "SUB-4", "SUB-5", "SUB-7", "SUB-8", "SUB-9"),
        (
            ("sub-processors listed", ("SubProcessorAdded",)),
            ("changes notified (proposals)", ("SubProcessorProposed",)),
            ("objections", ("SubProcessorObjectedTo",)),
            ("engagements", ("SubProcessorEngaged",)),
            ("retirements", ("SubProcessorRetired",)),
            ("agreements recorded", ("SubProcessorAgreementRecorded",)),
            ("supervisions", ("SubProcessorSupervised",)),
        ),
    ),
    Objective(
        "G",
        "Transfers to third countries",
        "No transfer outside the EEA without the controller's instruction and a valid "
        "Chapter V basis; legal requirements are told first.",
        ("SUB-6", "INSTR-6"),
        (("legal requirements notified", ("LegalRequirementNotified",)),),
    ),
    Objective(
        "H",
        "Data-subject rights",
        "The processor assists the controller with every data-subject request and passes "
        "changes on to every recipient.",
        ("SUBJ-3", "SUBJ-4", "SUBJ-5", "SUBJ-6", "SUBJ-9", "SUBJ-10"),
        (
            ("unsubscribes", ("UnsubscribedFromList",)),
            ("rectifications", ("ContactRectified",)),
            ("restrictions", ("ProcessingRestricted",)),
            ("objections to processing", ("ProcessingObjectedTo",)),
            ("exports", ("DataExported",)),
            ("recipient notices queued", ("RecipientNoticeQueued",)),
            ("recipient notices acknowledged", ("RecipientNoticeAcknowledged",)),
        ),
    ),
    Objective(
        "I",
        "Personal data breaches",
        "Breaches are documented, located and limited, and notified within the clocks the "
        "agreements set.",
        ("BR-1", "BR-2", "BR-3", "BR-4", "BR-5"),
        (
            ("incidents opened", ("BreachOpened",)),
            ("impact assessments", ("ImpactAssessed",)),
            ("notices to controllers", ("BreachNotifiedToController",)),
            ("authority notifications recorded", ("AuthorityNotificationRecorded",)),
            ("measures taken", ("BreachMeasureTaken",)),
            ("incidents closed after review", ("BreachClosed",)),
        ),
    ),
)
