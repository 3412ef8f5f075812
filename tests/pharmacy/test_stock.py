"""Counts, adjustments, quarantine and the stock card: every change is a ledger line and the ledger balances."""

import pytest

from tests.pharmacy.conftest import PHARMACIST, add_drug, dispense, lots_on_hand, prescribe, receive


@pytest.fixture
def paracetamol_lot(pharmacy):
    code = add_drug(pharmacy, "paracetamol")["code"]
    return receive(pharmacy, code, "PCM2712G", expires_in_days=500, quantity=1_000, cost_amount=280)


def post(pharmacy, path: str, body: dict):
    return pharmacy.post(f"/api/v1/pharmacy{path}", json=body, headers=PHARMACIST)


def test_a_count_that_finds_fewer_tablets_books_the_difference(pharmacy, paracetamol_lot):
    response = post(pharmacy, f"/lots/{paracetamol_lot['id']}/counts",
                    {"counted_quantity": 985, "reason": "Kiểm kê cuối tháng 11/2026"})

    assert response.status_code == 201
    entry = response.get_json()
    assert (entry["kind"], entry["quantity_change"], entry["balance_after"]) == ("count", -15, 985)
    assert entry["balance_before"] == 1_000  # what the book said: the screens show it beside the count
    assert lots_on_hand(pharmacy, "40.51") == {"PCM2712G": 985}


def test_an_adjustment_needs_a_known_reason_and_cannot_go_below_zero(pharmacy, paracetamol_lot):
    path = f"/lots/{paracetamol_lot['id']}/adjustments"
    assert post(pharmacy, path, {"quantity_change": -20, "reason": "damaged", "note": "Vỉ bị rách khi vận chuyển"}
                ).status_code == 201
    assert post(pharmacy, path, {"quantity_change": -5, "reason": "felt like it"}).status_code == 422
    assert post(pharmacy, path, {"quantity_change": 0, "reason": "found"}).status_code == 422

    too_many = post(pharmacy, path, {"quantity_change": -2_000, "reason": "lost"})

    assert too_many.status_code == 409 and too_many.get_json()["code"] == "INSUFFICIENT_STOCK"
    assert lots_on_hand(pharmacy, "40.51") == {"PCM2712G": 980}


def test_a_quarantined_lot_is_held_back_until_released(pharmacy, paracetamol_lot):
    lot_id = paracetamol_lot["id"]
    prescription = prescribe(pharmacy, [("40.51", 20)])
    assert post(pharmacy, f"/lots/{lot_id}/quarantine", {"reason": "Nghi ngờ biến màu"}).get_json()["status"] == \
        "quarantined"
    assert dispense(pharmacy, prescription).status_code == 409
    again = post(pharmacy, f"/lots/{lot_id}/quarantine", {"reason": "again"})
    assert again.status_code == 409 and again.get_json()["code"] == "LOT_STATUS_CONFLICT"

    assert post(pharmacy, f"/lots/{lot_id}/release", {"reason": "Kiểm nghiệm đạt"}).get_json()["status"] == \
        "available"
    assert dispense(pharmacy, prescription).status_code == 201


def test_the_stock_card_tells_the_whole_story_and_balances(pharmacy, paracetamol_lot):
    lot_id = paracetamol_lot["id"]
    receive(pharmacy, "40.51", "PCM2801H", expires_in_days=700, quantity=500, cost_amount=300)
    dispense(pharmacy, prescribe(pharmacy, [("40.51", 30)]))
    post(pharmacy, f"/lots/{lot_id}/adjustments", {"quantity_change": -10, "reason": "damaged"})
    post(pharmacy, f"/lots/{lot_id}/counts", {"counted_quantity": 962, "reason": "Kiểm kê đột xuất"})

    card = pharmacy.get("/api/v1/pharmacy/drugs/40.51/ledger", headers=PHARMACIST).get_json()

    assert [(e["kind"], e["quantity_change"]) for e in reversed(card)] == [
        ("receipt", 1_000), ("receipt", 500), ("dispense", -30), ("adjustment", -10), ("count", 2)]
    assert card[0]["drug_balance_after"] == 1_462 == sum(e["quantity_change"] for e in card)
    assert card[0]["actor"] == "pharmacist" and card[2]["reference"].startswith("dispense:")
    stock = pharmacy.get("/api/v1/pharmacy/stock", headers=PHARMACIST).get_json()
    assert stock == [{"drug_code": "40.51", "name": "Paracetamol", "strength": "500 mg", "base_unit": "tablet",
                      "on_hand": 1_462, "usable": 1_462, "quarantined": 0, "value_amount": 962 * 280 + 500 * 300,
                      "reorder_level": 1_000, "below_reorder": False}]


def test_an_unknown_lot_or_drug_is_a_404(pharmacy):
    assert post(pharmacy, "/lots/999/counts", {"counted_quantity": 1, "reason": "x"}).get_json()["code"] == \
        "LOT_NOT_FOUND"
    assert pharmacy.get("/api/v1/pharmacy/drugs/40.999/ledger", headers=PHARMACIST).get_json()["code"] == \
        "DRUG_NOT_FOUND"


def test_a_receipt_on_the_stock_card_says_its_supplier_as_a_code_for_the_screens(pharmacy, paracetamol_lot):
    card = pharmacy.get("/api/v1/pharmacy/drugs/" + paracetamol_lot["drug_code"] + "/ledger",
                        headers=PHARMACIST).get_json()
    receipt = next(entry for entry in card if entry["kind"] == "receipt")
    assert receipt["reason"].startswith("Received from ")  # as chained, for API clients
    assert receipt["reason_code"] == "received_from"
    assert receipt["reason_params"] == {"supplier": receipt["reason"].removeprefix("Received from ")}
    count = post(pharmacy, f"/lots/{paracetamol_lot['id']}/counts", {"counted_quantity": 999, "reason": "Kiểm kê"})
    assert count.get_json()["reason_code"] is None  # a person's reason has no code
