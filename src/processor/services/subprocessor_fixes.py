"""The command that resolves each finding of `subprocessors check` (issue 25).

A finding that only names a broken rule leaves the operator to find the command by trial and
error. Each rule here maps to the one command (or the one thing to wait for) that clears it, with
the sub-processor and controller filled in and what only the person knows left in capitals
(`REF`, `FILE`). `status`, the report and `check` all show the same text.
"""

from __future__ import annotations

import shlex

_AGREEMENT = (
    "processor --as GDPA subprocessors agreement {sp} --ref REF --date DATE "
    "--text-file FILE --beneficiary-clause"
)
_FIXES: dict[str, str] = {
    "AgreementMustBeRecorded": _AGREEMENT,
    "AgreementTextMustBeKept": _AGREEMENT,
    "BeneficiaryClauseMustBeIncluded": _AGREEMENT,
    "SubProcessorMustBeEngaged": "processor --as GDPA subprocessors engage {sp}",
    "NoticePeriodMustHaveElapsed": (
        "wait for the notice period to end, then: processor --as GDPA subprocessors engage {sp}"
    ),
    "MustNotBeObjectedTo": (
        "stop sending {controller}'s data to {sp}: propose a replacement with "
        "processor --as GDPA subprocessors propose NAME ... --replaces {sp}"
    ),
    "SubProcessorMustNotBeRetired": (
        "a retired sub-processor still carries {controller}'s data: propose a replacement with "
        "processor --as GDPA subprocessors propose NAME ... --replaces {sp}"
    ),
    "MustBeOnControllersList": (
        "give {controller} notice first: processor --as GDPA subprocessors propose {sp} ..."
    ),
    "ActivityMustBeApproved": (
        "propose it again for the activity: processor --as GDPA subprocessors propose {sp} "
        "--activity ACTIVITY ..."
    ),
    "ThirdCountryNeedsTransferBasis": (
        "record a valid Chapter V basis for {sp}'s transfer (SCC, adequacy, DPF), or propose an "
        "EEA replacement: processor --as GDPA subprocessors propose NAME ... --replaces {sp}"
    ),
    "TransferBasisMustBeInForce": (
        "the transfer basis of {sp} is no longer in force: propose a replacement with a valid "
        "basis: processor --as GDPA subprocessors propose NAME --basis BASIS ... --replaces {sp}"
    ),
    "ThirdCountryNeedsInstruction": (
        "{controller}'s administrator records the transfer instruction: processor --as ADMIN "
        "controllers instruct {controller} --kind transfer --country CC --basis BASIS "
        '--text "..."'
    ),
}


def resolution(rule: str, subprocessor: str, controller: str) -> str:
    """What clears `rule` for `subprocessor` and `controller`; a pointer to the docs otherwise."""
    template = _FIXES.get(rule)
    if template is None:
        return f"see docs/subprocessors.md for {rule}"
    return template.format(sp=shlex.quote(subprocessor), controller=controller)
