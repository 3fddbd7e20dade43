"""Consent as given (SUBJ-2, SUBJ-8): its time, channel and list, from imports, `contacts add`
and other platforms' columns (`--map`), on SQLite and PostgreSQL. The clock starts 2026-03-02.
"""

from __future__ import annotations

import csv
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
    """`consent_at` is the time given, kept with the offset it was stated in, and
    `consent_evidence` the evidence; the time recorded is the import's. A consent states its
    channel and list. A row whose consent time is empty is refused, never given the import's
    time; a file without the column records consent as given at import.
    """
    rejects = io.StringIO()
    result = imported(
        acme,
        b"email,consent_at,consent_evidence\n"
        b"a@example.dk,2019-05-01T10:30:00+02:00,form v3 from 10.0.0.1\n"
        b"b@example.dk,2020-01-31,\n"
        b"c@example.dk,,\n",
        channel="sms",
        rejects=rejects,
    )
    assert (result.added, result.rejected) == (2, 1)
    assert "consent_at is empty" in " ".join(result.reasons)
    (a,) = consents_of(acme, "a@example.dk")
    assert a["given_at"] == "2019-05-01T10:30:00+02:00"
    assert a["recorded_at"] == acme.now().isoformat()
    assert (a["list"], a["channel"], a["method"]) == ("news", "sms", "double-opt-in")
    assert a["evidence"] == "form v3 from 10.0.0.1"
    assert consents_of(acme, "b@example.dk")[0]["given_at"] == "2020-01-31T00:00:00+00:00"
    imported(acme, b"email\nd@example.dk\n", channel="sms")
    assert consents_of(acme, "d@example.dk")[0]["given_at"] == acme.now().isoformat()


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
    assert suggestion("opt-in time", STANDARD) == "consent_requested_at"
    assert suggestion("confirm_time", STANDARD) == "consent_at"
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
    """Without `--map` the same file is refused (exit 2), naming each column and its field,
    with every `--map` it needs in one suggestion.
    """
    tenant = new_tenant(shared)
    path = write_rows(tmp_path / "mailchimp.csv", MAILCHIMP, [ROW])
    args = ["contacts", "import", tenant.ref, path, "--list", "news", "--consent-method", "opt-in"]
    error = shared.fails(2, *args, user=tenant.admin)
    assert "'email address' looks like email" in error
    assert ("--map 'email address=email' --map 'mobile=phone' --map 'fornavn=first_name' "
            "--map 'optin_time=consent_requested_at'") in error  # fmt: skip
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


# -- presets (issue 25) -----------------------------------------------------------------------------

MAILCHIMP_EXPORT = (
    "Email Address,First Name,Last Name,Phone Number,MEMBER_RATING,OPTIN_TIME,OPTIN_IP,"
    "CONFIRM_TIME,CONFIRM_IP,LATITUDE,LONGITUDE,GMTOFF,DSTOFF,TIMEZONE,CC,REGION,LAST_CHANGED,"
    "LEID,EUID,NOTES,TAGS"
)
MAILCHIMP_ROWS = [
    # double opt-in: confirmed later than the sign-up; the confirmation is the consent
    (
        "dina@example.dk,Dina,Lund,+4511111111,2,2019-05-01 10:00:00,10.0.0.1,2019-05-01 10:05:00,"
        '10.0.0.2,55.6,12.5,1,0,Europe/Copenhagen,DK,84,2020-01-01 00:00:00,123,abc,vip,"a,b"'
    ),
    # added by the account: no sign-up time, a confirmation time
    "ebbe@example.dk,Ebbe,Dam,,2,,,2020-02-02 08:00:00,,,,,,,,,,124,abd,,",
    # neither time: the export does not say when this person consented
    "finn@example.dk,Finn,Bo,,2,,,,,,,,,,,,,125,abe,,",
    # single opt-in: a sign-up time and no confirmation
    "gus@example.dk,Gus,Ry,,2,2021-06-06 06:00:00,10.0.0.9,,,,,,,,,,,126,abf,,",
]


def test_a_mailchimp_export_imports_with_its_preset_and_nothing_invented__SUBJ_1__SUBJ_2(
    shared, tmp_path
):
    """`--preset mailchimp` maps the export in one go: the confirmation time is the consent's
    and the sign-up time is kept apart (alone, it is the consent's), the IP the evidence; Mailchimp's bookkeeping (rating, location,
    ids, tags, notes) is left out; a row with neither time is refused, not given today's.
    """
    tenant = new_tenant(shared)
    path = write_rows(tmp_path / "members_export.csv", MAILCHIMP_EXPORT, MAILCHIMP_ROWS)
    rejects = tmp_path / "rejects.csv"
    args = ["contacts", "import", tenant.ref, path, "--list", "news", "--consent-method",
            "double-opt-in", "--preset", "mailchimp", "--rejects", rejects]  # fmt: skip
    result = shared.ok(*args, user=tenant.admin)
    assert (result["added"], result["rejected"]) == (3, 1)
    assert "consent_at is empty" in json.dumps(result["reasons"])
    header = rejects.read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("_line,_reason,email address,") and header.endswith("notes,tags")
    doc = shared.ok("export", tenant.ref, "--email", "dina@example.dk", user=tenant.admin)
    (dina,) = doc["contacts"]
    assert dina["fields"]["first_name"] == "Dina" and dina["fields"]["phone"] == "+4511111111"
    assert dina["fields"].get("custom", {}) == {}
    (consent,) = dina["consents"]
    assert consent["given_at"] == "2019-05-01T10:05:00+00:00"  # the confirmation
    assert consent["requested_at"] == "2019-05-01T10:00:00+00:00"  # the sign-up, kept apart
    assert consent["evidence"] == "10.0.0.2"
    doc = shared.ok("export", tenant.ref, "--email", "ebbe@example.dk", user=tenant.admin)
    assert doc["contacts"][0]["consents"][0]["given_at"] == "2020-02-02T08:00:00+00:00"
    (gus,) = shared.ok("export", tenant.ref, "--email", "gus@example.dk", user=tenant.admin)[
        "contacts"
    ]
    assert gus["consents"][0]["given_at"] == "2021-06-06T06:00:00+00:00"
    assert gus["consents"][0]["requested_at"] is None  # a single opt-in: one time
    assert gus["consents"][0]["evidence"] == "10.0.0.9"
    # The rejected row, fixed in the rejects file, goes in with the same command.
    lines = rejects.read_text(encoding="utf-8").splitlines()
    cells = next(csv.reader([lines[1]]))
    cells[2 + 7] = "2021-03-03 09:00:00"  # confirm_time, after _line and _reason
    fixed = tmp_path / "fixed.csv"
    with fixed.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows([next(csv.reader([lines[0]])), cells])
    again = shared.ok("contacts", "import", tenant.ref, fixed, "--list", "news",
                      "--consent-method", "double-opt-in", "--preset", "mailchimp",
                      user=tenant.admin)  # fmt: skip
    assert (again["added"], again["rejected"]) == (1, 0)


def test_an_unknown_export_gets_one_complete_suggestion_and_its_preset__SUBJ_1(shared, tmp_path):
    """Without `--preset` or `--map` the import names every look-alike column at once, with one
    complete set of `--map` options (the confirmation onto the consent's time, the sign-up onto
    the request's) and the preset the file looks like.
    """
    tenant = new_tenant(shared)
    path = write_rows(tmp_path / "members_export.csv", MAILCHIMP_EXPORT, MAILCHIMP_ROWS[:1])
    args = ["contacts", "import", tenant.ref, path, "--list", "news", "--consent-method", "x"]
    error = shared.fails(2, *args, user=tenant.admin)
    assert "--preset mailchimp" in error
    assert "--map 'confirm_time=consent_at'" in error
    assert "--map 'optin_time=consent_requested_at'" in error
    assert "--map 'email address=email'" in error and "--map 'first name=first_name'" in error
    assert "dina" not in error
    assert tenant.active() == 0


@pytest.mark.parametrize(
    ("preset", "header", "row", "expected"),
    [
        (
            "brevo",
            "CONTACT ID,EMAIL,FIRSTNAME,LASTNAME,SMS,ADDED_TIME,MODIFIED_TIME",
            "77,gro@example.dk,Gro,Holm,+4522222222,2024-01-01 10:00:00,2024-02-01 10:00:00",
            {
                "email": "gro@example.dk",
                "first_name": "Gro",
                "last_name": "Holm",
                "phone": "+4522222222",
            },
        ),
        (
            "hubspot",
            (
                "Record ID,First Name,Last Name,Email,Phone Number,Mobile Phone Number,City,"
                "Create Date,Lifecycle Stage"
            ),
            "501,Ida,Moe,ida@example.dk,+4533333333,+4544444444,Odense,2024-01-01,lead",
            {
                "email": "ida@example.dk",
                "first_name": "Ida",
                "last_name": "Moe",
                "phone": "+4544444444",
                "city": "Odense",
            },
        ),
    ],
)
def test_brevo_and_hubspot_exports_import_with_their_presets__SUBJ_1(
    shared, tmp_path, preset, header, row, expected
):
    """Their documented export columns map onto the fields (HubSpot's mobile number before its
    landline); their bookkeeping is left out; with no consent time in the file the consent is
    recorded as given at import.
    """
    tenant = new_tenant(shared)
    path = write_rows(tmp_path / f"{preset}.csv", header, [row])
    result = shared.ok("contacts", "import", tenant.ref, path, "--list", "news",
                       "--consent-method", "opt-in", "--preset", preset, user=tenant.admin)  # fmt: skip
    assert (result["added"], result["rejected"]) == (1, 0)
    doc = shared.ok("export", tenant.ref, "--email", expected["email"], user=tenant.admin)
    fields = doc["contacts"][0]["fields"]
    assert {k: v for k, v in fields.items() if k != "custom"} == expected
    assert not fields.get("custom")


def test_a_sign_up_after_its_confirmation_is_refused__SUBJ_2(acme):
    """`consent_requested_at` after `consent_at` cannot be a double opt-in: the row is refused."""
    result = imported(
        acme,
        b"email,consent_requested_at,consent_at\n"
        b"ok@example.dk,2019-05-01T10:00:00+02:00,2019-05-01T10:30:00+02:00\n"
        b"late@example.dk,2019-05-02T10:00:00Z,2019-05-01T10:00:00Z\n",
    )
    assert (result.added, result.rejected) == (1, 1)
    (ok,) = consents_of(acme, "ok@example.dk")
    assert (ok["requested_at"], ok["given_at"]) == (
        "2019-05-01T10:00:00+02:00",
        "2019-05-01T10:30:00+02:00",
    )
