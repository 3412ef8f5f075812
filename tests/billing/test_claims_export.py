"""Finance downloads a claim batch as the BHYT GIAMDINHHS file (QĐ 130/4750) and as a FHIR R5 Bundle."""

import json

import pytest
from fhir.resources.bundle import Bundle

from billing_service.claims.bhyt_xml import parse_giamdinhhs
from tests.billing.test_claims_support import (
    FINANCE,
    GLUCOSE,
    add,
    an_october_visit,
    build_batch,
    close,
    hanoi,
    visit,
)


@pytest.fixture
def batch(client) -> dict:
    """October's batch: two visits of three lines each."""
    an_october_visit(client, "LK-2026-1001", 1)
    an_october_visit(client, "LK-2026-1002", 2)
    return build_batch(client).get_json()


def export(client, batch_id: int, export_format: str = "bhyt-4750"):
    return client.get(f"/api/v1/billing/claim-batches/{batch_id}/export?format={export_format}", headers=FINANCE)


def test_the_bhyt_file_is_streamed_as_an_attachment(client, batch):
    response = export(client, batch["id"])

    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    assert response.headers["Content-Disposition"] == 'attachment; filename="GIAMDINHHS_01001_202610_01.xml"'
    assert response.is_streamed
    assert "Content-Length" not in response.headers


def test_the_bhyt_file_has_one_hoso_per_visit_with_drugs_services_and_results(client, batch):
    records = parse_giamdinhhs(export(client, batch["id"]).data)

    assert [record["ma_lk"] for record in records] == ["LK-2026-1001", "LK-2026-1002"]
    first = records[0]
    xml1 = first["xml1"]
    assert (xml1["STT"], xml1["MA_BN"], xml1["HO_TEN"], xml1["SO_CCCD"], xml1["GIOI_TINH"]) == (
        "1", "BN000001", "Nguyễn Văn An", "001085012345", "1")
    assert (xml1["MA_THE_BHYT"], xml1["MA_DKBD"], xml1["GT_THE_TU"], xml1["GT_THE_DEN"]) == (
        "DN4010123456789", "01001", "20260101", "20261231")
    assert (xml1["MA_BENH_CHINH"], xml1["MA_BENH_KT"], xml1["MA_LOAI_KCB"], xml1["MA_CSKCB"]) == (
        "E11.9", "I10", "01", "01001")
    assert (xml1["NGAY_VAO"], xml1["NGAY_RA"], xml1["NAM_QT"], xml1["THANG_QT"]) == (
        "202610140730", "202610141130", "2026", "10")
    [drug] = first["xml2"]
    assert (drug["STT"], drug["MA_THUOC"], drug["SO_LUONG"], drug["DON_GIA"], drug["HAM_LUONG"],
            drug["DUONG_DUNG"], drug["SO_DANG_KY"]) == ("1", "40.268", "10", "35000", "1g", "2.15", "VD-23456-15")
    assert (drug["THANH_TIEN_BV"], drug["MUC_HUONG"], drug["T_BHTT"], drug["T_BNCCT"], drug["T_BNTT"]) == (
        "350000", "80", "280000", "70000", "0")
    services = [(row["STT"], row["MA_DICH_VU"], row["MA_NHOM"], row["T_BHTT"], row["NGAY_YL"]) for row in first["xml3"]]
    assert services == [
        ("1", "23.0075.1494", "1", "17200", "202610140805"), ("2", "23.0083.1523", "1", "80800", "202610140806")]
    [result] = first["xml4"]
    assert (result["MA_DICH_VU"], result["MA_CHI_SO"], result["GIA_TRI"], result["DON_VI_DO"], result["KET_LUAN"]) == (
        "23.0075.1494", "2345-7", "7.8", "mmol/L", "Cao")


def test_xml1_totals_add_up_to_the_lines_and_to_the_batch(client, batch):
    records = parse_giamdinhhs(export(client, batch["id"]).data)

    for record in records:
        lines = record["xml2"] + record["xml3"]
        for total, column in (("T_TONGCHI_BV", "THANH_TIEN_BV"), ("T_TONGCHI_BH", "THANH_TIEN_BH"),
                              ("T_BHTT", "T_BHTT"), ("T_BNCCT", "T_BNCCT"), ("T_BNTT", "T_BNTT"),
                              ("T_NGUONKHAC", "T_NGUONKHAC")):
            assert int(record["xml1"][total]) == sum(int(line[column]) for line in lines), total
        assert int(record["xml1"]["T_THUOC"]) == sum(int(line["THANH_TIEN_BV"]) for line in record["xml2"])
    assert sum(int(record["xml1"]["T_BHTT"]) for record in records) == batch["insurer_amount"] == 756_000
    assert sum(int(record["xml1"]["T_TONGCHI_BV"]) for record in records) == batch["hospital_amount"]


def test_the_envelope_announces_its_visit_count_and_facility(client, batch):
    body = export(client, batch["id"]).data.decode("utf-8")

    assert body.startswith('<?xml version="1.0" encoding="utf-8"?>\n<GIAMDINHHS>')
    assert "<MACSKCB>01001</MACSKCB>" in body
    assert "<SOLUONGHOSO>2</SOLUONGHOSO>" in body
    assert body.rstrip().endswith("</GIAMDINHHS>")


def test_a_visit_without_lab_results_has_no_xml4(client):
    snapshot = visit("LK-2026-1001", 1)
    add(client, snapshot, GLUCOSE, "lab:test-run:1", hanoi(14, 8))
    close(client, snapshot, hanoi(14, 9))
    batch = build_batch(client).get_json()

    [record] = parse_giamdinhhs(export(client, batch["id"]).data)

    assert record["xml4"] == [] and record["xml2"] == []
    # 21 500 đ is under the low-cost threshold: BHYT pays the whole line.
    assert (record["xml3"][0]["MUC_HUONG"], record["xml3"][0]["T_BHTT"]) == ("100", "21500")


def test_the_fhir_bundle_validates_and_carries_our_codes_and_money(client, batch):
    response = export(client, batch["id"], "fhir")

    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    assert response.headers["Content-Disposition"] == 'attachment; filename="claims_01001_202610_01.fhir.json"'
    bundle = json.loads(response.data)
    assert Bundle.model_validate(bundle).type == "collection"
    kinds = [entry["resource"]["resourceType"] for entry in bundle["entry"]]
    assert {kind: kinds.count(kind) for kind in set(kinds)} == {
        "Patient": 2, "Coverage": 2, "ChargeItem": 6, "Invoice": 2, "Claim": 2, "ClaimResponse": 2}
    claim = next(entry["resource"] for entry in bundle["entry"] if entry["resource"]["resourceType"] == "Claim")
    assert (claim["status"], claim["use"]) == ("active", "claim")
    assert claim["type"]["coding"][0]["code"] == "professional"
    items = {item["productOrService"]["coding"][0]["code"]: item for item in claim["item"]}
    assert items["40.268"]["net"] == {"value": 350_000, "currency": "VND"}
    assert items["40.268"]["productOrService"]["coding"][0]["system"] == "urn:vn:bhyt:ma-thuoc"
    assert items["23.0075.1494"]["productOrService"]["coding"][0]["system"] == "urn:vn:bhyt:ma-dich-vu"
    coverage = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Coverage")
    assert coverage["subscriberId"] == [{"system": "urn:vn:bhyt:ma-the", "value": "DN4010123456789"}]


def test_an_unknown_batch_or_format_is_refused_before_any_byte(client, batch):
    missing = export(client, 999)
    assert (missing.status_code, missing.get_json()["code"]) == (404, "CLAIM_BATCH_NOT_FOUND")
    wrong = export(client, batch["id"], "xlsx")
    assert (wrong.status_code, wrong.get_json()["code"]) == (422, "VALIDATION_FAILED")
