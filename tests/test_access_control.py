"""Users, roles and refusals, on SQLite and PostgreSQL (ACC-1, ACC-8, ACC-9, ACC-10)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from support import login

from processor.kernel.errors import AccessDeniedError, InvalidInputError, RefusedError
from processor.readmodels import tables as t


def _denials(proc) -> list[dict]:
    with proc.engines.readmodels.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(sa.select(t.denials).order_by(t.denials.c.position)).mappings()
        ]


@pytest.mark.parametrize(
    ("user", "action"),
    [
        ("ben", lambda s: s.contacts.find("acme", "a@example.dk")),
        ("ben", lambda s: s.contacts.list_members("acme", "news")),
        ("mia", lambda s: s.erasure.erase("acme", "x", email="a@example.dk")),
        ("mia", lambda s: s.exports.export("acme", __import__("io").StringIO(), everything=True)),
        ("bob", lambda s: s.contacts.find("acme", "a@example.dk")),
        ("grete", lambda s: s.contacts.find("acme", "a@example.dk")),
        ("sam", lambda s: s.contacts.add("acme", "news", "x@example.dk", "email:form")),
        ("nobody", lambda s: s.controllers.show("acme")),
    ],
    ids=[
        "bookkeeper-find",
        "bookkeeper-list",
        "marketing-erase",
        "marketing-export-all",
        "other-controller",
        "gdpa-contacts",
        "manager-contacts",
        "unknown-user",
    ],
)
def test_refused_commands_are_recorded_as_access_denied__ACC_8__ACC_9(acme, user, action):
    """A command outside the user's role or controller is refused and an AccessDenied is stored."""
    login(acme, "alice").contacts.add("acme", "news", "a@example.dk", "email:form")
    with pytest.raises(AccessDeniedError):
        action(login(acme, user))
    denial = _denials(acme)[-1]
    assert denial["actor"] == user
    assert denial["rule"]


def test_controller_users_see_only_their_own_users__ACC_9(acme):
    """A controller administrator lists only its own controller's users."""
    names = {u["name"] for u in login(acme, "alice").users.list()}
    assert names == {"alice", "mia", "ben"}
    with pytest.raises(AccessDeniedError):
        login(acme, "alice").users.list(controller="beta")


def test_administrator_creates_its_controllers_users_only__ACC_9(acme):
    """A controller's administrator adds users to its own controller, not to others or the processor."""
    alice = login(acme, "alice")
    alice.users.add("carl", "support", controller="acme")
    with pytest.raises(AccessDeniedError):
        alice.users.add("dora", "marketing", controller="beta")
    with pytest.raises(AccessDeniedError):
        alice.users.add("eve", "developer")


def test_support_staff_need_confidentiality_and_training__ACC_1(acme):
    """A processor support user is created only with a confidentiality undertaking and training."""
    sam = login(acme, "sam")
    with pytest.raises(RefusedError, match="ACC-1"):
        sam.users.add("sven", "support")
    sam.users.add("sven", "support", confidentiality_signed="2026-01-10", trained="2026-01-12")
    listed = {u["name"]: u for u in sam.users.list()}
    assert listed["sven"]["confidentiality_signed"] == "2026-01-10"


def test_unknown_roles_and_bad_names_are_invalid_input(acme):
    """An unknown role or an unusable user name is invalid input."""
    sam = login(acme, "sam")
    with pytest.raises(InvalidInputError):
        sam.users.add("x", "wizard")
    with pytest.raises(InvalidInputError):
        sam.users.add("bad name", "developer")
    with pytest.raises(InvalidInputError):
        login(acme, "alice").users.add("x2", "gdpa", controller="acme")


def test_every_change_is_an_event_with_its_actor__ACC_10(acme):
    """Every stored event that creates, changes or deletes names who did it."""
    alice = login(acme, "alice")
    cid = alice.contacts.add("acme", "news", "a@example.dk", "email:form")["contact_id"]
    alice.contacts.update("acme", cid, {"city": "Odense"})
    alice.erasure.erase("acme", "request", contact=cid)
    events = [
        acme.store.mapper.to_domain_event(n)
        for n in acme.store.recorder.select_notifications(start=1, limit=1000)
    ]
    assert events, "the store holds events"
    for event in events:
        assert getattr(event, "actor", None), type(event).__qualname__
    kinds = [
        (type(e).__qualname__, e.actor)
        for e in events
        if type(e).__qualname__.startswith("Contact.")
    ]
    assert kinds == [
        ("Contact.ContactAdded", "alice"),
        ("Contact.ContactRectified", "alice"),
        ("Contact.ContactErased", "alice"),
    ]
