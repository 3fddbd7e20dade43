"""CSV import: streaming, rejects, no half-written contacts, no duplicates (SQLite and PostgreSQL)."""

from __future__ import annotations

import io

import pytest
from support import login

from processor.kernel.errors import InvalidInputError


def _import(proc, data: bytes, rejects: io.StringIO | None = None, user: str = "alice"):
    return login(proc, user).imports.import_csv(
        "acme", io.BytesIO(data), "news", "double-opt-in", rejects=rejects
    )


def _count(proc) -> int:
    return login(proc, "alice").contacts.active_count("acme")


def test_import_adds_contacts_with_source_and_consent__SUBJ_1__SUBJ_2(acme):
    """Imported rows become contacts with their fields, the file as source and consent."""
    data = b"email,first_name,shoe_size\nanne@example.dk,Anne,38\nbo@example.dk,Bo,44\n"
    result = _import(acme, data)
    assert (result.rows, result.added, result.rejected) == (2, 2, 0)
    found = login(acme, "alice").contacts.find("acme", "anne@example.dk")
    assert found["fields"] == {
        "email": "anne@example.dk",
        "first_name": "Anne",
        "custom": {"shoe_size": "38"},
    }
    assert found["source"] == "import"
    assert found["consents"][0]["method"] == "double-opt-in"


def test_reimporting_the_same_file_adds_nothing(acme):
    """Rows are matched to existing contacts by blind index, so a second import is a no-op."""
    data = ("email\n" + "".join(f"p{i}@example.dk\n" for i in range(2500))).encode()
    first = _import(acme, data)
    before = acme.store.recorder.max_notification_id()
    second = _import(acme, data)
    assert (first.added, second.added, second.unchanged) == (2500, 0, 2500)
    assert acme.store.recorder.max_notification_id() == before
    assert _count(acme) == 2500


def test_duplicate_rows_in_one_file_are_one_contact(acme):
    """The same e-mail twice (any case) in one file gives one contact."""
    result = _import(acme, b"email\nanne@example.dk\nANNE@example.dk \nanne@example.dk\n")
    assert (result.added, result.unchanged) == (1, 2)


def test_bad_rows_go_to_rejects_and_good_rows_are_kept(acme):
    """Each bad row is rejected with its line and reason; every good row is imported."""
    data = (
        b"email,phone,birth_date\n"
        b"good1@example.dk,,\n"
        b"not-an-email,,\n"
        b"good2@example.dk,call me,\n"
        b"good3@example.dk,,1999-02-31\n"
        b"good4@example.dk,,1999-02-28\n"
        b"a@b.dk,too,many,columns\n"
    )
    rejects = io.StringIO()
    result = _import(acme, data, rejects)
    assert (result.added, result.rejected) == (2, 4)
    lines = rejects.getvalue().splitlines()
    assert lines[0] == "_line,_reason,email,phone,birth_date"  # the row's own cells follow
    assert [line.split(",")[0] for line in lines[1:]] == ["3", "4", "5", "7"]
    assert "invalid e-mail" in lines[1]


def test_bad_encoding_rejects_only_its_row(acme):
    """A row that is not valid UTF-8 is rejected; the rest of the file imports."""
    data = b"email,first_name\nok1@example.dk,Anne\nok2@example.dk,S\xf8ren\nok3@example.dk,Bo\n"
    rejects = io.StringIO()
    result = _import(acme, data, rejects)
    assert (result.added, result.rejected) == (2, 1)
    assert "not valid UTF-8" in rejects.getvalue()


def test_a_utf8_bom_is_accepted(acme):
    """A BOM before the header does not hide the email column."""
    result = _import(acme, "\ufeffemail,first_name\nanne@example.dk,Anne\n".encode())
    assert result.added == 1


def test_a_10mb_field_rejects_only_its_row(acme):
    """A huge value is rejected as too long without stopping the import."""
    big = b"x" * (10 * 1024 * 1024)
    data = b"email,notes\nok1@example.dk,short\nbig@example.dk," + big + b"\nok2@example.dk,fine\n"
    result = _import(acme, data)
    assert (result.added, result.rejected) == (2, 1)


@pytest.mark.parametrize(
    "data",
    [b"", b"first_name,last_name\nAnne,Nielsen\n", b"email,email\na@example.dk,b@example.dk\n"],
    ids=["empty", "no-email-column", "repeated-column"],
)
def test_unusable_files_are_refused_and_nothing_is_stored(acme, data):
    """A file without a usable header is invalid input and stores nothing."""
    before = acme.store.recorder.max_notification_id()
    with pytest.raises(InvalidInputError):
        _import(acme, data)
    assert acme.store.recorder.max_notification_id() == before


def test_import_joins_existing_contacts_to_the_list(acme):
    """An imported e-mail the controller already has joins the list with a new consent."""
    alice = login(acme, "alice")
    cid = alice.contacts.add("acme", "vip", "anne@example.dk", "email:form")["contact_id"]
    result = _import(acme, b"email\nanne@example.dk\n")
    assert (result.added, result.subscribed) == (0, 1)
    assert set(alice.contacts.show("acme", cid)["lists"]) == {"vip", "news"}


def test_import_progress_is_reported(acme):
    """The progress callback is called with the number of rows read."""
    seen: list[int] = []
    data = ("email\n" + "".join(f"p{i}@example.dk\n" for i in range(1500))).encode()
    login(acme, "alice").imports.import_csv(
        "acme", io.BytesIO(data), "news", "form", progress=seen.append
    )
    assert seen[-1] == 1500
    assert seen == sorted(seen)


def test_bulk_import_and_one_by_one_add_store_the_same_event_shape(acme):
    """The batch path produces the same kinds of events, with the same non-personal fields."""
    alice = login(acme, "alice")
    alice.contacts.add("acme", "news", "one@example.dk", "email:double-opt-in", first_name="One")
    _import(acme, b"email,first_name\ntwo@example.dk,Two\n")
    events = [
        acme.store.mapper.to_domain_event(n)
        for n in acme.store.recorder.select_notifications(start=1, limit=1000)
        if n.topic.endswith("Contact.ContactAdded")
    ]
    assert len(events) == 2
    single, bulk = (e.__dict__ for e in events)
    assert set(single) == set(bulk)
    assert single["fields"] == bulk["fields"] == ["email", "first_name"]
    assert single["consent"].keys() == bulk["consent"].keys()
