"""Consent as given (SUBJ-2, SUBJ-8): its time, channel and list, from imports, `contacts add`
and other platforms' columns (`--map`), on SQLite and PostgreSQL. The clock starts 2026-03-02.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest
from cli_helpers import new_tenant, write_rows
from hypothesis import given
from hypothesis import strategies as st
from support import login

from processor.kernel.errors import InvalidInputError
from processor.services.columnmap import parse_maps, suggestion
from processor.services.consent import EARLIEST, consent_time

STANDARD = ("email", "phone", "first_name", "last_name", "city")


def imported(proc, data: bytes, channel: str = "email", rejects: io.StringIO | None = None):
    """Import `data` into acme's news list with double opt-in."""
    return login(proc, "alice").imports.import_csv(
        "acme", io.BytesIO(data), "news", "double-opt-in", channel, rejects=rejects
    )


def consents_of(proc, email: str) -> list[dict[str, str]]:
    """The consents as recorded, through `contacts find`."""
    return login(proc, "alice").contacts.find("acme", email)["consents"]  # type: ignore[no-any-return]


def test_import_keeps_when_consent_was_given__SUBJ_2(acme):
    """`consent_at` is the time given and `consent_evidence` the evidence; the time recorded is
    the import's. A consent states its channel and list.
    """
    imported(
        acme,
        b"email,consent_at,consent_evidence\n"
        b"a@example.dk,2019-05-01T10:30:00+02:00,form v3 from 10.0.0.1\n"
        b"b@example.dk,2020-01-31,\n"
        b"c@example.dk,,\n",
        channel="sms",
    )
    (a,) = consents_of(acme, "a@example.dk")
    assert a["given_at"] == "2019-05-01T08:30:00+00:00"
    assert a["recorded_at"] == acme.now().isoformat()
    assert (a["list"], a["channel"], a["method"]) == ("news", "sms", "double-opt-in")
    assert a["evidence"] == "form v3 from 10.0.0.1"
    assert consents_of(acme, "b@example.dk")[0]["given_at"] == "2020-01-31T00:00:00+00:00"
    assert consents_of(acme, "c@example.dk")[0]["given_at"] == acme.now().isoformat()


def test_import_rejects_a_consent_time_in_the_future_before_1990_or_not_iso__SUBJ_2(acme):
    """A bad `consent_at` rejects its row, with a reason that does not echo the value."""
    rejects = io.StringIO()
    result = imported(
        acme,
        b"email,consent_at\n"
        b"ok@example.dk,2019-05-01\n"
        b"future@example.dk,2030-01-01\n"
        b"old@example.dk,1989-12-31T23:59:59Z\n"
        b"us@example.dk,05/01/2019\n",
        rejects=rejects,
    )
    assert (result.added, result.rejected) == (1, 3)
    reasons = " ".join(result.reasons)
    assert "in the future" in reasons and "before 1990" in reasons and "ISO-8601" in reasons
    assert "05/01/2019" not in reasons


def test_contacts_add_takes_the_consent_time__SUBJ_2(acme):
    """`contacts add --consent-at` records the time given; a bad one is refused before storing."""
    alice = login(acme, "alice")
    alice.contacts.add("acme", "news", "d@example.dk", "email:form", consent_at="2021-06-01")
    assert consents_of(acme, "d@example.dk")[0]["given_at"] == "2021-06-01T00:00:00+00:00"
    with pytest.raises(InvalidInputError, match="in the future"):
        alice.contacts.add("acme", "news", "e@example.dk", "email:form", consent_at="2027-01-01")
    assert alice.contacts.id_by_email("acme", "e@example.dk") is None


def test_a_second_channels_consent_on_the_same_list_is_recorded__SUBJ_8(acme):
    """Consent for SMS on a list already consented for e-mail is a consent of its own."""
    alice = login(acme, "alice")
    alice.contacts.add("acme", "news", "f@example.dk", "email:form")
    alice.contacts.add("acme", "news", "f@example.dk", "sms:paper", consent_at="2022-02-02")
    alice.contacts.add("acme", "news", "f@example.dk", "sms:again")  # already held: no-op
    got = [(c["list"], c["channel"], c["method"]) for c in consents_of(acme, "f@example.dk")]
    assert got == [("news", "email", "form"), ("news", "sms", "paper")]


@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)))  # noqa: DTZ001 - hypothesis takes naive bounds
def test_consent_times_are_kept_only_between_1990_and_now__SUBJ_2(when):
    """Any ISO time is taken exactly when it lies in [1990, now], and refused otherwise."""
    now = datetime(2026, 3, 2, tzinfo=UTC)
    stated = when.replace(tzinfo=UTC)
    if EARLIEST <= stated <= now:
        assert consent_time(stated.isoformat(), now) == stated
    else:
        with pytest.raises(InvalidInputError):
            consent_time(stated.isoformat(), now)


def test_unmapped_columns_that_look_like_fields_get_a_suggestion__SUBJ_1():
    """Other platforms' headers are suggested a field; plain custom columns are not."""
    assert suggestion("email address", STANDARD) == "email"
    assert suggestion("fornavn", STANDARD) == "first_name"
    assert suggestion("first-name", STANDARD) == "first_name"
    assert suggestion("opt-in time", STANDARD) == "consent_at"
    assert suggestion("shoe_size", STANDARD) is None
    assert parse_maps(["Email Address=email", "Opt=In=consent_at"], STANDARD) == {
        "email address": "email",
        "opt=in": "consent_at",
    }
    with pytest.raises(InvalidInputError, match="did you mean first_name"):
        parse_maps(["Fornavn=firstname"], STANDARD)


# -- the command line ------------------------------------------------------------------------------

MAILCHIMP = "Email Address,Mobile,Fornavn,OPTIN_TIME,Shoe Size"
ROW = "kim@example.dk,+4512345678,Kim,2019-05-01 10:00:00,42"


def test_import_maps_another_platforms_columns__SUBJ_1__SUBJ_2(shared, tmp_path):
    """`--map` (and `--map-file`) turn an export's headers into fields and the opt-in time into
    the consent's time; the export shows the consent as recorded.
    """
    tenant = new_tenant(shared)
    path = write_rows(tmp_path / "mailchimp.csv", MAILCHIMP, [ROW])
    maps = ["Email Address=email", "Mobile=phone", "OPTIN_TIME=consent_at"]
    mapping = tmp_path / "map.toml"
    mapping.write_text('[columns]\nFornavn = "first_name"\n"Shoe Size" = "custom.shoe_size"\n')
    args = ["contacts", "import", tenant.ref, path, "--list", "news", "--consent-method", "opt-in"]
    result = shared.ok(*args, *[x for m in maps for x in ("--map", m)], "--map-file", mapping,
                       user=tenant.admin)  # fmt: skip
    assert (result["added"], result["rejected"]) == (1, 0)
    doc = shared.ok("export", tenant.ref, "--email", "kim@example.dk", user=tenant.admin)
    (person,) = doc["contacts"]
    assert person["fields"]["first_name"] == "Kim" and person["fields"]["phone"] == "+4512345678"
    assert person["fields"]["custom"] == {"shoe_size": "42"}
    (consent,) = person["consents"]
    assert consent["given_at"] == "2019-05-01T10:00:00+00:00"
    assert consent["recorded_at"] != consent["given_at"]
    assert (consent["list"], consent["channel"]) == ("news", "email")


def test_unmapped_lookalike_columns_are_refused_with_a_suggestion__SUBJ_1(shared, tmp_path):
    """Without `--map` the same file is refused (exit 2), naming each column and its field."""
    tenant = new_tenant(shared)
    path = write_rows(tmp_path / "mailchimp.csv", MAILCHIMP, [ROW])
    args = ["contacts", "import", tenant.ref, path, "--list", "news", "--consent-method", "opt-in"]
    error = shared.fails(2, *args, user=tenant.admin)
    assert "'email address' looks like email (--map 'email address=email')" in error
    assert "kim@example.dk" not in error
    error = shared.fails(2, *args, "--map", "Email Address=email", user=tenant.admin)
    assert "'mobile' looks like phone" in error and "'fornavn' looks like first_name" in error
    error = shared.fails(2, *args, "--map", "Nope=email", user=tenant.admin)
    assert "does not have: 'nope'" in error
    assert tenant.active() == 0


def test_contacts_add_consent_at_on_the_command_line__SUBJ_2(shared):
    """`--consent-at` is kept; a bad one is a one-line error with exit 2."""
    tenant = new_tenant(shared)
    tenant.add("lo@example.dk", "--consent-at", "2018-05-25T12:00:00Z")
    shown = shared.ok("contacts", "find", tenant.ref, "--email", "lo@example.dk", user=tenant.admin)
    assert shown["consents"][0]["given_at"] == "2018-05-25T12:00:00+00:00"
    error = shared.fails(2, "contacts", "add", tenant.ref, "--list", "news", "--email",
                         "mo@example.dk", "--consent", "email:form", "--consent-at", "1985-01-01",
                         user=tenant.admin)  # fmt: skip
    assert "before 1990" in error and "mo@example.dk" not in error
    assert json.dumps(shown).count("given_at") == 1
