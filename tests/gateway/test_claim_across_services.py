"""A claim the insurer accepts, across the four services: the visit's doctor, the technician and the prescriber are
named, a programme pays part of a drug, units are as the national lists write them; the pre-submission check passes,
the BHYT file and the FHIR bundle (with its Invoice) validate. Then the lab head reads the lab's margin."""

import base64
import csv
import io
import xml.etree.ElementTree as ET
from datetime import datetime
from zoneinfo import ZoneInfo

from fhir.resources.bundle import Bundle

from billing_service.claims.bhyt_xml import TABLE_PATHS, XML1_COLUMNS, XML2_COLUMNS, XML3_COLUMNS, parse_giamdinhhs
from tests.gateway.conftest import CARD_80, add_card, open_visit, register
from tests.gateway.test_visit_across_services import hospital  # noqa: F401  (the four services, demo stock)
from tests.support import bearer

ADMIN, FINANCE, CASHIER = bearer("admin"), bearer("finance"), bearer("cashier")
PEOPLE = {
    "doctor": {"full_name": "BS.CKI Nguyễn Thị Thanh Hương", "licence_number": "002341/HNO-CCHN",
               "department": "K01 Khoa Khám bệnh"},
    "technician": {"full_name": "KTV. Phạm Văn Dũng", "licence_number": "004512/HNO-CCHN",
                   "profession": "technician", "department": "K26 Khoa Xét nghiệm"},
}


def created(response) -> dict:
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def a_visit_with_people_funding_and_units(client) -> dict:
    """A visit with a named doctor: glucose run by a technician, 60 metformin tablets, a programme paying 20 000 đ."""
    doctor, technician = (created(client.post("/api/v1/practitioners", json=PEOPLE[who], headers=ADMIN))
                          for who in ("doctor", "technician"))
    patient = register(client)
    add_card(client, patient["id"], {**CARD_80, "valid_from": "2020-01-01", "valid_to": "2099-12-31"})
    visit = open_visit(client, patient["id"], practitioner_id=doctor["id"])
    on_visit = {"encounter_id": visit["id"], "patient_id": patient["id"]}
    created(client.post("/api/v1/lab/test-runs", headers=bearer("lab_tech"), json={
        **on_visit, "test_code": "GLU", "performed_by_id": technician["id"]}))
    created(client.post("/api/v1/lab/test-runs", headers=bearer("lab_tech"), json={
        **on_visit, "test_code": "GLU", "is_rerun": True, "performed_by_id": technician["id"]}))
    prescription = created(client.post("/api/v1/pharmacy/prescriptions", headers=bearer("pharmacist"), json={
        **on_visit, "prescriber": doctor["full_name"], "prescriber_id": doctor["id"],
        "lines": [{"drug_code": "40.677", "quantity": 60, "instructions": "Uống sau ăn sáng và tối"}]}))
    created(client.post(f"/api/v1/pharmacy/prescriptions/{prescription['id']}/dispenses", headers=bearer(
        "pharmacist"), json={"lines": [{"line_id": prescription["lines"][0]["id"], "quantity": 60}]}))
    [invoice] = client.get(f"/api/v1/billing/invoices?encounter_id={visit['id']}", headers=CASHIER).get_json()
    lines = client.get(f"/api/v1/billing/invoices/{invoice['id']}", headers=CASHIER).get_json()["lines"]
    [drug] = [line for line in lines if line["item_kind"] == "drug"]
    created(client.post(f"/api/v1/billing/invoices/{invoice['id']}/other-funding", headers=CASHIER, json={
        "source": "domestic_aid", "target": "patient", "amount": 20_000, "line_id": drug["id"],
        "reference": "Hội Chữ thập đỏ quận Hoàn Kiếm hỗ trợ người bệnh đái tháo đường"}))
    closed = client.post(f"/api/v1/encounters/{visit['id']}/close", json={"diagnosis_main": "E11.9"},
                         headers=CASHIER)
    assert closed.status_code == 200, closed.get_json()
    return visit


def this_month() -> str:
    return datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%Y-%m")


def test_the_claim_names_its_people_carries_the_funding_and_national_units_and_validates(hospital):  # noqa: F811
    visit = a_visit_with_people_funding_and_units(hospital)
    batch = created(hospital.post("/api/v1/billing/claim-batches", json={"period": this_month()}, headers=FINANCE))

    report = hospital.get(f"/api/v1/billing/claim-batches/{batch['id']}/check", headers=FINANCE).get_json()
    assert (report["critical_count"], report["exportable"]) == (0, True), report["findings"]
    exported = hospital.get(f"/api/v1/billing/claim-batches/{batch['id']}/export", headers=FINANCE)

    assert exported.status_code == 200
    envelope = ET.fromstring(exported.data)
    [record] = parse_giamdinhhs(exported.data)
    for file_el in envelope.iterfind("THONGTINHOSO/DANHSACHHOSO/HOSO/FILEHOSO"):
        kind, inner = file_el.findtext("LOAIHOSO"), ET.fromstring(base64.b64decode(file_el.findtext("NOIDUNGFILE")))
        assert inner.tag == TABLE_PATHS[kind][0]
    assert list(record["xml1"]) == list(XML1_COLUMNS) and record["xml1"]["MA_LK"] == visit["id"]
    [drug], [lab] = record["xml2"], record["xml3"]
    assert list(drug) == list(XML2_COLUMNS) and list(lab) == list(XML3_COLUMNS)
    assert (drug["DON_VI_TINH"], drug["MA_BAC_SI"]) == ("Viên", "002341/HNO-CCHN")
    assert (lab["DON_VI_TINH"], lab["MA_BAC_SI"], lab["NGUOI_THUC_HIEN"]) == ("Lần", "002341/HNO-CCHN",
                                                                             "004512/HNO-CCHN")
    assert (drug["T_NGUONKHAC_VTTN"], drug["T_NGUONKHAC"]) == ("20000", "20000")
    for line in (drug, lab):
        assert sum(int(line[c]) for c in ("T_BHTT", "T_BNCCT", "T_BNTT", "T_NGUONKHAC")) == int(line["THANH_TIEN_BV"])
    for total, column in (("T_TONGCHI_BV", "THANH_TIEN_BV"), ("T_BHTT", "T_BHTT"), ("T_BNCCT", "T_BNCCT"),
                          ("T_BNTT", "T_BNTT"), ("T_NGUONKHAC", "T_NGUONKHAC")):
        assert int(record["xml1"][total]) == int(drug[column]) + int(lab[column]), total

    fhir = hospital.get(f"/api/v1/billing/claim-batches/{batch['id']}/export?format=fhir", headers=FINANCE)
    bundle = Bundle.model_validate_json(fhir.data)
    [invoice] = [entry.resource for entry in bundle.entry if entry.resource.get_resource_type() == "Invoice"]
    assert (invoice.totalGross.value, invoice.totalNet.value) == (21_500 + 60 * 600, 21_500 + 60 * 600 - 20_000)


def test_the_lab_head_sees_revenue_reagent_cost_and_margin_and_the_rerun_nobody_billed(hospital):  # noqa: F811
    a_visit_with_people_funding_and_units(hospital)

    report = hospital.get("/api/v1/lab/reports/margin", headers=bearer("lab_head"))

    assert report.status_code == 200, report.get_json()
    margin = report.get_json()
    [row] = margin["rows"]
    assert (row["test_code"], row["payer"], row["tests_billed"], row["revenue_amount"]) == ("GLU", "bhyt", 1, 21_500)
    assert row["insurer_amount"] + row["patient_amount"] + row["other_funding_amount"] == 21_500
    assert row["reagent_cost_amount"] > 0 and row["margin_amount"] == 21_500 - row["reagent_cost_amount"]
    [rerun] = margin["unbilled_runs"]
    assert rerun["reason"] == "rerun" and rerun["reagents"][0]["reagent_code"] == "GLU-R1"
    assert margin["chart"]["categories"] == ["GLU"]
    assert [s["name"] for s in margin["chart"]["series"]] == ["revenue_amount", "reagent_cost_amount",
                                                              "margin_amount"]

    as_csv = hospital.get("/api/v1/lab/reports/margin?format=csv&part=unbilled", headers=bearer("lab_head"))
    [line] = list(csv.DictReader(io.StringIO(as_csv.get_data(as_text=True))))
    assert line["reason"] == "rerun" and "GLU-R1" in line["reagents"]
