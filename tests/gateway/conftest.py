"""Fixtures of the gateway's patient, visit and charge tests: a gateway client and realistic reception data."""

import json
from datetime import UTC, datetime

import pytest

from tests.support import bearer, service_headers

NGUYEN_VAN_AN = {"full_name": "Nguyễn Văn An", "birth_date": "1988-03-14", "sex": "male", "cccd": "001088012345",
                 "phone": "0912345678",
                 "address": "12 Lý Thường Kiệt, Phường Hàng Bài, Quận Hoàn Kiếm, Hà Nội"}
TRAN_THI_BICH = {"full_name": "Trần Thị Bích", "birth_date": "1995-11-02", "sex": "female", "cccd": "079195004321",
                 "phone": "0908123456",
                 "address": "45 Nguyễn Thị Minh Khai, Phường Bến Thành, Quận 1, TP. Hồ Chí Minh"}
CARD_80 = {"card_number": "DN4010123456789", "registered_facility": "01001", "valid_from": "2026-01-01",
           "valid_to": "2026-12-31", "benefit_level": 80}


@pytest.fixture
def gateway_app(make_app):
    """A gateway on a fresh database; nothing listens on the other services' ports unless a test starts them."""
    return make_app("gateway")


@pytest.fixture
def gateway(gateway_app):
    return gateway_app.test_client()


def register(client, patient=NGUYEN_VAN_AN) -> dict:
    response = client.post("/api/v1/patients", json=patient, headers=bearer("cashier"))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def add_card(client, patient_id: str, card=CARD_80) -> dict:
    response = client.post(f"/api/v1/patients/{patient_id}/coverages", json=card, headers=bearer("cashier"))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def open_visit(client, patient_id: str, **fields) -> dict:
    body = {"patient_id": patient_id, "kind": "outpatient", "department": "K01", **fields}
    response = client.post("/api/v1/encounters", json=body, headers=bearer("cashier"))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def close_visit(client, encounter_id: str, **fields):
    body = {"diagnosis_main": "E11.9", "diagnosis_other": "I10", **fields}
    return client.post(f"/api/v1/encounters/{encounter_id}/close", json=body, headers=bearer("cashier"))


def glucose_charge(encounter_id: str, patient_id: str, run_id: int = 1, **overrides) -> dict:
    """A lab charge as lab_service sends it: one fasting glucose test (LOINC 1558-6, BHYT 23.0075.1494)."""
    event = {
        "key": f"lab:test-run:{run_id}", "source": "lab", "source_id": str(run_id), "encounter_id": encounter_id,
        "patient_id": patient_id, "item_kind": "service", "code": "23.0075.1494",
        "name": "Định lượng Glucose [Máu]", "unit": "lần", "quantity": 1, "unit_price_amount": 21_500,
        "insurance_unit_price_amount": 21_500, "insurance_covered": True, "insurance_rate": 100, "amount": 21_500,
        "cost_amount": 3_140, "occurred_at": datetime.now(UTC).isoformat(), "details": {"loinc": "1558-6"},
    }
    event.update(overrides)
    return event


def metformin_charge(encounter_id: str, patient_id: str, line_id: int = 1, quantity: int = 30) -> dict:
    """A pharmacy charge: metformin 500 mg tablets dispensed on the visit."""
    return {
        "key": f"pharmacy:dispense-line:{line_id}", "source": "pharmacy", "source_id": str(line_id),
        "encounter_id": encounter_id, "patient_id": patient_id, "item_kind": "drug", "code": "40.678",
        "name": "Metformin 500mg", "unit": "viên", "quantity": quantity, "unit_price_amount": 1_150,
        "insurance_unit_price_amount": 1_150, "insurance_covered": True, "insurance_rate": 100,
        "amount": quantity * 1_150, "cost_amount": quantity * 820, "occurred_at": datetime.now(UTC).isoformat(),
        "details": {"atc": "A10BA02", "strength": "500mg", "route": "Uống"},
    }


def send_charge(client, event: dict):
    return client.post("/internal/charges", json=event, headers=service_headers("lab_service"))


def outbox(client, event_type: str | None = None) -> list[dict]:
    """The gateway's outbox as finance sees it, oldest first, with payloads read from the database."""
    response = client.get("/api/v1/gateway/outbox?limit=1000", headers=bearer("finance"))
    assert response.status_code == 200
    rows = [row for row in reversed(response.get_json()) if event_type in (None, row["event_type"])]
    return rows


def outbox_payload(app, key: str) -> dict:
    """The JSON the gateway queued for billing under `key`."""
    from gateway.models import OutboxMessage

    with app.app_context():
        database = app.extensions["database"]
        with database.connection_context():
            return json.loads(OutboxMessage.get(OutboxMessage.key == key).payload)
