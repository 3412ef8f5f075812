"""Reception and finance at the gateway: ids past their column, control characters and out-of-range dates are
refused with 422, and finance finds a visit's reversals by its id."""

from datetime import UTC, datetime

from tests.gateway.conftest import (
    NGUYEN_VAN_AN,
    TRAN_THI_BICH,
    add_card,
    glucose_charge,
    open_visit,
    register,
    send_charge,
)
from tests.support import bearer, service_headers

CASHIER = bearer("cashier")


def test_a_visit_for_a_patient_id_past_its_column_is_refused_not_a_500(gateway):
    for patient_id in ("35313816068739901161472", 2**31, "2147483648"):
        response = gateway.post("/api/v1/encounters", json={"patient_id": patient_id, "kind": "outpatient",
                                                            "department": "K01"}, headers=CASHIER)
        assert response.status_code == 422, patient_id
    listing = gateway.get("/api/v1/encounters?patient_id=35313816068739901161472", headers=CASHIER)
    assert listing.status_code == 422


def test_the_cashier_cannot_register_a_name_with_a_nul_or_a_birth_in_the_year_1(gateway):
    for changes in ({"full_name": "Nguyễn Văn\u0000 An"}, {"full_name": "   "}, {"birth_date": "0001-01-01"},
                    {"address": "12 Lý Thường Kiệt\u0000"}):
        response = gateway.post("/api/v1/patients", json={**NGUYEN_VAN_AN, **changes}, headers=CASHIER)
        assert response.status_code == 422, changes
    assert register(gateway)["full_name"] == "Nguyễn Văn An"


def test_a_card_valid_until_the_year_9999_is_refused(gateway):
    patient = register(gateway)
    card = {"card_number": "DN4010123456789", "registered_facility": "01001", "valid_from": "2026-01-01",
            "valid_to": "9999-12-31", "benefit_level": 80}
    response = gateway.post(f"/api/v1/patients/{patient['id']}/coverages", json=card, headers=CASHIER)
    assert response.status_code == 422
    assert "valid_to" in response.get_json()["errors"]


def test_finance_lists_only_the_reversals_of_one_visit(gateway):
    visits = []
    for number, person in enumerate((NGUYEN_VAN_AN, TRAN_THI_BICH), start=1):
        patient = register(gateway, person)
        add_card(gateway, patient["id"], {"card_number": f"DN401012345678{number}", "registered_facility": "01001",
                                          "valid_from": "2026-01-01", "valid_to": "2026-12-31",
                                          "benefit_level": 80})
        visit = open_visit(gateway, patient["id"])
        charge = glucose_charge(visit["id"], patient["id"], run_id=number)
        assert send_charge(gateway, charge).status_code == 201
        void = {"key": f"{charge['key']}:void", "charge_key": charge["key"], "source": "lab",
                "encounter_id": visit["id"], "quantity": 1, "amount": 21_500,
                "reason": "Mẫu máu bị vỡ hồng cầu, chạy lại", "occurred_at": datetime.now(UTC).isoformat()}
        assert gateway.post("/internal/charge-reversals", json=void,
                            headers=service_headers("lab_service")).status_code == 201
        visits.append(visit)

    first = gateway.get(f"/api/v1/charge-reversals?encounter_id={visits[0]['id']}", headers=bearer("finance"))

    assert first.status_code == 200
    assert [row["charge_key"] for row in first.get_json()] == ["lab:test-run:1"]


def test_finance_pages_through_the_charges_newest_first(gateway):
    patient = register(gateway)
    visit = open_visit(gateway, patient["id"])
    for run_id in range(1, 6):
        assert send_charge(gateway, glucose_charge(visit["id"], patient["id"], run_id=run_id)).status_code == 201
    first = gateway.get("/api/v1/charges?limit=2", headers=bearer("finance"))
    cursor = first.headers["X-Next-Cursor"]
    second = gateway.get(f"/api/v1/charges?limit=2&cursor={cursor}", headers=bearer("finance"))
    third = gateway.get(f"/api/v1/charges?limit=2&cursor={second.headers['X-Next-Cursor']}",
                        headers=bearer("finance"))
    keys = [row["key"] for page in (first, second, third) for row in page.get_json()]
    assert keys == [f"lab:test-run:{n}" for n in (5, 4, 3, 2, 1)]
    assert "X-Next-Cursor" not in third.headers and "Link" not in third.headers
    assert 'rel="next"' in first.headers["Link"]
