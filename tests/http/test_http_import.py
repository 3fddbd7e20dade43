"""`contacts import` over HTTP with column maps and rejected rows (SUBJ-2).

The rejects come back as line numbers and reasons only: never a cell of the upload.
"""

from __future__ import annotations

CSV = (
    "Email Address,First Name\n"
    "ann.secret@example.com,Ann\n"
    "not-an-address-zq,Zorro\n"
    "ben.secret@example.com,Ben\n"
    ",Nobody\n"
)


def test_import_with_map_and_rejects_without_values__SUBJ_2(api):
    """`map` maps another platform's columns; two bad rows are listed by line and reason."""
    r = api.as_("alice", "POST", "/v1/controllers/acme/contacts/import",
                params={"list": "news", "consent_method": "double-opt-in",
                        "map": ["Email Address=email", "First Name=first_name"]},
                content=CSV.encode(), headers={"Content-Type": "text/csv"})  # fmt: skip
    assert r.status_code == 200, r.text
    data = r.json()
    assert (data["rows"], data["added"], data["rejected"]) == (4, 2, 2)
    assert [row["line"] for row in data["rejects"]] == [3, 5]
    assert all(row["reason"] for row in data["rejects"])
    assert data["rejects_truncated"] is False
    for value in ("zq", "Zorro", "Nobody", "secret"):
        assert value not in r.text
    found = api.as_("alice", "GET", "/v1/controllers/acme/contacts",
                    params={"email": "ben.secret@example.com"})  # fmt: skip
    assert found.status_code == 200, found.text


def test_import_without_the_map_rejects_the_header_and_bob_gets_404__SUBJ_2(api):
    """Without `map` the foreign header is invalid input; a bad map is 400; beta's is bob's."""
    plain = api.as_("alice", "POST", "/v1/controllers/acme/contacts/import",
                    params={"list": "news", "consent_method": "double-opt-in"},
                    content=CSV.encode(), headers={"Content-Type": "text/csv"})  # fmt: skip
    assert plain.status_code == 400, plain.text
    bad = api.as_("alice", "POST", "/v1/controllers/acme/contacts/import",
                  params={"list": "news", "consent_method": "double-opt-in", "map": "nothing"},
                  content=CSV.encode(), headers={"Content-Type": "text/csv"})  # fmt: skip
    assert bad.status_code == 400
    other = api.as_("bob", "POST", "/v1/controllers/acme/contacts/import",
                    params={"list": "news", "consent_method": "double-opt-in",
                            "map": "Email Address=email"},
                    content=CSV.encode(), headers={"Content-Type": "text/csv"})  # fmt: skip
    assert other.status_code == 404


def test_import_with_a_preset_over_http__SUBJ_1__SUBJ_2(api):
    """`preset=mailchimp` maps a Mailchimp export as `--preset` does; the rating, location and
    ids are left out, the confirmation time becomes the consent's.
    """
    body = (
        "Email Address,First Name,MEMBER_RATING,OPTIN_TIME,CONFIRM_TIME,LATITUDE,LEID\n"
        "cara.secret@example.com,Cara,3,2019-01-01 10:00:00,2019-01-01 10:05:00,55.6,99\n"
    )
    r = api.as_("alice", "POST", "/v1/controllers/acme/contacts/import",
                params={"list": "news", "consent_method": "double-opt-in", "preset": "mailchimp"},
                content=body.encode(), headers={"Content-Type": "text/csv"})  # fmt: skip
    assert r.status_code == 200, r.text
    assert (r.json()["added"], r.json()["rejected"]) == (1, 0)
    found = api.as_("alice", "GET", "/v1/controllers/acme/contacts",
                    params={"email": "cara.secret@example.com"})  # fmt: skip
    assert found.status_code == 200, found.text
    person = found.json()
    assert person["fields"]["first_name"] == "Cara" and not person["fields"].get("custom")
    assert person["consents"][0]["given_at"] == "2019-01-01T10:05:00+00:00"
    bad = api.as_("alice", "POST", "/v1/controllers/acme/contacts/import",
                  params={"list": "news", "consent_method": "x", "preset": "myspace"},
                  content=body.encode(), headers={"Content-Type": "text/csv"})  # fmt: skip
    assert bad.status_code == 422
