"""The practitioner registry: who orders and performs what a claim lists (MA_BAC_SI, NGUOI_THUC_HIEN)."""

from tests.gateway.conftest import (
    NGUYEN_VAN_AN,
    add_card,
    glucose_charge,
    open_visit,
    outbox_payload,
    register,
    send_charge,
)
from tests.support import bearer

ADMIN = bearer("admin")
DR_HOA = {"full_name": "BS. Trần Thị Hoa", "licence_number": "002341/HNO-CCHN", "department": "K01 Khoa Khám bệnh"}
KTV_DUNG = {"full_name": "KTV. Lê Văn Dũng", "licence_number": "004512/HNO-CCHN", "profession": "technician",
            "department": "K26 Khoa Xét nghiệm"}


def enrol(client, practitioner=DR_HOA) -> dict:
    response = client.post("/api/v1/practitioners", json=practitioner, headers=ADMIN)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_the_admin_registers_a_doctor_with_their_practising_certificate(gateway):
    doctor = enrol(gateway)

    listed = gateway.get("/api/v1/practitioners?department=K01", headers=bearer("lab_tech")).get_json()

    assert [(p["id"], p["licence_number"], p["profession"]) for p in listed] == [
        (doctor["id"], "002341/HNO-CCHN", "doctor")]


def test_a_certificate_number_of_the_wrong_shape_is_refused(gateway):
    response = gateway.post("/api/v1/practitioners", json={**DR_HOA, "licence_number": "CCHN-2341"}, headers=ADMIN)

    assert response.status_code == 422
    assert "licence_number" in response.get_json()["errors"]


def test_one_certificate_belongs_to_one_practitioner(gateway):
    enrol(gateway)

    response = gateway.post("/api/v1/practitioners", json={**DR_HOA, "full_name": "BS. Trần Thị Hòa"}, headers=ADMIN)

    assert response.status_code == 409
    assert response.get_json()["code"] == "PRACTITIONER_EXISTS"


def test_only_the_admin_keeps_the_registry(gateway):
    response = gateway.post("/api/v1/practitioners", json=DR_HOA, headers=bearer("cashier"))

    assert response.status_code == 403


def test_a_visit_names_its_doctor_and_billing_learns_who_they_are(gateway_app, gateway):
    doctor = enrol(gateway)
    patient = register(gateway, NGUYEN_VAN_AN)

    visit = open_visit(gateway, patient["id"], practitioner_id=doctor["id"])

    assert visit["practitioner"]["licence_number"] == "002341/HNO-CCHN"
    snapshot = outbox_payload(gateway_app, f"encounter:{visit['id']}:v1")
    assert snapshot["practitioner"] == {"id": doctor["id"], "full_name": "BS. Trần Thị Hoa",
                                        "licence_number": "002341/HNO-CCHN", "department": "K01 Khoa Khám bệnh"}


def test_a_visit_cannot_name_a_practitioner_taken_off_the_list(gateway):
    doctor = enrol(gateway)
    gateway.patch(f"/api/v1/practitioners/{doctor['id']}", json={"active": False}, headers=ADMIN)
    patient = register(gateway, NGUYEN_VAN_AN)

    response = gateway.post("/api/v1/encounters", json={"patient_id": patient["id"], "kind": "outpatient",
                                                        "department": "K01", "practitioner_id": doctor["id"]},
                            headers=bearer("cashier"))

    assert response.status_code == 422
    assert response.get_json()["code"] == "PRACTITIONER_NOT_FOUND"


def test_a_lab_charge_reaches_billing_with_who_ordered_and_who_ran_it(gateway_app, gateway):
    doctor, technician = enrol(gateway), enrol(gateway, KTV_DUNG)
    patient = register(gateway, NGUYEN_VAN_AN)
    add_card(gateway, patient["id"])
    visit = open_visit(gateway, patient["id"])

    send_charge(gateway, glucose_charge(visit["id"], patient["id"], ordered_by_id=doctor["id"],
                                        performed_by_id=technician["id"]))

    billed = outbox_payload(gateway_app, "billing:lab:test-run:1")
    assert billed["charge"]["ordered_by"]["licence_number"] == "002341/HNO-CCHN"
    assert billed["charge"]["performed_by"]["licence_number"] == "004512/HNO-CCHN"
    assert billed["encounter"]["practitioner"] is None


def test_a_charge_from_an_older_sender_without_practitioners_is_still_billed(gateway_app, gateway):
    patient = register(gateway, NGUYEN_VAN_AN)
    visit = open_visit(gateway, patient["id"])

    response = send_charge(gateway, glucose_charge(visit["id"], patient["id"]))

    assert response.status_code == 201
    billed = outbox_payload(gateway_app, "billing:lab:test-run:1")
    assert (billed["charge"].get("ordered_by"), billed["charge"].get("performed_by")) == (None, None)


def test_the_demo_registry_has_doctors_technicians_and_a_pharmacist_naming_the_demo_visits(gateway_app, gateway):
    from seeds import seed_service

    with gateway_app.app_context():
        seed_service("gateway")

    registry = gateway.get("/api/v1/practitioners", headers=bearer("lab_head")).get_json()
    open_visits = gateway.get("/api/v1/encounters?status=open", headers=bearer("lab_tech")).get_json()

    assert {p["profession"] for p in registry} >= {"doctor", "technician", "pharmacist"}
    assert all(p["licence_number"].endswith("-CCHN") for p in registry)
    assert all(visit["practitioner"] is not None for visit in open_visits)
