"""Reception records a patient's BHYT cards; the card valid on a day is found by the patient's CCCD."""

import pytest

from tests.gateway.conftest import CARD_80, TRAN_THI_BICH, add_card, register
from tests.support import bearer


def card(**fields) -> dict:
    return {**CARD_80, **fields}


def test_an_80_percent_card_is_recorded_on_the_patient(gateway):
    patient = register(gateway)
    coverage = add_card(gateway, patient["id"])
    assert coverage["patient_id"] == patient["id"] and coverage["benefit_level"] == 80
    listed = gateway.get(f"/api/v1/patients/{patient['id']}/coverages", headers=bearer("finance")).get_json()
    assert [c["card_number"] for c in listed] == ["DN4010123456789"]


@pytest.mark.parametrize("fields,field", [
    ({"card_number": "DN401012345678"}, "card_number"),  # 14 characters
    ({"card_number": "dn4010123456789"}, "card_number"),
    ({"card_number": "DN6010123456789"}, "card_number"),  # benefit code 6 does not exist
    ({"card_number": "DN4010123456789", "benefit_level": 95}, "card_number"),  # code 4 means 80 %
    ({"card_number": "HT3010123456789", "benefit_level": 90}, "benefit_level"),
    ({"registered_facility": "0100"}, "registered_facility"),
    ({"valid_from": "2026-12-31", "valid_to": "2026-01-01"}, "valid_to"),
])
def test_a_card_that_cannot_exist_is_refused(gateway, fields, field):
    patient = register(gateway)
    response = gateway.post(f"/api/v1/patients/{patient['id']}/coverages", json=card(**fields),
                            headers=bearer("cashier"))
    assert response.status_code == 422 and field in response.get_json()["errors"]


def test_a_pensioner_card_at_95_percent_is_accepted(gateway):
    patient = register(gateway)
    pensioner = add_card(gateway, patient["id"], card(card_number="HT3010123456789", benefit_level=95))
    assert pensioner["benefit_level"] == 95


def test_recording_the_same_card_twice_is_a_conflict(gateway):
    patient = register(gateway)
    add_card(gateway, patient["id"])
    again = gateway.post(f"/api/v1/patients/{patient['id']}/coverages", json=CARD_80, headers=bearer("cashier"))
    assert again.status_code == 409 and again.get_json()["code"] == "COVERAGE_ALREADY_RECORDED"


def test_another_persons_social_insurance_number_is_refused(gateway):
    an = register(gateway)
    bich = register(gateway, TRAN_THI_BICH)
    add_card(gateway, an["id"])
    stolen = gateway.post(f"/api/v1/patients/{bich['id']}/coverages",
                          json=card(card_number="GD4790123456789"), headers=bearer("cashier"))
    assert stolen.status_code == 409
    assert stolen.get_json()["code"] == "CARD_BELONGS_TO_ANOTHER_PATIENT"
    assert stolen.get_json()["patient_id"] == an["id"]


def test_on_a_day_two_cards_overlap_the_one_issued_later_applies(gateway):
    patient = register(gateway)
    add_card(gateway, patient["id"], card(valid_from="2026-01-01", valid_to="2026-12-31"))
    # Re-issued mid-year as a pensioner card (new group, new benefit) with the same social-insurance number.
    add_card(gateway, patient["id"], card(card_number="HT3010123456789", benefit_level=95,
                                          valid_from="2026-07-01", valid_to="2027-06-30"))

    def card_on(day):
        response = gateway.get(f"/api/v1/coverages?cccd=001088012345&on={day}", headers=bearer("cashier"))
        return response.status_code, response.get_json().get("card_number")

    assert card_on("2026-03-15") == (200, "DN4010123456789")
    assert card_on("2026-07-01") == (200, "HT3010123456789")
    assert card_on("2027-03-01") == (200, "HT3010123456789")
    status, _ = card_on("2027-07-01")
    assert status == 404


def test_coverage_look_up_by_cccd_says_when_there_is_no_valid_card(gateway):
    patient = register(gateway)
    add_card(gateway, patient["id"], card(valid_from="2025-01-01", valid_to="2025-12-31"))
    response = gateway.get("/api/v1/coverages?cccd=001088012345&on=2026-02-01", headers=bearer("cashier"))
    assert response.status_code == 404
    assert response.get_json()["code"] == "NO_VALID_COVERAGE" and response.get_json()["patient_id"] == patient["id"]
    unknown = gateway.get("/api/v1/coverages?cccd=001088099999", headers=bearer("cashier"))
    assert unknown.status_code == 404 and unknown.get_json()["code"] == "PATIENT_NOT_FOUND"


def test_a_card_for_an_unknown_patient_is_a_404(gateway):
    response = gateway.post("/api/v1/patients/4242/coverages", json=CARD_80, headers=bearer("cashier"))
    assert response.status_code == 404 and response.get_json()["code"] == "PATIENT_NOT_FOUND"


@pytest.mark.parametrize("role", ["lab_tech", "pharmacist"])
def test_lab_and_pharmacy_staff_see_only_todays_card_and_cannot_add_one(gateway, role):
    patient = register(gateway)
    add_card(gateway, patient["id"], card(valid_from="2020-01-01", valid_to="2099-12-31"))
    looked_up = gateway.get(f"/api/v1/patients/{patient['id']}", headers=bearer(role)).get_json()
    assert looked_up["current_coverage"]["benefit_level"] == 80  # is the patient insured, and at what level
    assert gateway.get(f"/api/v1/patients/{patient['id']}/coverages", headers=bearer(role)).status_code == 403
    assert gateway.post(f"/api/v1/patients/{patient['id']}/coverages", json=CARD_80,
                        headers=bearer(role)).status_code == 403
