"""A visit through the whole hospital: lab tests and a dispensed drug land on the record, the bill, and a recall."""

import pytest

from seeds import seed_service
from tests.gateway.conftest import CARD_80, add_card, open_visit, register
from tests.support import bearer

RECALL_REASON = "Cục Quản lý Dược thu hồi: không đạt chỉ tiêu độ hòa tan (công văn 1234/QLD-CL)"


@pytest.fixture
def hospital(make_app, live_server):
    """All four services serving on their ports, lab and pharmacy with their demo stock; the gateway's client."""
    for service in ("lab_service", "pharmacy_service"):
        app = make_app(service)
        with app.app_context():
            seed_service(service)
        live_server(app)
    live_server(make_app("billing_service"))
    gateway_app = make_app("gateway")
    live_server(gateway_app)
    return gateway_app.test_client()


def created(response) -> dict:
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_lab_tests_and_a_dispensed_drug_reach_the_record_and_the_bill_and_a_recall_flags_the_visit(hospital):
    patient = register(hospital)
    add_card(hospital, patient["id"], {**CARD_80, "valid_from": "2020-01-01", "valid_to": "2099-12-31"})
    visit = open_visit(hospital, patient["id"])
    on_visit = {"encounter_id": visit["id"], "patient_id": patient["id"]}
    for test_code in ("GLU", "CREA"):
        created(hospital.post("/api/v1/lab/test-runs", json={**on_visit, "test_code": test_code},
                              headers=bearer("lab_tech")))
    prescription = created(hospital.post("/api/v1/pharmacy/prescriptions", headers=bearer("pharmacist"), json={
        **on_visit, "prescriber": "BS. Nguyễn Văn Hùng",
        "lines": [{"drug_code": "40.677", "quantity": 60, "instructions": "Uống sau ăn sáng và tối"}]}))
    dispensed = created(hospital.post(f"/api/v1/pharmacy/prescriptions/{prescription['id']}/dispenses",
                                      json={"lines": [{"line_id": prescription["lines"][0]["id"], "quantity": 60}]},
                                      headers=bearer("pharmacist")))

    record = hospital.get(f"/api/v1/patients/{patient['id']}/record", headers=bearer("cashier")).get_json()
    [shown] = record["encounters"]
    assert sorted((c["source"], c["code"], c["quantity"]) for c in shown["charges"]) == [
        ("lab", "23.0051.1494", 1), ("lab", "23.0075.1494", 1), ("pharmacy", "40.677", 60)]
    assert all(c["cost_amount"] > 0 for c in shown["charges"]) and record["unattached_charges"] == []
    [invoice] = shown["invoices"]
    assert invoice["hospital_amount"] == shown["charge_total_amount"] == 21_500 + 21_500 + 60 * 600
    assert invoice["insurer_amount"] + invoice["patient_amount"] == invoice["hospital_amount"]

    lot_number = dispensed["lines"][0]["lots"][0]["lot_number"]
    drug = hospital.get("/api/v1/pharmacy/drugs/40.677", headers=bearer("pharmacist")).get_json()
    [lot] = [lot for lot in drug["lots"] if lot["lot_number"] == lot_number]
    created(hospital.post(f"/api/v1/pharmacy/lots/{lot['id']}/recall", json={"reason": RECALL_REASON},
                          headers=bearer("pharmacist")))
    record = hospital.get(f"/api/v1/patients/{patient['id']}/record", headers=bearer("finance")).get_json()
    [flag] = record["encounters"][0]["flags"]
    assert flag["kind"] == "drug_recall" and lot_number in flag["message"] and flag["matched"] is True
    assert record["recall_flags"] == [flag]
