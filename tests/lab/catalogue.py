"""Realistic lab catalogue data for the tests, and small helpers that set it up through the HTTP API."""

from datetime import date, timedelta

from tests.support import bearer

HEAD = bearer("lab_head")
TECH = bearer("lab_tech")
NEXT_YEAR = (date.today() + timedelta(days=365)).isoformat()

GLUCOSE_REAGENT = {"code": "GLU-R1", "name": "Glucose GOD-PAP R1", "manufacturer": "Roche Diagnostics",
                   "base_unit": "uL", "reorder_level": 0, "unit_cost_amount": 15}
UREA_REAGENT = {"code": "UREA-R1", "name": "Urea/BUN UV kinetic R1", "manufacturer": "Beckman Coulter",
                "base_unit": "uL", "unit_cost_amount": 20}
HBA1C_REAGENT = {"code": "HBA1C-KIT", "name": "HbA1c Tina-quant Gen.3", "manufacturer": "Roche Diagnostics",
                 "base_unit": "test", "requires_qc_release": True, "stability_days_after_opening": 28,
                 "unit_cost_amount": 38_000}
GLUCOSE_TEST = {"code": "GLU", "name": "Định lượng Glucose [Máu]", "loinc": "2345-7",
                "service_code": "23.0075.1494", "price_amount": 21_500, "insurance_price_amount": 21_500,
                "insurance_covered": True, "recipe": [{"reagent_code": "GLU-R1", "quantity": 200}]}
UREA_TEST = {"code": "UREA", "name": "Định lượng Urê máu [Máu]", "loinc": "3094-0", "service_code": "23.0166.1494",
             "price_amount": 21_500, "insurance_price_amount": 21_500, "insurance_covered": True,
             "recipe": [{"reagent_code": "UREA-R1", "quantity": 150}]}
HBA1C_TEST = {"code": "HBA1C", "name": "Định lượng HbA1c [Máu]", "loinc": "4548-4", "service_code": "23.0083.1523",
              "price_amount": 101_000, "insurance_price_amount": 101_000, "insurance_covered": True,
              "recipe": [{"reagent_code": "HBA1C-KIT", "quantity": 1}]}
AU480 = {"code": "AU480", "name": "Beckman Coulter AU480", "manufacturer": "Beckman Coulter"}
VISIT = {"encounter_id": "ENC-2026-000123", "patient_id": "BN-0001234"}


def ok(response, status=200):
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def add_reagent(client, reagent: dict, **changes):
    return ok(client.post("/api/v1/lab/reagents", json={**reagent, **changes}, headers=HEAD), 201)


def add_test(client, lab_test: dict, **changes):
    return ok(client.post("/api/v1/lab/tests", json={**lab_test, **changes}, headers=HEAD), 201)


def receive(client, reagent_code: str, lot_number: str, quantity: int, expires_on: str = NEXT_YEAR, **extra):
    body = {"lot_number": lot_number, "expires_on": expires_on, "quantity": quantity,
            "supplier": "Công ty TNHH Thiết bị Y tế Việt Đức", **extra}
    return ok(client.post(f"/api/v1/lab/reagents/{reagent_code}/lots", json=body, headers=HEAD), 201)


def log_test(client, test_code: str = "GLU", headers=TECH, **extra):
    return client.post("/api/v1/lab/test-runs", json={**VISIT, "test_code": test_code, **extra}, headers=headers)


def glucose_in_stock(client, *lots: tuple[str, int, str]):
    """Glucose reagent and test in the catalogue, with the given (lot_number, quantity, expires_on) lots."""
    add_reagent(client, GLUCOSE_REAGENT)
    add_test(client, GLUCOSE_TEST)
    return [receive(client, "GLU-R1", number, quantity, expires_on) for number, quantity, expires_on in lots]


def stock_of(client, reagent_code: str = "GLU-R1") -> dict:
    return ok(client.get(f"/api/v1/lab/reagents/{reagent_code}", headers=TECH))


def on_hand_by_lot(client, reagent_code: str = "GLU-R1") -> dict:
    return {lot["lot_number"]: lot["book_quantity"] for lot in stock_of(client, reagent_code)["lots"]}
