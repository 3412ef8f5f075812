"""Reception opens a visit for a registered patient and closes it with its diagnoses; billing is told each time."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.gateway.conftest import add_card, close_visit, open_visit, outbox, outbox_payload, register
from tests.support import bearer


def test_opening_a_visit_gives_an_id_usable_as_ma_lk_with_the_card_of_the_day(gateway):
    patient = register(gateway)
    add_card(gateway, patient["id"], {"card_number": "DN4010123456789", "registered_facility": "01001",
                                      "valid_from": "2020-01-01", "valid_to": "2099-12-31", "benefit_level": 80})
    visit = open_visit(gateway, patient["id"])
    assert visit["id"].isdigit() and len(visit["id"]) <= 100  # MA_LK is at most 100 characters
    assert visit["status"] == "open" and visit["in_network"] is True and visit["network_rate"] == 100
    assert visit["coverage"]["card_number"] == "DN4010123456789"
    assert gateway.get(f"/api/v1/patients/{patient['id']}", headers=bearer("lab_tech")).get_json()[
        "open_encounter_id"] == visit["id"]


def test_an_out_of_network_inpatient_stay_keeps_its_network_rate(gateway):
    patient = register(gateway)
    visit = open_visit(gateway, patient["id"], kind="inpatient", department="K03", network_rate=40)
    assert visit["in_network"] is False and visit["network_rate"] == 40


@pytest.mark.parametrize("fields,field", [
    ({"in_network": False}, "network_rate"),
    ({"in_network": True, "network_rate": 40}, "network_rate"),
    ({"network_rate": 140}, "network_rate"),
    ({"kind": "emergency"}, "kind"),
    ({"patient_id": "abc"}, "patient_id"),
])
def test_a_visit_with_inconsistent_network_or_kind_is_refused(gateway, fields, field):
    patient = register(gateway)
    body = {"patient_id": patient["id"], "kind": "outpatient", "department": "K01", **fields}
    response = gateway.post("/api/v1/encounters", json=body, headers=bearer("cashier"))
    assert response.status_code == 422 and field in response.get_json()["errors"]


def test_a_patient_has_one_open_visit_at_a_time(gateway):
    patient = register(gateway)
    first = open_visit(gateway, patient["id"])
    second = gateway.post("/api/v1/encounters", json={"patient_id": patient["id"], "kind": "outpatient",
                                                      "department": "K01"}, headers=bearer("cashier"))
    assert second.status_code == 409
    assert second.get_json()["code"] == "ENCOUNTER_ALREADY_OPEN" and second.get_json()["encounter_id"] == first["id"]
    assert close_visit(gateway, first["id"]).status_code == 200
    assert open_visit(gateway, patient["id"])["id"] != first["id"]


def test_a_visit_for_an_unknown_patient_is_a_404(gateway):
    response = gateway.post("/api/v1/encounters", json={"patient_id": "777", "kind": "outpatient",
                                                        "department": "K01"}, headers=bearer("cashier"))
    assert response.status_code == 404 and response.get_json()["code"] == "PATIENT_NOT_FOUND"


def test_closing_a_visit_records_the_icd10_diagnoses_and_discharge_time(gateway):
    patient = register(gateway)
    visit = open_visit(gateway, patient["id"])
    discharged_at = datetime.now(UTC).replace(microsecond=0).isoformat()
    response = close_visit(gateway, visit["id"], diagnosis_main="E11.9", diagnosis_other="I10;E78.5",
                           discharged_at=discharged_at)
    assert response.status_code == 200
    closed = response.get_json()
    assert closed["status"] == "closed" and closed["diagnosis_main"] == "E11.9"
    assert closed["diagnosis_other"] == "I10;E78.5"
    assert datetime.fromisoformat(closed["discharged_at"]) == datetime.fromisoformat(discharged_at)
    patient_now = gateway.get(f"/api/v1/patients/{patient['id']}", headers=bearer("cashier")).get_json()
    assert patient_now["open_encounter_id"] is None


def test_a_closed_visit_cannot_be_closed_again(gateway):
    visit = open_visit(gateway, register(gateway)["id"])
    close_visit(gateway, visit["id"])
    again = close_visit(gateway, visit["id"])
    assert again.status_code == 409 and again.get_json()["code"] == "ENCOUNTER_CLOSED"


@pytest.mark.parametrize("fields,field", [
    ({"diagnosis_main": "diabetes"}, "diagnosis_main"),
    ({"diagnosis_other": "I10, hypertension"}, "diagnosis_other"),
])
def test_diagnoses_must_be_icd10_codes(gateway, fields, field):
    visit = open_visit(gateway, register(gateway)["id"])
    response = close_visit(gateway, visit["id"], **fields)
    assert response.status_code == 422 and field in response.get_json()["errors"]


def test_a_discharge_before_admission_or_in_the_future_is_refused(gateway):
    visit = open_visit(gateway, register(gateway)["id"])
    for moment in (datetime.now(UTC) - timedelta(days=2), datetime.now(UTC) + timedelta(days=1)):
        response = close_visit(gateway, visit["id"], discharged_at=moment.isoformat())
        assert response.status_code == 422 and response.get_json()["code"] == "DISCHARGE_TIME_INVALID"


def test_billing_is_sent_the_visit_when_it_opens_and_again_when_it_closes(gateway_app, gateway):
    patient = register(gateway)
    add_card(gateway, patient["id"], {"card_number": "DN4010123456789", "registered_facility": "01001",
                                      "valid_from": "2020-01-01", "valid_to": "2099-12-31", "benefit_level": 80})
    visit = open_visit(gateway, patient["id"])
    close_visit(gateway, visit["id"], diagnosis_main="J18.9", diagnosis_other=None)
    rows = outbox(gateway, "billing.encounter")
    assert [(r["key"], r["destination"], r["path"]) for r in rows] == [
        (f"encounter:{visit['id']}:v1", "billing_service", "/internal/encounters"),
        (f"encounter:{visit['id']}:v2", "billing_service", "/internal/encounters")]
    opened = outbox_payload(gateway_app, f"encounter:{visit['id']}:v1")
    closed = outbox_payload(gateway_app, f"encounter:{visit['id']}:v2")
    assert opened["status"] == "open" and closed["status"] == "closed" and closed["diagnosis_main"] == "J18.9"
    assert closed["patient"]["cccd"] == "001088012345"
    assert closed["coverage"]["card_number"] == "DN4010123456789" and closed["coverage"]["benefit_level"] == 80


def test_billing_down_does_not_stop_reception_and_the_visit_waits_in_the_outbox(gateway):
    visit = open_visit(gateway, register(gateway)["id"])
    pending = gateway.get("/api/v1/gateway/outbox?state=pending", headers=bearer("finance")).get_json()
    assert [r["key"] for r in pending] == [f"encounter:{visit['id']}:v1"]
    assert pending[0]["attempts"] >= 1 and pending[0]["last_error"]


def test_lab_staff_find_the_open_visit_of_a_patient_to_log_work_on(gateway):
    patient = register(gateway)
    visit = open_visit(gateway, patient["id"])
    found = gateway.get(f"/api/v1/encounters?patient_id={patient['id']}&status=open",
                        headers=bearer("lab_tech")).get_json()
    assert [v["id"] for v in found] == [visit["id"]]
    one = gateway.get(f"/api/v1/encounters/{visit['id']}", headers=bearer("pharmacist"))
    assert one.status_code == 200 and one.get_json()["patient_id"] == patient["id"]


@pytest.mark.parametrize("role", ["lab_tech", "pharmacist", "finance"])
def test_only_reception_opens_and_closes_visits(gateway, role):
    patient = register(gateway)
    body = {"patient_id": patient["id"], "kind": "outpatient", "department": "K01"}
    assert gateway.post("/api/v1/encounters", json=body, headers=bearer(role)).status_code == 403
    visit = open_visit(gateway, patient["id"])
    assert gateway.post(f"/api/v1/encounters/{visit['id']}/close", json={"diagnosis_main": "E11.9"},
                        headers=bearer(role)).status_code == 403


def test_a_card_brought_after_the_visit_opened_is_sent_to_billing_with_the_visit(gateway_app, gateway):
    patient = register(gateway)
    visit = open_visit(gateway, patient["id"])
    add_card(gateway, patient["id"], {"card_number": "DN4010123456789", "registered_facility": "01001",
                                      "valid_from": "2020-01-01", "valid_to": "2099-12-31", "benefit_level": 80})
    keys = [r["key"] for r in outbox(gateway, "billing.encounter")]
    assert keys == [f"encounter:{visit['id']}:v1", f"encounter:{visit['id']}:v2"]
    assert outbox_payload(gateway_app, keys[0])["coverage"] is None
    assert outbox_payload(gateway_app, keys[1])["coverage"]["card_number"] == "DN4010123456789"
    closed = close_visit(gateway, visit["id"]).get_json()
    assert closed["coverage"]["card_number"] == "DN4010123456789"
    assert outbox(gateway, "billing.encounter")[-1]["key"] == f"encounter:{visit['id']}:v3"
