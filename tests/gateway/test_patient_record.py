"""The patient record: visits with every charge, the bill and its payments from billing, recall warnings; audited."""

import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from common.outbox import sweep
from gateway.models import OutboxMessage
from tests.gateway.conftest import (
    CARD_80,
    add_card,
    close_visit,
    glucose_charge,
    metformin_charge,
    open_visit,
    register,
    send_charge,
)
from tests.support import bearer, service_headers

ALWAYS_VALID = {**CARD_80, "valid_from": "2020-01-01", "valid_to": "2099-12-31"}


def record_of(client, patient_id: str, role: str = "cashier"):
    return client.get(f"/api/v1/patients/{patient_id}/record", headers=bearer(role))


def visit_with_three_charges(client):
    patient = register(client)
    add_card(client, patient["id"], ALWAYS_VALID)
    visit = open_visit(client, patient["id"])
    send_charge(client, glucose_charge(visit["id"], patient["id"], 1))
    send_charge(client, glucose_charge(visit["id"], patient["id"], 2, code="23.0058.1487", cost_amount=2_700,
                                       name="Định lượng Creatinin [Máu]", details={"loinc": "2160-0"}))
    send_charge(client, metformin_charge(visit["id"], patient["id"], 1, quantity=60))
    return patient, visit


def recall(encounter_id: str, patient_id: str, key: str = "pharmacy:recall:7:encounter:1") -> dict:
    return {"key": key, "encounter_id": encounter_id, "patient_id": patient_id, "kind": "drug_recall",
            "source": "pharmacy", "message": "Lô Metformin 500mg MF2406 bị thu hồi theo công văn của Cục Quản lý Dược",
            "details": {"drug_code": "40.678", "lot_number": "MF2406"}, "raised_at": datetime.now(UTC).isoformat()}


def test_the_record_shows_each_visit_with_its_charges_and_what_they_cost(gateway):
    patient, visit = visit_with_three_charges(gateway)
    response = record_of(gateway, patient["id"])
    assert response.status_code == 200
    record = response.get_json()
    assert record["patient"]["cccd"] == "001088012345"
    assert [c["card_number"] for c in record["coverages"]] == ["DN4010123456789"]
    [shown] = record["encounters"]
    assert shown["id"] == visit["id"] and shown["coverage"]["benefit_level"] == 80
    lines = [(c["source"], c["code"], c["quantity"], c["amount"], c["cost_amount"]) for c in shown["charges"]]
    assert lines == [("lab", "23.0075.1494", 1, 21_500, 3_140), ("lab", "23.0058.1487", 1, 21_500, 2_700),
                     ("pharmacy", "40.678", 60, 69_000, 49_200)]
    assert shown["charge_total_amount"] == 112_000


def test_billing_down_still_gives_the_record_marked_unavailable(gateway):
    patient, _ = visit_with_three_charges(gateway)
    record = record_of(gateway, patient["id"]).get_json()
    assert record["billing"] == {"available": False}
    assert record["encounters"][0]["invoices"] is None and record["encounters"][0]["claim"] is None
    assert len(record["encounters"][0]["charges"]) == 3


def test_charges_that_could_not_go_on_a_visit_show_apart_on_the_record(gateway):
    patient, visit = visit_with_three_charges(gateway)
    send_charge(gateway, glucose_charge("55555", patient["id"], 9))
    record = record_of(gateway, patient["id"]).get_json()
    assert [(c["key"], c["flag"]) for c in record["unattached_charges"]] == [("lab:test-run:9", "unknown_encounter")]
    assert len(record["encounters"][0]["charges"]) == 3


def test_a_recall_warning_from_pharmacy_shows_on_the_visit_once(gateway):
    patient, visit = visit_with_three_charges(gateway)
    first = gateway.post("/internal/encounter-flags", json=recall(visit["id"], patient["id"]),
                         headers=service_headers("pharmacy_service"))
    again = gateway.post("/internal/encounter-flags", json=recall(visit["id"], patient["id"]),
                         headers=service_headers("pharmacy_service"))
    assert (first.status_code, again.status_code) == (201, 200)
    record = record_of(gateway, patient["id"]).get_json()
    assert [f["details"]["lot_number"] for f in record["recall_flags"]] == ["MF2406"]
    assert [f["kind"] for f in record["encounters"][0]["flags"]] == ["drug_recall"]


def test_a_recall_warning_for_an_unknown_visit_is_kept_for_finance(gateway):
    patient = register(gateway)
    response = gateway.post("/internal/encounter-flags", json=recall("31337", patient["id"]),
                            headers=service_headers("pharmacy_service"))
    assert response.status_code == 201 and response.get_json()["matched"] is False
    listed = gateway.get("/api/v1/encounter-flags", headers=bearer("finance")).get_json()
    assert [f["encounter_id"] for f in listed] == ["31337"]


def test_recall_warnings_are_only_taken_from_services(gateway):
    patient = register(gateway)
    response = gateway.post("/internal/encounter-flags", json=recall("1", patient["id"]), headers=bearer("admin"))
    assert response.status_code == 401


def test_every_read_of_the_record_is_audited_even_when_refused(gateway):
    patient, _ = visit_with_three_charges(gateway)
    record_of(gateway, patient["id"], "finance")
    assert record_of(gateway, patient["id"], "lab_tech").status_code == 403
    entries = gateway.get(f"/api/v1/audit?patient_id={patient['id']}", headers=bearer("admin")).get_json()
    reads = [(e["actor"], e["role"], e["status_code"]) for e in entries
             if e["action"] == f"GET /api/v1/patients/{patient['id']}/record"]
    assert reads == [("labtech", "lab_tech", 403), ("finance", "finance", 200)]


def test_the_record_of_an_unknown_patient_is_a_404(gateway):
    response = record_of(gateway, "4040")
    assert response.status_code == 404 and response.get_json()["code"] == "PATIENT_NOT_FOUND"


@pytest.fixture
def billing_live(make_app, live_server):
    """billing_service serving on its port, so the gateway's outbox and record reach it over HTTP."""
    billing = make_app("billing_service")
    live_server(billing)
    return billing


def insulin_charge(encounter_id: str, patient_id: str) -> dict:
    """Two insulin glargine pens: enough for the visit to pass 15 % of the base salary, so the card's 80 % applies."""
    event = metformin_charge(encounter_id, patient_id, 2, quantity=2)
    event.update(code="40.555", name="Insulin glargine 100UI/ml, bút tiêm 3ml", unit="bút",
                 unit_price_amount=265_000, insurance_unit_price_amount=265_000, amount=530_000, cost_amount=410_000,
                 details={"atc": "A10AE04", "strength": "100UI/ml", "route": "Tiêm dưới da"})
    return event


def test_with_billing_up_the_record_shows_the_bill_split_and_the_payment(billing_live, gateway):
    patient, visit = visit_with_three_charges(gateway)
    send_charge(gateway, insulin_charge(visit["id"], patient["id"]))
    pending = gateway.get("/api/v1/gateway/outbox?state=pending", headers=bearer("finance")).get_json()
    assert pending == []
    record = record_of(gateway, patient["id"]).get_json()
    assert record["billing"] == {"available": True}
    [invoice] = record["encounters"][0]["invoices"]
    assert invoice["encounter_id"] == visit["id"] and invoice["hospital_amount"] == 642_000
    assert (invoice["insurer_amount"], invoice["patient_amount"]) == (513_600, 128_400)  # 80 % card
    assert record["encounters"][0]["claim"] is None
    paid = billing_live.test_client().post(
        f"/api/v1/billing/invoices/{invoice['id']}/payments", headers=bearer("cashier"),
        json={"method": "cash", "amount": 128_400, "reason": "Bệnh nhân trả tiền mặt tại quầy thu ngân"})
    assert paid.status_code == 201, paid.get_json()
    after = record_of(gateway, patient["id"]).get_json()["encounters"][0]["invoices"][0]
    assert [(p["method"], p["amount"]) for p in after["payments"]] == [("cash", 128_400)]
    assert after["state"] == "paid" and after["balance_amount"] == 0


def test_charges_logged_while_billing_was_down_reach_the_bill_once_it_is_back(make_app, live_server, gateway_app,
                                                                              gateway):
    patient, visit = visit_with_three_charges(gateway)
    assert close_visit(gateway, visit["id"]).status_code == 200
    assert record_of(gateway, patient["id"]).get_json()["billing"] == {"available": False}
    live_server(make_app("billing_service"))
    with gateway_app.app_context(), gateway_app.extensions["database"].connection_context():
        OutboxMessage.update(next_attempt_at=datetime.now(UTC)).execute()  # the sweeper's backoff has passed
        sweep()
        sweep()  # a second sweep finds nothing left to send
    delivered = gateway.get("/api/v1/gateway/outbox?state=delivered", headers=bearer("finance")).get_json()
    assert len(delivered) == 5  # the visit opened and closed, and its three charges
    [invoice] = record_of(gateway, patient["id"]).get_json()["encounters"][0]["invoices"]
    assert invoice["hospital_amount"] == 112_000


def test_a_billing_service_that_hangs_does_not_hold_up_the_record(make_app, live_server, service_ports):
    hanging = Flask("hanging_billing")

    @hanging.route("/api/v1/billing/invoices")
    def slow_invoices():
        time.sleep(3)
        return []

    live_server(hanging, service_ports["billing_service"])
    gateway = make_app("gateway", RECORD_BILLING_TIMEOUT_MS=300).test_client()
    patient, _ = visit_with_three_charges(gateway)
    started = time.monotonic()
    response = record_of(gateway, patient["id"])
    assert time.monotonic() - started < 2
    assert response.status_code == 200 and response.get_json()["billing"] == {"available": False}


def test_once_finance_has_claimed_the_month_the_record_shows_the_visits_claim(billing_live, gateway):
    patient, visit = visit_with_three_charges(gateway)
    assert close_visit(gateway, visit["id"]).status_code == 200
    assert record_of(gateway, patient["id"]).get_json()["encounters"][0]["claim"] is None
    month = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%Y-%m")
    batch = gateway.post("/api/v1/billing/claim-batches", json={"period": month}, headers=bearer("finance"))
    assert batch.status_code == 201, batch.get_json()
    claim = record_of(gateway, patient["id"]).get_json()["encounters"][0]["claim"]
    assert claim["status"] == "submitted" and claim["period"] == month
    assert claim["batch_id"] == batch.get_json()["id"] and "lines" not in claim
