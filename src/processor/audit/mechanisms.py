"""One entry per obligation id: what enforces it, where that lives, and which events evidence it.

The audit report's coverage appendix (AUD-1) reads this table. `where` names the code that
enforces the duty (`module` or `module:attribute`); the report imports it at build time, so
a mechanism that was removed or renamed shows up as a deviation instead of staying claimed.
`events` are the event names whose count in the period is the id's evidence.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Mechanism:
    """How one obligation is enforced and evidenced."""

    id: str
    duty: str
    mechanism: str
    where: str
    events: tuple[str, ...] = ()

    def present(self) -> bool:
        """Whether the enforcing code can be imported (and has the named attribute)."""
        module, _, attribute = self.where.partition(":")
        try:
            found = importlib.import_module(module)
        except ImportError:
            return False
        return not attribute or hasattr(found, attribute)


def _m(id_: str, duty: str, mechanism: str, where: str, *events: str) -> Mechanism:
    return Mechanism(id_, duty, mechanism, where, tuple(events))


MECHANISMS: tuple[Mechanism, ...] = (
    # Instructions and purpose
    _m(
        "INSTR-1",
        "Process only on documented instructions",
        "`InstructionRecorded` on the controller (dated, attributed); every message names the "
        "instruction it relies on (`MessageMustRelyOnInstruction`), refused and recorded otherwise",
        "processor.domain.sending:MessageMustRelyOnInstruction",
        "InstructionRecorded",
    ),
    _m(
        "INSTR-2",
        "Flag an infringing instruction and tell the controller",
        "`controllers flag-instruction` records `InstructionFlagged` with an `instruction-flagged` "
        "notice; processing relying on a flagged instruction is refused",
        "processor.domain.controllers:Controller",
        "InstructionFlagged",
        "FlaggedInstructionConfirmed",
        "FlaggedInstructionWithdrawn",
    ),
    _m(
        "INSTR-3",
        "Sensitive data only after the controller's notice",
        "`check_sensitive_fields` and `check_sensitive_values` with `policies/fields.toml`: a "
        "custom field whose name or free-text value marks a special category needs a "
        "`sensitive-data` instruction",
        "processor.services.profile:check_sensitive_fields",
    ),
    _m(
        "INSTR-4",
        "The edition in force per controller applies its terms",
        "`policies/editions.toml` terms selected by the controller's edition (deadlines, notice "
        "periods)",
        "processor.policies:EditionTerms",
        "ControllerRegistered",
        "AmendmentAccepted",
    ),
    _m(
        "INSTR-5",
        "The agreement is kept; amendments take effect on acceptance",
        "`controllers agreement` keeps the text's SHA-256, dates and sealed signatories; a later "
        "edition is pending until `controllers accept`; `AgreementMustBeOnRecord` refuses adds, "
        "imports and sends before it",
        "processor.services.agreements:AgreementsService",
        "AgreementRecorded",
        "AmendmentAccepted",
    ),
    _m(
        "INSTR-6",
        "Tell the controller of a legal requirement first",
        "`controllers legal-requirement` records `LegalRequirementNotified` with a notice",
        "processor.domain.controllers:Controller",
        "LegalRequirementNotified",
    ),
    _m(
        "INSTR-7",
        "Never contact the controller's contacts on one's own",
        "`MessageMustBeSentForController`: only a user of the controller sends; each message "
        "records who sent it",
        "processor.domain.sending:MessageMustBeSentForController",
        "MessageRecorded",
    ),
    # Data subjects and contacts
    _m(
        "SUBJ-1",
        "Contact data recorded with its origin",
        "closed field vocabulary (`clean_profile`); `source` on every `ContactAdded`",
        "processor.domain.contacts:Contact",
        "ContactAdded",
    ),
    _m(
        "SUBJ-2",
        "When and how consent was given",
        "consent per list with channel, method, sealed evidence and the time given "
        "(`services/consent.py`)",
        "processor.services.consent",
        "ConsentGiven",
        "ContactAdded",
    ),
    _m(
        "SUBJ-3",
        "Unsubscribing stops sending, keeps the data",
        "`Contact.unsubscribe` keeps the data; `ContactMustBeSubscribed` in every send",
        "processor.domain.sending:ContactMustBeSubscribed",
        "UnsubscribedFromList",
    ),
    _m(
        "SUBJ-4",
        "Assist with data-subject requests",
        "show, export, rectify, restrict, object and erase use cases",
        "processor.services.contacts:ContactsService",
        "ContactRectified",
        "ProcessingRestricted",
        "ProcessingObjectedTo",
        "ContactErased",
        "DataExported",
    ),
    _m(
        "SUBJ-5",
        "Pass requests on to every recipient",
        "`RecipientOutbox` entries committed with rectify, restrict and erase; `outbox ack`",
        "subprocessors.outbox:RecipientOutbox",
        "RecipientNoticeQueued",
        "RecipientNoticeAcknowledged",
    ),
    _m(
        "SUBJ-6",
        "Free export or deletion in a standard format",
        "`export` (JSON, CSV) recorded as `DataExported`; `export --all --out DIR` with a manifest",
        "processor.services.exports:ExportService",
        "DataExported",
        "DataReturned",
    ),
    _m(
        "SUBJ-7",
        "Freemium and demo account limits",
        "`check_contact_limit`; `AccountMustAllowSms`, `AccountEmailLimit`, "
        "`AccountMonthlyEmailLimit` from `policies/accounts.toml`",
        "processor.domain.sending:AccountMonthlyEmailLimit",
        "MessageRecorded",
    ),
    _m(
        "SUBJ-8",
        "Messages only within the consent given",
        "`ConsentMustCoverChannel`: a consent for the channel on the list",
        "processor.domain.sending:ConsentMustCoverChannel",
        "MessageRecorded",
    ),
    _m(
        "SUBJ-9",
        "Assist with impact assessments",
        "`audit dpia-pack`: the processing, the risks assessed and the measures against each",
        "processor.audit.packs",
    ),
    _m(
        "SUBJ-10",
        "Assist with informing data subjects (Art. 13, 14) and on automated decisions (Art. 22)",
        "`audit inform-pack` / `GET /v1/audit/inform-pack/{controller}`: from live state, the "
        "fields in use, where contacts came from, purposes from the instructions, sub-processors "
        "and transfers, and that no automated decision is made",
        "processor.audit.inform:inform_pack",
    ),
    # Staff access and confidentiality
    _m(
        "ACC-1",
        "Only bound and trained staff access data",
        "`Session.authorize` refuses bound roles without undertaking and training "
        "(`StaffMustBeBoundAndTrained`)",
        "processor.session:Session",
        "StaffUndertakingRecorded",
        "UserAdded",
    ),
    _m(
        "ACC-2",
        "Staff authorisations reviewed; withdrawal stops access",
        "`users review` within the policy's period, `users revoke`; an overdue review blocks "
        "access",
        "processor.services.staff:StaffService",
        "UserReviewed",
        "UserAccessRevoked",
    ),
    _m(
        "ACC-3",
        "Demonstrate staff confidentiality",
        "`users staff` registry of undertakings, training and reviews",
        "processor.services.staff:StaffService",
        "StaffUndertakingRecorded",
    ),
    _m(
        "ACC-4",
        "Support access only by prior agreement",
        "`support view` only for a case the controller opened (`support-request` instruction by "
        "its own administrator, open until closed or the profile's days pass); `AccessGrant`: "
        "reasoned request, controller approval or standing instruction, scope and policy length",
        "processor.services.support_requests:must_be_open",
        "InstructionRecorded",
        "SupportRequestClosed",
        "AccessRequested",
        "AccessApproved",
        "AccessRequestDenied",
        "AccessGrantRevoked",
    ),
    _m(
        "ACC-5",
        "Support sees pseudonymised records",
        "`support view`: non-identifying facts under pseudonyms keyed per controller and store "
        "(HMAC of the contact id under the controller's pseudonym key), logged",
        "processor.keys:pseudonym",
        "PersonalDataViewed",
    ),
    _m(
        "ACC-6",
        "Every staff access logged with date, reason and person",
        "`PersonalDataRevealed` stored before anything is shown; each support view logged "
        "with its case and sealed reason; `access log`",
        "processor.domain.access:AccessGrant",
        "PersonalDataRevealed",
        "PersonalDataViewed",
    ),
    _m(
        "ACC-7",
        "Random sample checks of the access log",
        "`access sample` / `audit sample` record a reproducible sample; each entry checked "
        "against grant and instruction; findings recorded",
        "processor.domain.access:SampleCheck",
        "AccessLogSampleChecked",
        "AuditSampleDrawn",
        "SampleEntryReviewed",
    ),
    _m(
        "ACC-8",
        "Unauthorised attempts logged, repeated ones blocked",
        "`refusals.refuse` records `AccessDenied`; counted refusals lock the user (`UserLocked`)",
        "processor.refusals:refuse",
        "AccessDenied",
        "AccessRefusalCounted",
        "UserLocked",
    ),
    _m(
        "ACC-9",
        "Controller roles; users see only their own account",
        "`Session.authorize`: role permissions from `policies/roles.toml` and own-controller scope",
        "processor.session:Session",
        "AccessDenied",
    ),
    _m(
        "ACC-10",
        "Every creation, update and deletion logged",
        "every event carries its actor, channel and time; the event store is the log; "
        "`audit changes` lists it",
        "processor.kernel.aggregate:ProcessorAggregate",
    ),
    _m(
        "ACC-11",
        "A processor may run with no staff access",
        "`init --profile no-staff-access` (`policies/profiles.toml`): `NoStaffAccessProfile`",
        "processor.policies:StaffProfile",
    ),
    _m(
        "ACC-12",
        "Personal authentication only",
        "personal credentials stored as digests (`CredentialIssued`), checked for every session",
        "processor.credentials.service:authenticate",
        "CredentialIssued",
    ),
    _m(
        "ACC-13",
        "Controller users only on the controller's request",
        "`must_cite_request`: staff change a controller's users only on a `user-request` "
        "its own administrator recorded; otherwise a four-eyes recovery with a wait",
        "processor.services.user_requests:must_cite_request",
        "UserRequestCarriedOut",
        "AccountRecoveryCompleted",
    ),
    _m(
        "ACC-14",
        "Suspected misuse reported to the controller",
        "a controller user's lock commits a `suspected-misuse` notice",
        "processor.refusals:record",
        "UserLocked",
        "ControllerNotified",
    ),
    _m(
        "ACC-15",
        "IT-security policy changes acknowledged before acting again",
        "`policies/security.toml` is versioned; `Session.authorize` refuses staff who have not "
        "acknowledged the version in force (`SecurityPolicyMustBeAcknowledged`) except "
        "`policy show` / `policy acknowledge` (also `/v1/users/me/policy`)",
        "processor.session:Session",
        "SecurityPolicyChanged",
        "SecurityPolicyAcknowledged",
    ),
    _m(
        "ACC-16",
        "The GDPA appointed for at least two years at a time",
        "`init` records `GdpaAppointed` with the policy's minimum term; `gdpa renew`; "
        "`gdpa appoint NAME` for another GDPA user; an expired appointment is flagged in "
        "`status` and the report",
        "processor.services.security_policy:appointment",
        "GdpaAppointed",
    ),
    _m(
        "ACC-17",
        "All access encrypted in transit; messages say whether they went out over TLS",
        "`serve` terminates TLS (`--tls-cert`/`--tls-key`) or runs behind a declared TLS proxy "
        "(`--behind-tls-proxy`); plain HTTP off loopback is refused; `MessageRecorded.tls`",
        "processor.api.transport:for_serving",
        "MessageRecorded",
    ),
    # Sub-processors and transfers
    _m(
        "SUB-1",
        "List of approved sub-processors per controller",
        "edition lists as policy data; `SubProcessor` aggregate; `subprocessors list`",
        "subprocessors.domain:SubProcessor",
        "SubProcessorAdded",
    ),
    _m(
        "SUB-2",
        "Written notice before a new sub-processor",
        "notice dates per controller in `SubProcessorProposed`; a `subprocessor-change` notice to "
        "each affected controller with the objection deadline; `NoticePeriodMustHaveElapsed`",
        "subprocessors.rules:NoticePeriodMustHaveElapsed",
        "SubProcessorProposed",
        "ControllerNotified",
    ),
    _m(
        "SUB-3",
        "An objection blocks use",
        "`SubProcessorObjectedTo`; `MustNotBeObjectedTo` asked by every send",
        "subprocessors.rules:MustNotBeObjectedTo",
        "SubProcessorObjectedTo",
    ),
    _m(
        "SUB-4",
        "Used only for the approved activity",
        "`ActivityMustBeApproved` asked by every send",
        "subprocessors.rules:ActivityMustBeApproved",
        "SubProcessorEngaged",
    ),
    _m(
        "SUB-5",
        "Sub-processor agreement recorded",
        "`AgreementMustBeRecorded`, `BeneficiaryClauseMustBeIncluded` (SCC 7.6) and "
        "`AgreementTextMustBeKept` before engagement: the text's SHA-256 is kept, not a "
        "reference alone, and amendments with theirs",
        "subprocessors.rules:AgreementTextMustBeKept",
        "SubProcessorAgreementKept",
        "SubProcessorAgreementAmended",
    ),
    _m(
        "SUB-6",
        "No third-country transfer without instruction and valid basis",
        "`ThirdCountryNeedsTransferBasis`, `TransferBasisMustBeInForce`, "
        "`ThirdCountryNeedsInstruction` (`policies/transfers.toml`); `subprocessors check`",
        "subprocessors.transfer_rules:TransferBasisMustBeInForce",
    ),
    _m(
        "SUB-7",
        "Sub-processors supervised; results given to controllers",
        "`SubProcessorSupervised`; results in the controller's list and pack; `subprocessors "
        "challenge`",
        "subprocessors.domain:SubProcessor",
        "SubProcessorSupervised",
        "SupervisionChallenged",
    ),
    _m(
        "SUB-8",
        "Random checks of sub-processors' access",
        "`audit sample --of subprocessors`: outbox entries checked against engagement and activity",
        "processor.audit.samplecheck",
        "AuditSampleDrawn",
        "SampleEntryReviewed",
    ),
    _m(
        "SUB-9",
        "Secure and minimal transfers to sub-processors; agreement copies for the controller",
        "`messages handoff` (GET .../messages/handoff): a carrier gets only the address and "
        "content its channel needs, only while it may still carry, logged as "
        "`PersonalDataViewed`; `subprocessors agreement-copy NAME`: the agreement, its text's "
        "SHA-256 and every amendment, to the controllers it concerns",
        "processor.services.handoff:HandoffService",
        "PersonalDataViewed",
        "SubProcessorAgreementKept",
        "SubProcessorAgreementAmended",
    ),
    # Retention and deletion
    _m(
        "RET-1",
        "Deletion 120 days after the end (edition's term)",
        "`controllers terminate`; the sweep deletes when the edition's term is due",
        "processor.services.sweeper:Sweeper",
        "TerminationRecorded",
        "ControllerSwept",
    ),
    _m(
        "RET-2",
        "Delete or return on request",
        "`--instruction delete|return`; `export --all --out DIR` with a manifest",
        "processor.services.returns:ReturnService",
        "DataReturned",
    ),
    _m(
        "RET-3",
        "Deletion confirmed",
        "`PersonalDataDeleted` and a signed `retention certificate` whose every claim the events "
        "prove, refused otherwise (`CertificateMustBeProvenByEvents`)",
        "processor.services.evidence:data_deleted_event",
        "PersonalDataDeleted",
    ),
    _m(
        "RET-4",
        "Demo accounts end after 30 days; data deleted 90 days later",
        "`DemoTrialEnded` with a `trial-end` notice; `controllers upgrade` keeps the data",
        "processor.domain.controllers:Controller",
        "DemoTrialEnded",
        "AccountUpgraded",
    ),
    _m(
        "RET-5",
        "Deleted data is gone from backups (crypto-shredding)",
        "per-subject keys in a separate key store; erasure destroys the key",
        "processor.keys.keystore:KeyStore",
        "ContactErased",
        "MessageContentShredded",
    ),
    _m(
        "RET-6",
        "Legal retention overrides deletion",
        "`--instruction retain` with a legal ground and a date holds the sweep",
        "processor.services.lifecycle:LifecycleService",
        "TerminationRecorded",
    ),
    _m(
        "RET-7",
        "Message content retention",
        "messages sealed with their own key; the sweep shreds content when due",
        "processor.domain.messages:Message",
        "MessageContentShredded",
    ),
    _m(
        "RET-8",
        "Restore after an incident, never bringing erased data back",
        "`backup` and `backup --keys`; `restore` verifies the ledger and destroys erased keys "
        "again",
        "processor.backup.restore",
    ),
    # Breaches
    _m(
        "BR-1",
        "Notify controllers within 24 hours of discovery",
        "breach register with notice clocks (SCC: from the discovery; 2018 DPA: from awareness)",
        "processor.breaches.report:breach_evidence",
        "BreachNotifiedToController",
    ),
    _m(
        "BR-2",
        "Notification contents (Art. 33(3))",
        "breach notice fields",
        "processor.breaches.report:breach_evidence",
        "ImpactAssessed",
        "BreachNotifiedToController",
    ),
    _m(
        "BR-3",
        "Assist with the 72-hour authority notice",
        "breach clocks to the authority",
        "processor.breaches.report:breach_evidence",
        "AuthorityNotificationRecorded",
        "SubjectsNoticeDecided",
    ),
    _m(
        "BR-4",
        "Every incident documented and reviewed",
        "breach register and reviews",
        "processor.breaches.report:breach_evidence",
        "BreachOpened",
        "BreachClosed",
    ),
    _m(
        "BR-5",
        "Locate, limit, restore; say so in writing",
        "breach measures recorded with kind and time (`BreachMeasureTaken`) and told to the "
        "controller in the breach notice",
        "processor.breaches.report:breach_evidence",
        "BreachMeasureTaken",
        "BreachKeysRotated",
    ),
    # Audit and accountability
    _m(
        "AUD-1",
        "Information to demonstrate compliance; audits",
        "`audit report`: objectives A-I with live evidence, deviations and this coverage",
        "processor.audit.report:build_report",
    ),
    _m("AUD-2", "Controller information pack", "`audit controller-pack`", "processor.audit.packs"),
    _m("AUD-3", "Record of processing (Art. 30(2))", "`audit record`", "processor.audit.record"),
    _m(
        "AUD-4",
        "Logs cannot be altered or removed undetected",
        "Merkle ledger with signed checkpoints, record MACs, outside checkpoint log; `ledger "
        "verify` (its result is in this report)",
        "processor.link.service:LedgerService",
    ),
    _m(
        "AUD-5",
        "Contact persons recorded; changes made known",
        "`controllers contacts`, `processor-contacts`; each change notified",
        "processor.audit.contactpersons",
        "ContactPersonRecorded",
        "ContactPersonRemoved",
    ),
    _m(
        "AUD-6",
        "Risk assessment and yearly IT-security policy review",
        "`audit risk-review`, `audit policy-review`; the report flags an overdue one",
        "processor.audit.reviews",
        "RiskAssessmentReviewed",
        "SecurityPolicyReviewed",
    ),
    _m(
        "AUD-7",
        "Inspections of the processor and its sub-processors recorded with findings",
        "`audit inspection` (GDPA, on the inspector's behalf: by, party, inspector, what, when, "
        "outcome, sealed findings); `audit inspections`; deviations found are in this report",
        "processor.audit.inspections:InspectionsService",
        "InspectionRecorded",
    ),
)

BY_ID: dict[str, Mechanism] = {m.id: m for m in MECHANISMS}
