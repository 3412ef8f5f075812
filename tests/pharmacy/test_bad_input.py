"""A pharmacy receipt or count beyond hospital scale is refused at the door, so no report overflows afterwards."""

from common.bounds import MAX_LINE_QUANTITY, MAX_STOCK_QUANTITY
from tests.pharmacy.conftest import PHARMACIST, add_drug, days_from_today, prescribe, receive


def receipt(quantity: int, cost_amount: int, lot_number: str = "AMX2611") -> dict:
    return {"lot_number": lot_number, "expires_on": days_from_today(400), "quantity": quantity,
            "cost_amount": cost_amount, "supplier": "Công ty CP Dược Hậu Giang"}


def test_two_million_units_at_five_thousand_billion_dong_are_refused_and_the_stock_report_stays_up(pharmacy):
    drug = add_drug(pharmacy, "amoxicillin")
    receive(pharmacy, drug["code"], "AMX2601", 300, 1_000, cost_amount=800)

    absurd = pharmacy.post(f"/api/v1/pharmacy/drugs/{drug['code']}/lots", json=receipt(2_000_000, 5 * 10**12),
                           headers=PHARMACIST)

    assert absurd.status_code == 422, absurd.get_json()
    assert "cost_amount" in absurd.get_json()["errors"]
    report = pharmacy.get("/api/v1/pharmacy/stock", headers=PHARMACIST)
    assert report.status_code == 200
    [row] = [row for row in report.get_json() if row["drug_code"] == drug["code"]]
    assert (row["on_hand"], row["value_amount"]) == (1_000, 800_000)


def test_a_receipt_worth_more_than_the_ceiling_is_refused_even_at_a_plausible_unit_cost(pharmacy):
    drug = add_drug(pharmacy, "amoxicillin")
    response = pharmacy.post(f"/api/v1/pharmacy/drugs/{drug['code']}/lots",
                             json=receipt(MAX_STOCK_QUANTITY, 900_000_000), headers=PHARMACIST)
    assert response.status_code == 422
    assert "quantity" in response.get_json()["errors"]


def test_deliveries_that_would_overfill_one_lot_are_refused_with_lot_too_large(pharmacy):
    drug = add_drug(pharmacy, "amoxicillin")
    receive(pharmacy, drug["code"], "AMX2611", 400, MAX_STOCK_QUANTITY, cost_amount=1)

    again = pharmacy.post(f"/api/v1/pharmacy/drugs/{drug['code']}/lots", json=receipt(1, 1), headers=PHARMACIST)
    assert again.status_code == 422
    assert again.get_json()["code"] == "LOT_TOO_LARGE"
    lot = pharmacy.get(f"/api/v1/pharmacy/drugs/{drug['code']}", headers=PHARMACIST).get_json()["lots"][0]
    found = pharmacy.post(f"/api/v1/pharmacy/lots/{lot['id']}/adjustments",
                          json={"quantity_change": 5, "reason": "found"}, headers=PHARMACIST)
    assert found.status_code == 422 and found.get_json()["code"] == "LOT_TOO_LARGE"


def test_a_prescription_for_more_than_a_patient_line_can_hold_is_refused(pharmacy):
    drug = add_drug(pharmacy, "amoxicillin")
    body = {"encounter_id": "ENC-2026-000123", "patient_id": "BN-0001024", "prescriber": "BS. Nguyễn Văn Hùng",
            "lines": [{"drug_code": drug["code"], "quantity": MAX_LINE_QUANTITY + 1}]}
    response = pharmacy.post("/api/v1/pharmacy/prescriptions", json=body, headers=PHARMACIST)
    assert response.status_code == 422
    assert prescribe(pharmacy, [(drug["code"], 21)])["lines"][0]["quantity"] == 21


def test_a_count_with_a_float_or_past_the_ceiling_is_refused(pharmacy):
    drug = add_drug(pharmacy, "amoxicillin")
    lot = receive(pharmacy, drug["code"], "AMX2611", 400, 100)
    for counted in (99.5, "99", MAX_STOCK_QUANTITY + 1, 2**31):
        response = pharmacy.post(f"/api/v1/pharmacy/lots/{lot['id']}/counts",
                                 json={"counted_quantity": counted, "reason": "Kiểm kê cuối tháng"},
                                 headers=PHARMACIST)
        assert response.status_code == 422, counted


def test_a_scanned_gs1_code_keeps_its_group_separator_but_no_other_control_character(pharmacy):
    drug = add_drug(pharmacy, "amoxicillin")
    gtin = drug["gtin"]
    scanned = f"01{gtin}17{days_from_today(400)[2:].replace('-', '')}10AMX2611\x1d21SN0001"
    ok = pharmacy.post("/api/v1/pharmacy/lots", json={"gs1": scanned, "quantity": 100, "cost_amount": 800,
                                                     "supplier": "Công ty CP Dược Hậu Giang"}, headers=PHARMACIST)
    assert ok.status_code == 201, ok.get_json()
    bad = pharmacy.post("/api/v1/pharmacy/lots", json={"gs1": scanned.replace("\x1d", "\x00"), "quantity": 100,
                                                      "cost_amount": 800, "supplier": "Công ty CP Dược Hậu Giang"},
                        headers=PHARMACIST)
    assert bad.status_code == 422
