"""Stateful property: every reveal happens inside an active grant and is logged (ACC-6)."""

from __future__ import annotations

import json
from datetime import timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from support import fresh_store, login, support_view

from processor.kernel.errors import AccessDeniedError, ProcessorError

VALUES = ("Qzsecret0Zq@example.dk", "Qzsecret1Zq@example.dk", "Qzsecret2Zq@example.dk")


class GrantMachine(RuleBasedStateMachine):
    """Requests, approvals, denials, revocations, user revocation, reveals and time passing."""

    @initialize()
    def start(self) -> None:
        self.ctx = fresh_store("sqlite")
        self.proc = self.ctx.__enter__()
        sam = login(self.proc, "sam")
        sam.users.add("sven", "support", confidentiality_signed="2026-01-01", trained="2026-01-01")
        for value in VALUES:
            login(self.proc, "alice").contacts.add(
                "acme", "news", value, "email:form", last_name="Qzname"
            )
        # The support view lists contacts by pseudonym order, so map each value to its own.
        self.pseudonyms = []
        for value in VALUES:
            cid = login(self.proc, "alice").contacts.id_by_email("acme", value)
            self.pseudonyms.append(self._pseudonym_of(cid))
        self.grants: list[str] = []
        self.reveals_seen = 0
        self.user_revoked = False

    def _pseudonym_of(self, contact_id: str | None) -> str:
        import sqlalchemy as sa

        from processor.readmodels import tables as t

        with self.proc.engines.readmodels.connect() as conn:
            return str(
                conn.execute(
                    sa.select(t.contacts.c.pseudonym).where(t.contacts.c.contact_id == contact_id)
                ).scalar_one()
            )

    def teardown(self) -> None:
        if hasattr(self, "ctx"):
            self.ctx.__exit__(None, None, None)

    @rule(scope=st.booleans(), hours=st.integers(1, 8), which=st.integers(0, 2))
    def request(self, scope: bool, hours: int, which: int) -> None:
        contacts = [self.pseudonyms[which]] if scope else []
        try:
            self.grants.append(
                login(self.proc, "sven").access.request("acme", "ticket", contacts, hours)["grant"]
            )
        except AccessDeniedError:
            assert self.user_revoked

    @precondition(lambda self: self.grants)
    @rule(index=st.integers(0, 20), approve=st.booleans())
    def decide(self, index: int, approve: bool) -> None:
        grant = self.grants[index % len(self.grants)]
        try:
            login(self.proc, "alice").access.decide(grant, approve=approve, reason="no")
        except ProcessorError:
            pass

    @precondition(lambda self: self.grants)
    @rule(index=st.integers(0, 20))
    def revoke(self, index: int) -> None:
        try:
            login(self.proc, "alice").access.revoke(self.grants[index % len(self.grants)], "done")
        except ProcessorError:
            pass

    @rule(hours=st.integers(0, 10))
    def time_passes(self, hours: int) -> None:
        self.ctx.clock.advance(timedelta(hours=hours, minutes=1))

    @rule()
    def revoke_user(self) -> None:
        if not self.user_revoked:
            login(self.proc, "grete").staff.revoke("sven", "left")
            self.user_revoked = True

    @precondition(lambda self: self.grants)
    @rule(index=st.integers(0, 20), which=st.integers(0, 2))
    def reveal(self, index: int, which: int) -> None:
        grant_id = self.grants[index % len(self.grants)]
        grant = login(self.proc, "grete").access.load(grant_id)
        now = self.proc.now()
        contact = login(self.proc, "grete").access.contact_by_pseudonym(
            "acme", self.pseudonyms[which]
        )
        allowed = grant.is_active(now) and grant.covers(contact) and not self.user_revoked
        try:
            shown = login(self.proc, "sven").access.reveal(grant_id, self.pseudonyms[which])
        except AccessDeniedError:
            assert not allowed
            return
        assert allowed, (
            "a reveal happened outside an active, covering grant or after user revocation"
        )
        assert shown["fields"]["email"] == VALUES[which]
        self.reveals_seen += 1

    @invariant()
    def every_reveal_is_logged(self) -> None:
        if not hasattr(self, "proc"):
            return
        logged = [e for e in login(self.proc, "grete").access.log() if e["kind"] == "revealed"]
        assert len(logged) == self.reveals_seen

    @invariant()
    def support_view_never_holds_a_sealed_value(self) -> None:
        if not hasattr(self, "proc") or self.user_revoked:
            return
        text = json.dumps(support_view(self.proc, "sven", "acme", "alice"))
        assert "Qz" not in text and "s1." not in text


GrantMachine.TestCase.settings = settings(
    max_examples=12,
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_grants_reveals_and_revocations__ACC_6 = GrantMachine.TestCase
