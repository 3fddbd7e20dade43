"""SUBJ-5: rectification, erasure and restriction reach every recipient of the data."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from eventsourcing.application import Application
from subprocessor_strategies import keep_agreement, make_details

from processor.kernel.errors import InvalidInputError, NotFoundError, RefusedError
from subprocessors import (
    ControllerFacts,
    RecipientOutbox,
    SubProcessor,
    add_edition_list,
    recipients,
)


def test_erasure_is_queued_for_every_recipient__SUBJ_5(sp_clock, editions):
    """The recipients are the sub-processors that ever held the controller's data: the
    list it signed, including one retired since; not one it objected to before engagement.
    The outbox queues the erasure for each and keeps it pending until each acknowledges.
    """
    seeded = add_edition_list(editions["scc"], actor="dpo", listed_from=date(2025, 1, 1))
    seeded[1].retire("replaced", actor="dpo")
    objected = SubProcessor.propose(
        make_details(), notices={"acme": date(2026, 12, 21)}, actor="dpo"
    )
    objected.object_to("acme", "not wanted", actor="acme")
    keep_agreement(objected)
    sp_clock.advance(timedelta(days=31))
    objected.engage(actor="dpo")
    controller = ControllerFacts("acme", "scc", datetime(2026, 1, 1, tzinfo=UTC))
    facts = [sp.facts() for sp in [*seeded, objected]]
    found = recipients(controller, facts, sp_clock.now())
    assert {sp.name for sp in found} == {
        "Team.Blue Denmark A/S",
        "Ubivox Technologies ApS",
        "InMobile",
    }

    outbox = RecipientOutbox(controller_id="acme", actor="system")
    notice_id = outbox.queue(
        "erasure", "contact-7f3a", [sp.subprocessor_id for sp in found], actor="dpo"
    )
    assert {n.subprocessor_id for n in outbox.pending()} == {sp.subprocessor_id for sp in found}
    assert all(n.kind == "erasure" and n.notice_id == notice_id for n in outbox.pending())
    first = found[0].subprocessor_id
    outbox.acknowledge(notice_id, first, actor="team-blue")
    assert first not in {n.subprocessor_id for n in outbox.pending()}
    assert len(outbox.pending()) == 2
    with pytest.raises(RefusedError) as caught:
        outbox.acknowledge(notice_id, first, actor="team-blue")
    assert caught.value.rule == "RecipientNoticeMustBePending"
    with pytest.raises(NotFoundError):
        outbox.acknowledge(notice_id, objected.id, actor="x")


def test_outbox_keeps_no_personal_data_and_survives_storage__SUBJ_5(sp_clock):
    """Subjects are referred to by pseudonymous reference only (an address is refused);
    the outbox, stored and reloaded, has the same pending notices and named events.
    """
    outbox = RecipientOutbox(controller_id="acme", actor="system")
    with pytest.raises(InvalidInputError):
        outbox.queue("erasure", "jane@example.com", [], actor="dpo")
    with pytest.raises(InvalidInputError):
        outbox.queue("forgetting", "contact-1", [], actor="dpo")
    recipient = SubProcessor.add(
        make_details(), editions=["scc"], listed_from=date(2025, 1, 1), actor="dpo"
    ).id
    empty = outbox.queue("restriction", "contact-1", [], actor="dpo")
    outbox.queue("rectification", "contact-1", [recipient], actor="dpo")
    assert outbox.requests[empty] == ()
    app = Application()
    app.save(outbox)
    names = [type(e).__name__ for e in app.events.get(outbox.id)]
    assert names == ["RecipientOutboxOpened", "RecipientNoticeQueued", "RecipientNoticeQueued"]
    assert app.repository.get(outbox.id).pending() == outbox.pending()
    assert RecipientOutbox.create_id("acme") == outbox.id
