"""Reception registers patients by their chip ID card (CCCD) and finds them again by it at check-in."""

import pytest

from tests.gateway.conftest import NGUYEN_VAN_AN, TRAN_THI_BICH, add_card, register
from tests.support import bearer


def test_registering_a_patient_by_cccd_returns_their_record_id(gateway):
    patient = register(gateway)
    assert patient["id"].isdigit()
    assert patient["full_name"] == "Nguyễn Văn An" and patient["cccd"] == "001088012345"
    assert patient["current_coverage"] is None and patient["open_encounter_id"] is None


def test_the_same_cccd_cannot_be_registered_twice(gateway):
    first = register(gateway)
    again = gateway.post("/api/v1/patients", json={**NGUYEN_VAN_AN, "full_name": "Nguyễn Văn Ân"},
                         headers=bearer("cashier"))
    assert again.status_code == 409
    assert again.get_json()["code"] == "PATIENT_ALREADY_REGISTERED"
    assert again.get_json()["patient_id"] == first["id"]


@pytest.mark.parametrize("cccd,reason", [
    ("00108801234", "12 digits"),
    ("00108801234X", "12 digits"),
    ("003088012345", "province"),  # 003 is no province code
    ("001188012345", "sex"),  # 1 = a woman born in the 1900s
    ("001090012345", "birth year"),  # born 1990 by the card, 1988 by the form
    ("001288012345", "birth year"),  # 2 = born in the 2000s
])
def test_a_cccd_that_does_not_fit_the_person_is_refused(gateway, cccd, reason):
    response = gateway.post("/api/v1/patients", json={**NGUYEN_VAN_AN, "cccd": cccd}, headers=bearer("cashier"))
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "VALIDATION_FAILED" and "cccd" in body["errors"]
    assert reason.split()[-1] in " ".join(body["errors"]["cccd"]) or reason == "12 digits"


@pytest.mark.parametrize("field,value", [
    ("birth_date", "2099-01-01"), ("sex", "M"), ("phone", "12345"), ("full_name", ""),
])
def test_impossible_patient_details_are_refused_field_by_field(gateway, field, value):
    response = gateway.post("/api/v1/patients", json={**NGUYEN_VAN_AN, field: value}, headers=bearer("cashier"))
    assert response.status_code == 422 and field in response.get_json()["errors"]


def test_check_in_finds_the_patient_and_their_valid_card_by_cccd_alone(gateway):
    patient = register(gateway)
    register(gateway, TRAN_THI_BICH)
    add_card(gateway, patient["id"], {"card_number": "DN4010123456789", "registered_facility": "01001",
                                      "valid_from": "2020-01-01", "valid_to": "2099-12-31", "benefit_level": 80})
    found = gateway.get("/api/v1/patients?cccd=001088012345", headers=bearer("cashier")).get_json()
    assert [p["id"] for p in found] == [patient["id"]]
    assert found[0]["current_coverage"]["card_number"] == "DN4010123456789"
    assert gateway.get("/api/v1/patients?cccd=001088099999", headers=bearer("cashier")).get_json() == []


def test_a_lookup_needs_a_well_formed_cccd(gateway):
    response = gateway.get("/api/v1/patients?cccd=12345", headers=bearer("cashier"))
    assert response.status_code == 422 and "cccd" in response.get_json()["errors"]


@pytest.mark.parametrize("role,status", [("cashier", 200), ("finance", 200), ("lab_tech", 200),
                                         ("pharmacist", 200), ("lab_head", 200)])
def test_staff_who_log_work_on_a_visit_may_look_a_patient_up(gateway, role, status):
    register(gateway)
    assert gateway.get("/api/v1/patients?cccd=001088012345", headers=bearer(role)).status_code == status


@pytest.mark.parametrize("role", ["lab_tech", "pharmacist", "finance", "lab_head"])
def test_only_reception_registers_patients(gateway, role):
    response = gateway.post("/api/v1/patients", json=NGUYEN_VAN_AN, headers=bearer(role))
    assert response.status_code == 403 and response.get_json()["code"] == "FORBIDDEN"


def test_an_unknown_patient_is_a_404_problem(gateway):
    response = gateway.get("/api/v1/patients/9999", headers=bearer("cashier"))
    assert response.status_code == 404 and response.get_json()["code"] == "PATIENT_NOT_FOUND"


def test_every_look_up_of_a_patient_is_audited_with_who_and_which_patient(gateway):
    patient = register(gateway)
    gateway.get("/api/v1/patients?cccd=001088012345", headers=bearer("pharmacist"))
    gateway.get(f"/api/v1/patients/{patient['id']}", headers=bearer("lab_tech"))
    entries = gateway.get(f"/api/v1/audit?patient_id={patient['id']}", headers=bearer("admin")).get_json()
    seen = [(e["actor"], e["action"], e["status_code"]) for e in entries]
    assert seen == [("labtech", f"GET /api/v1/patients/{patient['id']}", 200),
                    ("pharmacist", "GET /api/v1/patients", 200),
                    ("cashier", "POST /api/v1/patients", 201)]
    assert all(e["occurred_at"] for e in entries)


def test_registering_twice_with_the_same_idempotency_key_registers_once(gateway):
    headers = {**bearer("cashier"), "Idempotency-Key": "reception-desk-3-0001"}
    first = gateway.post("/api/v1/patients", json=NGUYEN_VAN_AN, headers=headers)
    again = gateway.post("/api/v1/patients", json=NGUYEN_VAN_AN, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json()["id"] == first.get_json()["id"]
