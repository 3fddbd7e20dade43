"""Issue 17: a command's authorisation reuses the user its login has just loaded, never a stale one.

`authenticate` reads and replays the user's events to check the credential; the first
`authorize` of the session took the same events again. It now takes the login's state when the
store holds no event of the user after it (one query for at most one row), and loads afresh
otherwise. These tests pin both halves: the reuse, and that a revocation recorded between the
login and the command (in this process or in another) is still refused at once (ACC-2, ACC-8).
"""

from __future__ import annotations

from typing import Any

import pytest
from support import login

from processor import desk
from processor.app import Processor
from processor.domain.ids import user_id
from processor.kernel.errors import AccessDeniedError


def _count_user_loads(proc: Processor, name: str) -> dict[str, int]:
    """Count full loads of `name`'s aggregate from here on (the real load goes on)."""
    counts = {"loads": 0}
    repository: Any = proc.store.repository
    real = repository.get
    uid = user_id(name)

    def get(aggregate_id: Any, *args: Any, **kwargs: Any) -> Any:
        if aggregate_id == uid:
            counts["loads"] += 1
        return real(aggregate_id, *args, **kwargs)

    repository.get = get
    return counts


def test_first_command_reuses_the_users_state_from_login(acme: Processor) -> None:
    login(acme, "alice")  # replaces the handed-over credential first (ACC-13)
    counts = _count_user_loads(acme, "alice")
    alice = desk.login(acme, "alice", acme.issued["alice"])
    assert counts["loads"] == 1  # the credential check
    alice.contacts.add("acme", "news", "a@example.dk", "email:form")
    assert counts["loads"] == 1  # authorised on that state: nothing recorded for alice since
    alice.contacts.add("acme", "news", "b@example.dk", "email:form")
    assert counts["loads"] == 2  # a later command of the session loads afresh


def test_user_revoked_between_login_and_command_is_refused__ACC_2(acme: Processor) -> None:
    mia = login(acme, "mia")
    login(acme, "alice").staff.revoke("mia", "left the company")
    with pytest.raises(AccessDeniedError, match="UserMustNotBeRevoked"):
        mia.contacts.add("acme", "news", "a@example.dk", "email:form")


def test_user_revoked_by_another_process_after_login_is_refused__ACC_2(acme: Processor) -> None:
    mia = login(acme, "mia")
    credential = acme.issued["alice"]
    with Processor.open(acme.settings) as other:  # another process on the same store
        desk.login(other, "alice", credential).staff.revoke("mia", "left the company")
    with pytest.raises(AccessDeniedError, match="UserMustNotBeRevoked"):
        mia.contacts.add("acme", "news", "a@example.dk", "email:form")
