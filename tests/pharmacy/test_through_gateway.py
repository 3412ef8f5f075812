"""The pharmacist's day through the public API: every call goes through the gateway, as the apps use it."""

from seeds.pharmacy_service import DRUGS
from tests.pharmacy.conftest import days_from_today
from tests.support import bearer, wait_until

PHARMACIST = bearer("pharmacist", ttl=3600)


def test_receive_prescribe_dispense_return_and_bill_through_the_gateway(make_app, live_server):
    pharmacy_app = make_app("pharmacy_service")
    live_server(pharmacy_app)
    gateway_app = make_app("gateway")
    live_server(gateway_app)  # the pharmacy's outbox delivers charges to it
    api = gateway_app.test_client()
    for name in ("amoxicillin", "paracetamol", "omeprazole"):
        assert api.post("/api/v1/pharmacy/drugs", json=DRUGS[name], headers=PHARMACIST).status_code == 201
    for code, lot in (("40.158", "AMX2609D"), ("40.51", "PCM2612E"), ("40.738", "OME2610F")):
        body = {"lot_number": lot, "expires_on": days_from_today(300), "quantity": 200, "cost_amount": 300,
                "supplier": "Công ty CP Dược Hậu Giang"}
        assert api.post(f"/api/v1/pharmacy/drugs/{code}/lots", json=body, headers=PHARMACIST).status_code == 201
    prescription = api.post("/api/v1/pharmacy/prescriptions", headers=PHARMACIST, json={
        "encounter_id": "ENC-2026-031415", "patient_id": "BN-0092653", "prescriber": "BS. Võ Minh Tuấn",
        "lines": [{"drug_code": "40.158", "quantity": 21, "instructions": "Uống 1 viên x 3 lần/ngày, 7 ngày"},
                  {"drug_code": "40.51", "quantity": 10, "instructions": "Uống khi sốt trên 38,5 °C"},
                  {"drug_code": "40.738", "quantity": 14, "instructions": "Uống trước ăn sáng 30 phút"}]}).get_json()
    lines = [{"line_id": line["id"], "quantity": line["quantity"]} for line in prescription["lines"]]

    dispensed = api.post(f"/api/v1/pharmacy/prescriptions/{prescription['id']}/dispenses", json={"lines": lines},
                         headers={**PHARMACIST, "Idempotency-Key": "ENC-2026-031415:rx-1"})
    assert dispensed.status_code == 201, dispensed.get_json()
    record = dispensed.get_json()
    assert record["total_amount"] == 21 * 1_050 + 10 * 350 + 14 * 800
    returned = api.post(f"/api/v1/pharmacy/dispenses/{record['id']}/returns", headers=PHARMACIST, json={
        "lines": [{"line_id": record["lines"][1]["id"], "quantity": 4}], "reason": "Bệnh nhân hết sốt"})
    assert returned.status_code == 201

    def billed():
        charges = api.get("/api/v1/charges?encounter_id=ENC-2026-031415", headers=bearer("cashier")).get_json()
        return charges if len(charges) == 3 and any(c["reversed_quantity"] for c in charges) else None

    charges = wait_until(billed, timeout=10, message="the charges and the reversal at the gateway")
    assert sum(c["amount"] - c["reversed_amount"] for c in charges) == record["total_amount"] - 4 * 350
    shown = api.get(f"/api/v1/pharmacy/dispenses/{record['id']}", headers=PHARMACIST).get_json()
    assert shown["lines"][1]["quantity_returned"] == 4
    stock = {row["drug_code"]: row["on_hand"] for row in api.get("/api/v1/pharmacy/stock",
                                                                  headers=PHARMACIST).get_json()}
    assert stock == {"40.158": 179, "40.51": 194, "40.738": 186}
    audit = api.get("/api/v1/audit?actor=pharmacist", headers=bearer("admin")).get_json()
    assert any(entry["action"].endswith("/dispenses") and entry["status_code"] == 201 for entry in audit)
