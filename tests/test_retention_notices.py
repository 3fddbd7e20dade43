"""A retention sweep passes the deletion on to every recipient, once per controller (SUBJ-5)."""

from __future__ import annotations

from datetime import timedelta

from support import login


def test_sweep_tells_every_recipient_once__SUBJ_5__RET_1(acme, clock):
    """Deleting a controller's data queues one controller-wide erasure notice per recipient."""
    alice, grete = login(acme, "alice"), login(acme, "grete")
    for i in range(3):
        alice.contacts.add("acme", "news", f"p{i}@example.dk", "email:form")
    alice.lifecycle.terminate("acme", clock.now().date().isoformat())
    clock.advance(timedelta(days=121))
    grete.retention.sweep()
    pending = [p for p in grete.subprocessors.outbox("acme")["pending"] if p["kind"] == "erasure"]
    assert {p["contact_id"] for p in pending} == {"controller:acme:all-contacts"}
    assert len(pending) == len({p["subprocessor"] for p in pending}) == 3
    grete.retention.sweep()
    again = [p for p in grete.subprocessors.outbox("acme")["pending"] if p["kind"] == "erasure"]
    assert len(again) == 3
