"""The Art. 30(2) record of processing (AUD-3): JSON, Markdown and W3C DPV JSON-LD.

The DPV form is validated as JSON-LD by PyLD, offline: the context is embedded, so expansion
never fetches anything, and a term the context does not define would be dropped by expansion,
which the tests catch by comparing what went in with what came out.
"""

from __future__ import annotations

import json

import pytest
from pyld import jsonld
from support import login

from processor.audit import record
from processor.audit.contactpersons import ContactPersonsService
from processor.kernel.errors import AccessDeniedError

DPV = "https://w3id.org/dpv#"
SECRET = ("karen.secret@example.dk", "Karenina")


@pytest.fixture
def recorded(acme):
    """Acme and beta with a contact, contact persons on both sides."""
    login(acme, "alice").contacts.add("acme", "news", SECRET[0], "email:form", first_name=SECRET[1])
    ContactPersonsService(login(acme, "grete").session).set(
        "processor", "data-protection", "Grete Dahl", "dpo@processor.example"
    )
    ContactPersonsService(login(acme, "alice").session).set(
        "acme", "representative", "Alice Holm", "alice@acme.example"
    )
    return acme


def _keys(node: object) -> set[str]:
    """Every property name used anywhere in a compact JSON-LD document (not keywords)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if not key.startswith("@"):
                found.add(key)
            if key != "@context":
                found |= _keys(value)
    elif isinstance(node, list):
        for item in node:
            found |= _keys(item)
    return found


def _expanded_keys(node: object) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if not key.startswith("@"):
                found.add(key)
            found |= _expanded_keys(value)
    elif isinstance(node, list):
        for item in node:
            found |= _expanded_keys(item)
    return found


def test_record_names_processor_gdpa_and_every_controller_with_contacts__AUD_3(recorded):
    """Processor, GDPA contact, each controller with contact persons, categories, measures."""
    rec = record.build(login(recorded, "grete").session)
    assert rec["processor"]["contact_persons"]["data-protection"]["email"] == (
        "dpo@processor.example"
    )
    assert rec["data_protection_administrator"]["users"] == ["grete"]
    by_id = {c["id"]: c for c in rec["controllers"]}
    assert set(by_id) == {"acme", "beta"}
    acme = by_id["acme"]
    assert acme["contact_persons"]["representative"]["name"] == "Alice Holm"
    assert acme["categories_of_processing"]
    assert "email" in acme["categories_of_data"]["fields"]
    assert acme["categories_of_subjects"]
    assert rec["technical_and_organisational_measures"]
    assert acme["third_country_transfers"] == []  # its list stays in the EEA
    transfers = by_id["beta"]["third_country_transfers"]
    assert transfers
    assert all(t["countries"] and t["safeguard"] for t in transfers)
    text = json.dumps(rec) + record.as_markdown(rec) + json.dumps(record.as_dpv(rec))
    for value in SECRET:
        assert value not in text
    assert "## Controller acme" in record.as_markdown(rec)


def test_dpv_record_is_valid_json_ld_in_the_dpv_vocabulary__AUD_3(recorded):
    """PyLD expands it offline; every property maps to an IRI; the types are DPV classes."""
    doc = record.as_dpv(record.build(login(recorded, "grete").session))
    expanded = jsonld.expand(json.loads(json.dumps(doc)))
    used = _keys(doc)
    iris = _expanded_keys(expanded)
    assert all(k.startswith(("https://", "http://")) for k in iris)
    # Expansion drops a property the context cannot map: nothing went missing.
    assert len(iris) == len(used)
    nquads = jsonld.to_rdf(doc, {"format": "application/n-quads"})
    assert f"<{DPV}RecordsOfActivities>" in nquads
    assert nquads.count(f"<{DPV}DataController>") == 2
    assert f"<{DPV}DataProcessor>" in nquads
    assert nquads.count(f"<{DPV}hasDataController>") == 2
    assert f"<{DPV}TechnicalOrganisationalMeasure>" in nquads
    assert "<https://w3id.org/dpv/pd#EmailAddress>" in nquads
    # beta's edition lists sub-processors outside the EEA: transfers with country and safeguard
    assert f"<{DPV}Transfer>" in nquads
    assert f"<{DPV}hasThirdCountry> <https://w3id.org/dpv/loc#US>" in nquads
    assert f"<{DPV}DataTransferLegalBasis>" in nquads


def test_dpv_context_is_embedded_and_never_fetched__AUD_3(recorded):
    """No remote context: a loader that refuses every fetch still expands the record."""
    doc = record.as_dpv(record.build(login(recorded, "grete").session))

    def refuse(url: str, options: object = None) -> None:
        raise AssertionError(f"fetched {url}")

    assert jsonld.expand(doc, {"documentLoader": refuse})
    assert isinstance(doc["@context"], dict)


def test_only_the_gdpa_reads_the_record__AUD_3(recorded):
    """A controller's administrator and support staff may not read the whole record."""
    with pytest.raises(AccessDeniedError):
        record.build(login(recorded, "alice").session)
