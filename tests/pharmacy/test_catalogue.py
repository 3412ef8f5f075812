"""The formulary and receiving: drugs with BHYT/ATC/GTIN codes, lots typed in or scanned from a GS1 DataMatrix."""

import pytest

from seeds.pharmacy_service import DRUGS
from tests.pharmacy.conftest import PHARMACIST, add_drug, days_from_today, receive
from tests.support import bearer

GS = "\x1d"


def test_a_pharmacist_adds_amoxicillin_to_the_formulary(pharmacy):
    drug = add_drug(pharmacy, "amoxicillin")
    assert drug["code"] == "40.158" and drug["atc_code"] == "J01CA04"
    assert drug["gtin"] == "08936000110017"  # stored as the GTIN-14 a scanner reads
    listed = pharmacy.get("/api/v1/pharmacy/drugs", headers=PHARMACIST).get_json()
    assert [d["code"] for d in listed] == ["40.158"]


def test_the_same_bhyt_code_twice_is_a_409(pharmacy):
    add_drug(pharmacy, "amoxicillin")
    response = pharmacy.post("/api/v1/pharmacy/drugs", json={**DRUGS["amoxicillin"], "gtin": None},
                             headers=PHARMACIST)
    assert response.status_code == 409 and response.get_json()["code"] == "DRUG_EXISTS"


@pytest.mark.parametrize("field,value", [
    ("atc_code", "J01CA"), ("gtin", "8936000110018"), ("price_amount", 1050.5), ("insurance_scope", 3),
    ("insurance_rate", 120),
])
def test_a_drug_with_a_bad_code_price_or_rate_is_a_422(pharmacy, field, value):
    response = pharmacy.post("/api/v1/pharmacy/drugs", json={**DRUGS["paracetamol"], field: value},
                             headers=PHARMACIST)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_receiving_a_typed_lot_puts_it_on_the_shelf_and_the_stock_card(pharmacy):
    code = add_drug(pharmacy, "ceftriaxone")["code"]
    lot = receive(pharmacy, code, "CEF2606A", expires_in_days=200, quantity=120, cost_amount=14_300,
                  supplier="Công ty CP Dược phẩm Trung ương 1 - Pharbaco")
    assert (lot["quantity_on_hand"], lot["unit_cost_amount"], lot["status"]) == (120, 14_300, "available")

    drug = pharmacy.get(f"/api/v1/pharmacy/drugs/{code}", headers=PHARMACIST).get_json()
    assert drug["on_hand"] == 120 and drug["lots"][0]["lot_number"] == "CEF2606A"
    card = pharmacy.get(f"/api/v1/pharmacy/drugs/{code}/ledger", headers=PHARMACIST).get_json()
    assert [(e["kind"], e["quantity_change"], e["drug_balance_after"]) for e in card] == [("receipt", 120, 120)]


def test_a_second_delivery_of_the_same_lot_adds_to_it(pharmacy):
    code = add_drug(pharmacy, "paracetamol")["code"]
    receive(pharmacy, code, "PCM2712G", expires_in_days=500, quantity=1_000)
    lot = receive(pharmacy, code, "PCM2712G", expires_in_days=500, quantity=500)
    assert (lot["quantity_on_hand"], lot["quantity_received"]) == (1_500, 1_500)


def test_the_same_lot_with_another_expiry_is_a_409(pharmacy):
    code = add_drug(pharmacy, "paracetamol")["code"]
    receive(pharmacy, code, "PCM2712G", expires_in_days=500, quantity=1_000)
    body = {"lot_number": "PCM2712G", "expires_on": days_from_today(400), "quantity": 10, "cost_amount": 280,
            "supplier": "Công ty CP Traphaco"}
    response = pharmacy.post(f"/api/v1/pharmacy/drugs/{code}/lots", json=body, headers=PHARMACIST)
    assert response.status_code == 409 and response.get_json()["code"] == "LOT_EXPIRY_MISMATCH"


def test_an_already_expired_lot_cannot_be_received(pharmacy):
    code = add_drug(pharmacy, "paracetamol")["code"]
    body = {"lot_number": "PCM2401A", "expires_on": days_from_today(-3), "quantity": 10, "cost_amount": 280,
            "supplier": "Công ty CP Traphaco"}
    response = pharmacy.post(f"/api/v1/pharmacy/drugs/{code}/lots", json=body, headers=PHARMACIST)
    assert response.status_code == 422 and response.get_json()["code"] == "LOT_EXPIRED"


def scanned(gtin: str, expires_yymmdd: str, lot: str, serial: str = "") -> str:
    """The raw text a 2D scanner sends for a pack's GS1 DataMatrix."""
    return f"]d201{gtin}17{expires_yymmdd}10{lot}{GS}21{serial}" if serial else f"]d201{gtin}17{expires_yymmdd}10{lot}"


def yymmdd(days: int) -> str:
    iso = days_from_today(days)
    return iso[2:4] + iso[5:7] + iso[8:10]


def test_scanning_the_pack_fills_lot_expiry_and_finds_the_drug_by_gtin(pharmacy):
    code = add_drug(pharmacy, "amlodipine")["code"]
    body = {"gs1": scanned("08936000110048", yymmdd(365), "AML2611C", serial="SN7730021"), "quantity": 300,
            "cost_amount": 380, "supplier": "Công ty CP Pymepharco"}

    by_url = pharmacy.post(f"/api/v1/pharmacy/drugs/{code}/lots", json=body, headers=PHARMACIST)
    by_scan_alone = pharmacy.post("/api/v1/pharmacy/lots", json=body, headers=PHARMACIST)

    assert by_url.status_code == by_scan_alone.status_code == 201
    lot = by_scan_alone.get_json()
    assert (lot["drug_code"], lot["lot_number"], lot["expires_on"]) == (code, "AML2611C", days_from_today(365))
    assert lot["quantity_on_hand"] == 600
    card = pharmacy.get(f"/api/v1/pharmacy/drugs/{code}/ledger", headers=PHARMACIST).get_json()
    assert card[0]["reference"] == "gs1-serial:SN7730021"


@pytest.mark.parametrize("text,code", [
    (scanned("08936000110994", "271231", "X1"), "UNKNOWN_GTIN"),
    (scanned("08936000110995", "271231", "X1"), "GS1_INVALID"),
    ("]d20108936000110048", "GS1_INCOMPLETE"),
])
def test_a_scan_that_matches_no_drug_or_is_broken_is_a_422(pharmacy, text, code):
    add_drug(pharmacy, "amlodipine")
    body = {"gs1": text, "quantity": 10, "cost_amount": 380, "supplier": "Công ty CP Pymepharco"}
    response = pharmacy.post("/api/v1/pharmacy/lots", json=body, headers=PHARMACIST)
    assert response.status_code == 422 and response.get_json()["code"] == code


def test_a_scan_of_another_drug_under_this_drug_is_a_422(pharmacy):
    add_drug(pharmacy, "amlodipine")
    losartan = add_drug(pharmacy, "losartan")["code"]
    body = {"gs1": scanned("08936000110048", yymmdd(300), "AML1"), "quantity": 10, "cost_amount": 380,
            "supplier": "Công ty CP Pymepharco"}
    response = pharmacy.post(f"/api/v1/pharmacy/drugs/{losartan}/lots", json=body, headers=PHARMACIST)
    assert response.status_code == 422 and response.get_json()["code"] == "GTIN_MISMATCH"


def test_a_lot_needs_a_number_and_expiry_or_a_scan(pharmacy):
    code = add_drug(pharmacy, "amlodipine")["code"]
    body = {"quantity": 10, "cost_amount": 380, "supplier": "Công ty CP Pymepharco"}
    response = pharmacy.post(f"/api/v1/pharmacy/drugs/{code}/lots", json=body, headers=PHARMACIST)
    assert response.status_code == 422 and "lot_number" in response.get_json()["errors"]


def test_the_cashier_cannot_receive_stock(pharmacy):
    code = add_drug(pharmacy, "amlodipine")["code"]
    body = {"lot_number": "AML1", "expires_on": days_from_today(300), "quantity": 10, "cost_amount": 380,
            "supplier": "Công ty CP Pymepharco"}
    response = pharmacy.post(f"/api/v1/pharmacy/drugs/{code}/lots", json=body, headers=bearer("cashier"))
    assert response.status_code == 403


def test_the_demo_formulary_loads_with_two_lots_per_drug(pharmacy_app, pharmacy):
    from seeds import seed_service

    with pharmacy_app.app_context():
        assert seed_service("pharmacy_service") is True
        assert seed_service("pharmacy_service") is False
    stock = pharmacy.get("/api/v1/pharmacy/stock", headers=PHARMACIST).get_json()
    assert len(stock) == len(DRUGS)
    assert all(row["usable"] > row["reorder_level"] and row["value_amount"] > 0 for row in stock)
