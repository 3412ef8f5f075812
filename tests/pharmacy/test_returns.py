"""Returns: drugs go back to the lot they came from (quarantine if it expired or was recalled), charges reversed."""

import pytest

from tests.pharmacy.conftest import (
    PHARMACIST,
    add_drug,
    charges_of,
    dispense,
    let_lot_expire,
    lots_on_hand,
    pending_events,
    prescribe,
    receive,
)


@pytest.fixture
def dispensed(pharmacy):
    """21 amoxicillin capsules (15 from lot A, 6 from lot B) and 2 insulin pens dispensed to one visit."""
    amoxicillin = add_drug(pharmacy, "amoxicillin")["code"]
    insulin = add_drug(pharmacy, "insulin_glargine")["code"]
    lot_a = receive(pharmacy, amoxicillin, "AMX2605A", expires_in_days=120, quantity=15)
    lot_b = receive(pharmacy, amoxicillin, "AMX2611B", expires_in_days=400, quantity=100)
    receive(pharmacy, insulin, "LAN2609A", expires_in_days=300, quantity=10, cost_amount=198_000)
    prescription = prescribe(pharmacy, [(amoxicillin, 21), (insulin, 2)], encounter_id="ENC-2026-000777")
    record = dispense(pharmacy, prescription).get_json()
    return {"dispense": record, "lots": (lot_a, lot_b), "amoxicillin": amoxicillin, "insulin": insulin,
            "amox_line": record["lines"][0]["id"], "insulin_line": record["lines"][1]["id"]}


def give_back(pharmacy, dispense_id: int, lines: list[dict], reason: str = "Bệnh nhân đổi phác đồ điều trị"):
    return pharmacy.post(f"/api/v1/pharmacy/dispenses/{dispense_id}/returns", json={"lines": lines, "reason": reason},
                         headers=PHARMACIST)


def test_returned_capsules_go_back_to_the_lot_they_came_from(pharmacy, dispensed):
    response = give_back(pharmacy, dispensed["dispense"]["id"], [{"line_id": dispensed["amox_line"], "quantity": 7}])

    assert response.status_code == 201, response.get_json()
    line = response.get_json()["lines"][0]
    lot_a, lot_b = dispensed["lots"]
    assert line["amount"] == 7 * 1_050
    assert [(lot["lot_id"], lot["quantity"], lot["bucket"]) for lot in line["lots"]] == [
        (lot_b["id"], 6, "shelf"), (lot_a["id"], 1, "shelf")]
    assert lots_on_hand(pharmacy, dispensed["amoxicillin"]) == {"AMX2605A": 1, "AMX2611B": 100}


def test_a_return_reverses_the_charge_for_the_returned_quantity(pharmacy, dispensed):
    give_back(pharmacy, dispensed["dispense"]["id"], [{"line_id": dispensed["insulin_line"], "quantity": 1}])

    reversal = pending_events(pharmacy, "charge.reversed")[0]
    assert reversal["charge_key"] == f"pharmacy:dispense-line:{dispensed['insulin_line']}"
    assert (reversal["quantity"], reversal["amount"], reversal["encounter_id"]) == (1, 235_000, "ENC-2026-000777")
    assert reversal["reason"] == "Bệnh nhân đổi phác đồ điều trị"


def test_returning_more_than_was_dispensed_is_a_422(pharmacy, dispensed):
    dispense_id = dispensed["dispense"]["id"]
    assert give_back(pharmacy, dispense_id, [{"line_id": dispensed["insulin_line"], "quantity": 1}]).status_code == 201

    response = give_back(pharmacy, dispense_id, [{"line_id": dispensed["insulin_line"], "quantity": 2}])

    assert response.status_code == 422
    assert response.get_json()["code"] == "RETURN_EXCEEDS_DISPENSED" and response.get_json()["returnable"] == 1
    assert len(pending_events(pharmacy, "charge.reversed")) == 1


def test_returns_to_an_expired_lot_go_to_quarantine_not_the_shelf(pharmacy_app, pharmacy, dispensed):
    lot_a, _ = dispensed["lots"]
    let_lot_expire(pharmacy_app, lot_a["id"])

    response = give_back(pharmacy, dispensed["dispense"]["id"],
                         [{"line_id": dispensed["amox_line"], "quantity": 10, "lot_id": lot_a["id"]}])

    assert response.status_code == 201
    assert response.get_json()["lines"][0]["lots"] == [{"lot_id": lot_a["id"], "quantity": 10, "bucket": "quarantine"}]
    lot = pharmacy.get(f"/api/v1/pharmacy/lots/{lot_a['id']}", headers=PHARMACIST).get_json()
    assert (lot["quantity_on_hand"], lot["quantity_quarantined"]) == (0, 10)


def test_returns_to_a_recalled_lot_go_to_quarantine(pharmacy, dispensed):
    _, lot_b = dispensed["lots"]
    pharmacy.post(f"/api/v1/pharmacy/lots/{lot_b['id']}/recall", json={"reason": "Không đạt độ hòa tan"},
                  headers=PHARMACIST)

    give_back(pharmacy, dispensed["dispense"]["id"], [{"line_id": dispensed["amox_line"], "quantity": 6}])

    lot = pharmacy.get(f"/api/v1/pharmacy/lots/{lot_b['id']}", headers=PHARMACIST).get_json()
    assert (lot["quantity_on_hand"], lot["quantity_quarantined"]) == (94, 6)
    stock = {row["drug_code"]: row for row in pharmacy.get("/api/v1/pharmacy/stock", headers=PHARMACIST).get_json()}
    assert stock[dispensed["amoxicillin"]]["usable"] == 0 and stock[dispensed["amoxicillin"]]["quarantined"] == 6


def test_naming_a_lot_the_line_did_not_come_from_is_a_422(pharmacy, dispensed):
    lot_a, _ = dispensed["lots"]
    response = give_back(pharmacy, dispensed["dispense"]["id"],
                         [{"line_id": dispensed["amox_line"], "quantity": 16, "lot_id": lot_a["id"]}])
    assert response.status_code == 422 and response.get_json()["code"] == "RETURN_EXCEEDS_DISPENSED"
    assert lots_on_hand(pharmacy, dispensed["amoxicillin"]) == {"AMX2605A": 0, "AMX2611B": 94}


def test_the_returned_charge_shows_at_the_gateway(gateway, pharmacy, dispensed):
    give_back(pharmacy, dispensed["dispense"]["id"], [{"line_id": dispensed["amox_line"], "quantity": 7}])

    charges = charges_of(gateway, "ENC-2026-000777")
    amox = next(c for c in charges if c["code"] == dispensed["amoxicillin"])
    assert (amox["quantity"], amox["reversed_quantity"], amox["reversed_amount"]) == (21, 7, 7 * 1_050)
