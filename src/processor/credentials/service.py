"""Issuing, rotating and checking personal credentials (ACC-12), and counting failures (ACC-8).

A credential is checked against the user's own events (its digest is on `CredentialIssued`),
never against a read model. A failed authentication is recorded like any refusal and counts
towards the lockout, for names that do not exist as much as for names that do, and its message
is the same either way, so it tells an attacker nothing about which names exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from processor.credentials.secrets import Credential, matches, new_credential
from processor.domain.ids import user_id
from processor.domain.users import User

if TYPE_CHECKING:
    from processor.app import Processor
    from processor.kernel.context import Via
    from processor.session import Session

AUTH_RULE = "CredentialMustBeValid"


class KeepsIssued(Protocol):
    """The port `issue` needs: where a process keeps the credentials it issued.

    `issue` records the digest on the user's own events and hands the text to the caller that
    asked; it needs nothing else of the `Processor`.
    """

    issued: dict[str, str]


def issue(
    proc: KeepsIssued, user: User, actor: str, *, rotated: bool = False, by_staff: bool = False
) -> Credential:
    """Add a new credential to `user` (the caller commits) and remember it for the caller.

    The text is returned once and kept in `proc.issued` for this process only, so a caller that
    issued it (the CLI printing it, the demo logging its cast in) can hand it on; it is never
    stored. A controller user's credential issued `by_staff` (the processor's) is marked as
    handed over: its holder must rotate it before doing anything else (ACC-13).
    """
    credential = new_credential()
    user.issue_credential(
        actor=actor, credential_id=credential.credential_id, digest=credential.digest,
        rotated=rotated, handed_over=by_staff and user.controller is not None,
    )  # fmt: skip
    proc.issued[user.name] = credential.text
    return credential


def authenticate(
    proc: Processor, name: str, text: str, via: Via, *, command: str = "login"
) -> Session:
    """The session of `name` if `text` is its current credential; else record and refuse.

    `command` is what the person tried to run, so the refusal in the access log says it.
    """
    from processor import refusals
    from processor.session import Session

    found = proc.find(user_id(name))
    user = found if isinstance(found, User) else None
    if user is not None and user.revoked and matches(text, user.revoked_credential_digest):
        # Only the holder of the revoked credential learns that the access was revoked.
        refusals.refuse(
            proc,
            actor=name,
            via=via,
            command=command,
            controller=None,
            rule="UserMustNotBeRevoked",
            reason="the user's access is revoked",
            counts=True,
        )
    if user is None or not matches(text, user.credential_digest):
        refusals.refuse(
            proc,
            actor=name,
            via=via,
            command=command,
            controller=None,
            rule=AUTH_RULE,
            reason=f"no valid credential for user {name!r} (log in with `processor login {name}`)",
            counts=True,
        )
    return Session(proc, name, via, checked=user)
