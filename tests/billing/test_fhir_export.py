"""Tests for the FHIR R5 claim export (structure via fhir.resources, codes asserted here)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal

import pytest
from fhir.resources import get_fhir_model_class
from fhir.resources.bundle import Bundle

from billing_service.claims.fhir_export import bundle_for, iter_bundle_json, visit_bundle_entries
from tests.billing.test_bhyt_xml import make_visit, out_of_network_visit

ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"


@pytest.fixture(scope="module")
def visits():
    """Return the three sample visits (outpatient, inpatient with supply, outpatient without results)."""
    return [make_visit(1), make_visit(2), make_visit(3)]


@pytest.fixture(scope="module")
def bundle(visits):
    """Return the collection Bundle of the sample visits."""
    return bundle_for(visits, provider_name="Bệnh viện Đa khoa Hà Nội")


def resources(bundle: dict, resource_type: str) -> list[dict]:
    """Return the bundle's resources of one type."""
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == resource_type]


def walk(node) -> Iterator:
    """Yield every dict nested in a JSON-like value."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def test_every_resource_validates(bundle):
    for entry in bundle["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def test_bundle_validates(bundle):
    model = Bundle.model_validate(bundle)
    assert model.type == "collection"
    counts = {}
    for entry in bundle["entry"]:
        kind = entry["resource"]["resourceType"]
        counts[kind] = counts.get(kind, 0) + 1
    # 2 + 3 + 1 charge lines; one Patient, Coverage, Invoice, Claim and ClaimResponse per visit.
    assert counts == {"Patient": 3, "Coverage": 3, "ChargeItem": 6, "Invoice": 3, "Claim": 3, "ClaimResponse": 3}


def test_full_urls_are_deterministic_unique_and_resolve(visits, bundle):
    urls = [e["fullUrl"] for e in bundle["entry"]]
    assert all(u.startswith("urn:uuid:") for u in urls)
    assert len(set(urls)) == len(urls)
    assert bundle_for(visits, provider_name="Bệnh viện Đa khoa Hà Nội") == bundle
    for entry in bundle["entry"]:
        assert entry["resource"]["id"] == entry["fullUrl"].removeprefix("urn:uuid:")
    references = [d["reference"] for d in walk(bundle) if "reference" in d]
    assert references and set(references) <= set(urls)


def test_claim_codes(visits, bundle):
    claims = resources(bundle, "Claim")
    assert [c["status"] for c in claims] == ["active"] * 3
    assert [c["use"] for c in claims] == ["claim"] * 3
    types = [c["type"]["coding"][0] for c in claims]
    assert {t["system"] for t in types} == {"http://terminology.hl7.org/CodeSystem/claim-type"}
    assert [t["code"] for t in types] == ["professional", "institutional", "professional"]
    assert claims[1]["diagnosis"][0]["diagnosisCodeableConcept"]["coding"][0] == {
        "system": "http://hl7.org/fhir/sid/icd-10", "code": "J18.9"}
    assert [d["diagnosisCodeableConcept"]["coding"][0]["code"] for d in claims[1]["diagnosis"]] == [
        "J18.9", "E11.9", "I10"]
    assert claims[0]["diagnosis"][0]["type"][0]["coding"][0]["code"] == "principal"
    assert claims[0]["identifier"][0]["value"] == visits[0].ma_lk
    assert claims[0]["created"] == "2026-11-21T10:00:00+07:00"


def test_claim_items_and_totals(visits, bundle):
    claim = resources(bundle, "Claim")[1]
    lines = [*visits[1].drug_lines, *visits[1].service_lines]
    assert [i["sequence"] for i in claim["item"]] == [1, 2, 3]
    systems = [i["productOrService"]["coding"][0]["system"] for i in claim["item"]]
    assert systems == ["urn:vn:bhyt:ma-thuoc", "urn:vn:bhyt:ma-dich-vu", "urn:vn:bhyt:ma-vat-tu"]
    assert [i["productOrService"]["coding"][0]["code"] for i in claim["item"]] == [ln.code for ln in lines]
    assert [i["quantity"]["value"] for i in claim["item"]] == [ln.quantity for ln in lines]
    assert [i["unitPrice"]["value"] for i in claim["item"]] == [ln.hospital_unit_price for ln in lines]
    assert [i["net"]["value"] for i in claim["item"]] == [ln.hospital_amount for ln in lines]
    assert claim["total"] == {"value": sum(ln.hospital_amount for ln in lines), "currency": "VND"}


def test_money_is_integer_vnd(bundle):
    amounts = [d for d in walk(bundle) if "currency" in d]
    assert len(amounts) > 20
    for amount in amounts:
        assert amount["currency"] == "VND"
        assert type(amount["value"]) is int


def test_adjudication_categories_and_values(visits, bundle):
    responses = resources(bundle, "ClaimResponse")
    claims = resources(bundle, "Claim")
    for visit, response, claim in zip(visits, responses, claims, strict=True):
        assert (response["status"], response["use"], response["outcome"]) == ("active", "claim", "queued")
        assert response["type"] == claim["type"]
        assert response["request"]["reference"] == next(
            e["fullUrl"] for e in bundle["entry"] if e["resource"] is claim)
        lines = [*visit.drug_lines, *visit.service_lines]
        assert [i["itemSequence"] for i in response["item"]] == [i["sequence"] for i in claim["item"]]
        for item, line in zip(response["item"], lines, strict=True):
            by_code = {}
            for adj in item["adjudication"]:
                coding = adj["category"]["coding"][0]
                assert coding["system"] == ADJUDICATION
                by_code[coding["code"]] = adj
            assert set(by_code) == {"submitted", "eligible", "eligpercent", "benefit", "copay"}
            assert by_code["benefit"]["amount"] == {"value": line.insurer_amount, "currency": "VND"}
            assert by_code["copay"]["amount"] == {"value": line.copay_amount, "currency": "VND"}
            assert by_code["eligible"]["amount"]["value"] == line.insured_amount
            assert by_code["eligpercent"]["quantity"]["value"] == line.benefit_level
            assert type(by_code["eligpercent"]["quantity"]["value"]) is int


def test_coverage_and_patient(visits, bundle):
    coverage = resources(bundle, "Coverage")[0]
    assert (coverage["status"], coverage["kind"]) == ("active", "insurance")
    assert coverage["subscriberId"][0]["value"] == "DN4010123456789"
    assert coverage["period"] == {"start": "2026-01-01", "end": "2026-12-31"}
    assert coverage["insurer"]["display"] == "Bảo hiểm xã hội Việt Nam"
    patient = resources(bundle, "Patient")[0]
    assert patient["identifier"] == [{"system": "urn:vn:cccd", "value": "001190012345"}]
    assert patient["name"][0] == {"text": "Nguyễn Thị Lan", "family": "Nguyễn", "given": ["Thị", "Lan"]}
    assert (patient["gender"], patient["birthDate"]) == ("female", "1990-05-17")
    assert [p["gender"] for p in resources(bundle, "Patient")] == ["female", "male", "unknown"]


def test_charge_items(bundle):
    items = resources(bundle, "ChargeItem")
    assert {i["status"] for i in items} == {"billable"}
    glucose = items[1]
    assert glucose["code"]["coding"][0] == {
        "system": "urn:vn:bhyt:ma-dich-vu", "code": "23.0075.1494", "display": "Định lượng Glucose [Máu]"}
    assert glucose["totalPriceComponent"]["amount"] == {"value": 21_500, "currency": "VND"}
    assert glucose["occurrenceDateTime"] == "2026-11-21T01:30:00+07:00"


def test_visit_entries_order():
    entries = visit_bundle_entries(make_visit(1), insurer_name="BHXH Hà Nội")
    kinds = [e["resource"]["resourceType"] for e in entries]
    assert kinds == ["Patient", "Coverage", "ChargeItem", "ChargeItem", "Invoice", "Claim", "ClaimResponse"]
    assert entries[5]["resource"]["insurer"] == {"display": "BHXH Hà Nội"}
    assert "display" not in entries[5]["resource"]["provider"]


def test_iter_bundle_json_streams_the_same_bundle(visits, bundle):
    chunks = list(iter_bundle_json(visits, provider_name="Bệnh viện Đa khoa Hà Nội"))
    assert len(chunks) == len(bundle["entry"]) + 2
    raw = b"".join(chunks)
    assert "Nguyễn Thị Lan".encode() in raw  # not \\u-escaped
    assert json.loads(raw) == bundle
    Bundle.model_validate_json(raw)


def test_iter_bundle_json_is_lazy():
    pulled = []

    def source():
        for n in (1, 2, 3):
            pulled.append(n)
            yield make_visit(n)

    chunks = iter_bundle_json(source())
    next(chunks)
    assert pulled == []
    next(chunks)
    assert pulled == [1]


def test_empty_bundle_has_no_empty_entry_array():
    assert json.loads(b"".join(iter_bundle_json([]))) == bundle_for([]) == {
        "resourceType": "Bundle", "type": "collection"}
    Bundle.model_validate(bundle_for([]))


def test_fractional_eligpercent_is_an_exact_json_number():
    visit = out_of_network_visit()
    bundle = bundle_for([visit])
    raw = b"".join(iter_bundle_json([visit]))
    assert b'"quantity":{"value":47.5,' in raw
    assert json.loads(raw, parse_float=Decimal) == bundle
    Bundle.model_validate_json(raw)
    values = [
        adj["quantity"]["value"]
        for item in resources(bundle, "ClaimResponse")[0]["item"]
        for adj in item["adjudication"]
        if adj["category"]["coding"][0]["code"] == "eligpercent"
    ]
    assert values == [Decimal("47.5"), 95, 80]
    assert [type(v) for v in values] == [Decimal, int, int]


def test_each_visit_has_an_invoice_whose_lines_are_its_charge_items(bundle):
    from fhir.resources.invoice import Invoice

    charge_items = {e["fullUrl"]: e["resource"] for e in bundle["entry"]
                    if e["resource"]["resourceType"] == "ChargeItem"}
    for invoice in resources(bundle, "Invoice"):
        Invoice.model_validate(invoice)
        assert invoice["status"] == "issued"
        referenced = [item["chargeItemReference"]["reference"] for item in invoice["lineItem"]]
        assert all(url in charge_items for url in referenced)
        gross = sum(charge_items[url]["totalPriceComponent"]["amount"]["value"] for url in referenced)
        assert invoice["totalGross"] == {"value": gross, "currency": "VND"}
        assert [item["sequence"] for item in invoice["lineItem"]] == list(range(1, len(referenced) + 1))


def test_other_funding_is_a_deduction_so_the_invoice_net_is_what_bhyt_and_the_patient_pay(bundle):
    funded = resources(bundle, "Invoice")[2]  # the third visit: a drug with 3 000 000 đ of patient funding

    assert (funded["totalGross"]["value"], funded["totalNet"]["value"]) == (10_000_000, 7_000_000)
    [line] = funded["lineItem"]
    assert [(c["type"], c["amount"]["value"]) for c in line["priceComponent"]] == [
        ("base", 10_000_000), ("deduction", 3_000_000)]
    assert line["priceComponent"][1]["code"]["coding"][0]["code"] == "T_NGUONKHAC"


def test_the_claim_points_at_its_invoice(bundle):
    invoices = {e["fullUrl"]: e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Invoice"}
    for claim in resources(bundle, "Claim"):
        [info] = claim["supportingInfo"]
        invoice = invoices[info["valueReference"]["reference"]]
        assert invoice["identifier"] == claim["identifier"]  # both carry the visit's MA_LK
        assert info["category"]["coding"][0]["code"] == "info"
