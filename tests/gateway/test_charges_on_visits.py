"""Every charge from lab and pharmacy lands on its visit and goes to billing with the card; none is lost or doubled."""

from datetime import UTC, datetime, timedelta

from tests.gateway.conftest import (
    CARD_80,
    TRAN_THI_BICH,
    add_card,
    close_visit,
    glucose_charge,
    metformin_charge,
    open_visit,
    outbox,
    outbox_payload,
    register,
    send_charge,
)
from tests.support import bearer, service_headers

ALWAYS_VALID = {**CARD_80, "valid_from": "2020-01-01", "valid_to": "2099-12-31"}


def insured_visit(client):
    patient = register(client)
    add_card(client, patient["id"], ALWAYS_VALID)
    return patient, open_visit(client, patient["id"])


def flagged(client) -> list[dict]:
    return client.get("/api/v1/charges?flagged=true", headers=bearer("finance")).get_json()


def test_a_lab_test_is_attached_to_the_visit_and_handed_to_billing_with_the_card(gateway_app, gateway):
    patient, visit = insured_visit(gateway)
    response = send_charge(gateway, glucose_charge(visit["id"], patient["id"]))
    assert response.status_code == 201 and response.get_json()["flag"] is None
    rows = outbox(gateway, "billing.charge")
    assert [(r["key"], r["destination"], r["path"]) for r in rows] == [
        ("billing:lab:test-run:1", "billing_service", "/internal/charges")]
    payload = outbox_payload(gateway_app, "billing:lab:test-run:1")
    assert payload["charge"]["code"] == "23.0075.1494" and payload["charge"]["amount"] == 21_500
    assert payload["charge"]["encounter_id"] == visit["id"]
    assert payload["encounter"]["id"] == visit["id"] and payload["encounter"]["patient"]["id"] == patient["id"]
    assert payload["encounter"]["coverage"]["card_number"] == "DN4010123456789"
    assert payload["encounter"]["coverage"]["benefit_level"] == 80


def test_a_resent_charge_changes_nothing(gateway):
    patient, visit = insured_visit(gateway)
    event = glucose_charge(visit["id"], patient["id"])
    assert send_charge(gateway, event).status_code == 201
    again = send_charge(gateway, event)
    assert again.status_code == 200
    assert len(outbox(gateway, "billing.charge")) == 1
    charges = gateway.get(f"/api/v1/charges?encounter_id={visit['id']}", headers=bearer("cashier")).get_json()
    assert len(charges) == 1


def test_a_self_paying_patient_is_billed_without_a_card(gateway_app, gateway):
    patient = register(gateway)
    visit = open_visit(gateway, patient["id"])
    send_charge(gateway, metformin_charge(visit["id"], patient["id"]))
    payload = outbox_payload(gateway_app, "billing:pharmacy:dispense-line:1")
    assert payload["encounter"]["coverage"] is None and payload["charge"]["amount"] == 34_500


def test_the_card_sent_with_a_charge_is_the_one_valid_on_the_day_of_the_charge(gateway_app, gateway):
    patient = register(gateway)
    add_card(gateway, patient["id"], {**CARD_80, "valid_from": "2020-01-01", "valid_to": "2025-12-31"})
    add_card(gateway, patient["id"], {**CARD_80, "card_number": "HT3010123456789", "benefit_level": 95,
                                      "valid_from": "2026-01-01", "valid_to": "2099-12-31"})
    visit = open_visit(gateway, patient["id"])
    last_year = datetime(2025, 12, 31, 16, 30, tzinfo=UTC)  # 23:30 on 31 Dec in Hà Nội
    send_charge(gateway, glucose_charge(visit["id"], patient["id"], 1, occurred_at=last_year.isoformat()))
    new_year = datetime(2025, 12, 31, 17, 30, tzinfo=UTC)  # 00:30 on 1 Jan in Hà Nội
    send_charge(gateway, glucose_charge(visit["id"], patient["id"], 2, occurred_at=new_year.isoformat()))
    cards = [outbox_payload(gateway_app, f"billing:lab:test-run:{n}")["encounter"]["coverage"]["card_number"]
             for n in (1, 2)]
    assert cards == ["DN4010123456789", "HT3010123456789"]


def test_a_charge_for_an_unknown_visit_is_kept_flagged_and_listed_for_finance(gateway):
    patient = register(gateway)
    response = send_charge(gateway, glucose_charge("98765", patient["id"]))
    assert response.status_code == 201 and response.get_json()["flag"] == "unknown_encounter"
    assert [c["key"] for c in flagged(gateway)] == ["lab:test-run:1"]
    assert outbox(gateway, "billing.charge") == []


def test_a_charge_for_another_patients_visit_is_held(gateway):
    patient, visit = insured_visit(gateway)
    other = register(gateway, TRAN_THI_BICH)
    response = send_charge(gateway, glucose_charge(visit["id"], other["id"]))
    assert response.get_json()["flag"] == "patient_mismatch"
    assert outbox(gateway, "billing.charge") == []


def test_a_charge_after_the_visit_closed_is_kept_and_flagged(gateway):
    patient, visit = insured_visit(gateway)
    close_visit(gateway, visit["id"])
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    response = send_charge(gateway, glucose_charge(visit["id"], patient["id"], occurred_at=later))
    assert response.status_code == 201 and response.get_json()["flag"] == "closed_encounter"
    assert [c["flag"] for c in flagged(gateway)] == ["closed_encounter"]
    assert outbox(gateway, "billing.charge") == []


def test_a_test_done_during_the_visit_but_delivered_after_closing_still_goes_on_its_bill(gateway):
    patient, visit = insured_visit(gateway)
    done_at = datetime.now(UTC).isoformat()
    close_visit(gateway, visit["id"])
    response = send_charge(gateway, glucose_charge(visit["id"], patient["id"], occurred_at=done_at))
    assert response.get_json()["flag"] is None
    assert [r["key"] for r in outbox(gateway, "billing.charge")] == ["billing:lab:test-run:1"]


def test_finance_puts_a_flagged_charge_on_the_right_visit_which_bills_it(gateway_app, gateway):
    patient, visit = insured_visit(gateway)
    stray = send_charge(gateway, glucose_charge("98765", patient["id"])).get_json()
    response = gateway.post(f"/api/v1/charges/{stray['id']}/attach", json={"encounter_id": visit["id"]},
                            headers=bearer("finance"))
    assert response.status_code == 200
    assert response.get_json()["flag"] is None and response.get_json()["encounter_id"] == visit["id"]
    assert flagged(gateway) == []
    assert outbox_payload(gateway_app, "billing:lab:test-run:1")["charge"]["encounter_id"] == visit["id"]
    again = gateway.post(f"/api/v1/charges/{stray['id']}/attach", json={"encounter_id": visit["id"]},
                         headers=bearer("finance"))
    assert again.status_code == 409 and again.get_json()["code"] == "CHARGE_NOT_FLAGGED"
    assert gateway.post(f"/api/v1/charges/{stray['id']}/attach", json={"encounter_id": visit["id"]},
                        headers=bearer("cashier")).status_code == 403


def reversal(charge: dict, key_suffix: str = "void", quantity: int = 1, amount: int = 21_500) -> dict:
    return {"key": f"{charge['key']}:{key_suffix}", "charge_key": charge["key"], "source": charge["source"],
            "encounter_id": charge["encounter_id"], "quantity": quantity, "amount": amount,
            "reason": "Mẫu máu bị vỡ hồng cầu, chạy lại", "occurred_at": datetime.now(UTC).isoformat()}


def send_reversal(client, event: dict):
    return client.post("/internal/charge-reversals", json=event, headers=service_headers("lab_service"))


def test_a_voided_test_is_reversed_on_the_visit_and_at_billing(gateway_app, gateway):
    patient, visit = insured_visit(gateway)
    charge = glucose_charge(visit["id"], patient["id"])
    send_charge(gateway, charge)
    assert send_reversal(gateway, reversal(charge)).status_code == 201
    assert send_reversal(gateway, reversal(charge)).status_code == 200
    rows = outbox(gateway, "billing.charge_reversed")
    assert [(r["key"], r["path"]) for r in rows] == [("billing:lab:test-run:1:void", "/internal/charge-reversals")]
    assert outbox_payload(gateway_app, "billing:lab:test-run:1:void")["amount"] == 21_500
    stored = gateway.get(f"/api/v1/charges?encounter_id={visit['id']}", headers=bearer("cashier")).get_json()[0]
    assert stored["reversed_quantity"] == 1 and stored["reversed_amount"] == 21_500


def test_a_reversal_that_overtakes_its_charge_is_applied_when_the_charge_arrives(gateway):
    patient, visit = insured_visit(gateway)
    charge = metformin_charge(visit["id"], patient["id"], quantity=30)
    returned = reversal(charge, "return:1", quantity=10, amount=11_500)
    assert send_reversal(gateway, returned).get_json()["flag"] == "unknown_charge"
    assert outbox(gateway, "billing.charge_reversed") == []
    send_charge(gateway, charge)
    stored = gateway.get(f"/api/v1/charges?encounter_id={visit['id']}", headers=bearer("cashier")).get_json()[0]
    assert stored["reversed_quantity"] == 10 and stored["reversed_amount"] == 11_500
    keys = [r["key"] for r in outbox(gateway) if r["event_type"].startswith("billing.charge")]
    assert keys == ["billing:pharmacy:dispense-line:1", "billing:pharmacy:dispense-line:1:return:1"]


def test_a_held_charge_keeps_its_reversal_until_finance_attaches_it(gateway):
    patient, visit = insured_visit(gateway)
    charge = glucose_charge("98765", patient["id"])
    stray = send_charge(gateway, charge).get_json()
    send_reversal(gateway, reversal(charge))
    assert [r for r in outbox(gateway) if r["event_type"].startswith("billing.charge")] == []
    gateway.post(f"/api/v1/charges/{stray['id']}/attach", json={"encounter_id": visit["id"]},
                 headers=bearer("finance"))
    keys = [r["key"] for r in outbox(gateway) if r["event_type"].startswith("billing.charge")]
    assert keys == ["billing:lab:test-run:1", "billing:lab:test-run:1:void"]


def test_charges_are_only_taken_from_services(gateway):
    patient, visit = insured_visit(gateway)
    response = gateway.post("/internal/charges", json=glucose_charge(visit["id"], patient["id"]),
                            headers=bearer("admin"))
    assert response.status_code == 401 and response.get_json()["code"] == "SERVICE_TOKEN_REQUIRED"


def test_a_return_of_more_than_was_dispensed_is_held_for_finance_not_billed(gateway):
    patient, visit = insured_visit(gateway)
    charge = metformin_charge(visit["id"], patient["id"], quantity=30)
    send_charge(gateway, charge)
    too_many = reversal(charge, "return:1", quantity=40, amount=46_000)
    assert send_reversal(gateway, too_many).get_json()["flag"] == "exceeds_charge"
    assert outbox(gateway, "billing.charge_reversed") == []
    stored = gateway.get(f"/api/v1/charges?encounter_id={visit['id']}", headers=bearer("cashier")).get_json()[0]
    assert stored["reversed_quantity"] == 0
    held = gateway.get("/api/v1/charge-reversals?flagged=true", headers=bearer("finance")).get_json()
    assert [(r["key"], r["flag"]) for r in held] == [("pharmacy:dispense-line:1:return:1", "exceeds_charge")]


def test_one_batch_of_charges_is_treated_as_each_charge_alone(gateway_app, gateway):
    """A delivery of many charges (read together, inserted together on PostgreSQL) ends as if each had come alone:
    billed on its visit, flagged when it cannot be, a resend and a twice-sent key stored once, and a reversal that
    overtook its charge applied."""
    patient, visit = insured_visit(gateway)
    other = register(gateway, TRAN_THI_BICH)
    already = glucose_charge(visit["id"], patient["id"], 1)
    assert send_charge(gateway, already).status_code == 201
    overtaken = metformin_charge(visit["id"], patient["id"], quantity=30)
    assert send_reversal(gateway, reversal(overtaken, "return:1", quantity=10, amount=11_500)).status_code == 201
    events = [already, glucose_charge(visit["id"], patient["id"], 2), overtaken,
              glucose_charge(visit["id"], other["id"], 3), glucose_charge("987654", patient["id"], 4),
              glucose_charge(visit["id"], patient["id"], 2)]
    batch = {"events": [{"key": e["key"], "path": "/internal/charges", "payload": e} for e in events]}
    response = gateway.post("/internal/events", json=batch, headers=service_headers("lab_service"))
    assert [r["status"] for r in response.get_json()["results"]] == [200, 201, 201, 201, 201, 200]
    billed = [r["key"] for r in outbox(gateway) if r["event_type"].startswith("billing.charge")]
    assert billed == ["billing:lab:test-run:1", "billing:lab:test-run:2", "billing:pharmacy:dispense-line:1",
                      "billing:pharmacy:dispense-line:1:return:1"]
    held = {c["key"]: c["flag"] for c in flagged(gateway)}
    assert held == {"lab:test-run:3": "patient_mismatch", "lab:test-run:4": "unknown_encounter"}
    stored = gateway.get(f"/api/v1/charges?encounter_id={visit['id']}", headers=bearer("cashier")).get_json()
    assert sorted(c["key"] for c in stored) == ["lab:test-run:1", "lab:test-run:2", "lab:test-run:3",
                                                "pharmacy:dispense-line:1"]
    metformin = next(c for c in stored if c["key"] == "pharmacy:dispense-line:1")
    assert (metformin["reversed_quantity"], metformin["reversed_amount"]) == (10, 11_500)
