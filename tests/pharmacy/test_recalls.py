"""A recall reaches the patient: the lot is blocked at once, its recipients are listed, their visits are flagged."""

import pytest

from tests.pharmacy.conftest import PHARMACIST, add_drug, dispense, lots_on_hand, pending_events, prescribe, receive
from tests.support import bearer

LE_THI_HOA = {"full_name": "Lê Thị Hoa", "birth_date": "1975-06-02", "sex": "female", "cccd": "048175006789",
              "phone": "0935123987", "address": "27 Trần Phú, Phường Hải Châu 1, Quận Hải Châu, Đà Nẵng"}
PHAM_VAN_DUC = {"full_name": "Phạm Văn Đức", "birth_date": "1960-09-20", "sex": "male", "cccd": "001060002468",
                "phone": "0987654321", "address": "8 Phố Huế, Phường Ngô Thì Nhậm, Quận Hai Bà Trưng, Hà Nội"}
RECALL_REASON = "Cục Quản lý Dược thu hồi: không đạt chỉ tiêu độ hòa tan (công văn 1234/QLD-CL)"


def recall(pharmacy, lot_id: int, reason: str = RECALL_REASON):
    return pharmacy.post(f"/api/v1/pharmacy/lots/{lot_id}/recall", json={"reason": reason}, headers=PHARMACIST)


@pytest.fixture
def amlodipine_lots(pharmacy):
    code = add_drug(pharmacy, "amlodipine")["code"]
    bad = receive(pharmacy, code, "AML2604K", expires_in_days=150, quantity=60, cost_amount=380)
    good = receive(pharmacy, code, "AML2612L", expires_in_days=420, quantity=500, cost_amount=380)
    return code, bad, good


def test_a_recalled_lot_is_blocked_at_once(pharmacy, amlodipine_lots):
    code, bad, _ = amlodipine_lots

    response = recall(pharmacy, bad["id"])

    assert response.status_code == 201
    lot = pharmacy.get(f"/api/v1/pharmacy/lots/{bad['id']}", headers=PHARMACIST).get_json()
    assert (lot["status"], lot["status_reason"]) == ("recalled", RECALL_REASON)
    picked = dispense(pharmacy, prescribe(pharmacy, [(code, 30)])).get_json()["lines"][0]["lots"]
    assert [lot["lot_number"] for lot in picked] == ["AML2612L"]
    again = recall(pharmacy, bad["id"])
    assert again.status_code == 409 and again.get_json()["code"] == "LOT_ALREADY_RECALLED"


def test_the_recall_lists_every_patient_and_visit_that_received_the_lot(pharmacy, amlodipine_lots):
    code, bad, _ = amlodipine_lots
    dispense(pharmacy, prescribe(pharmacy, [(code, 30)], encounter_id="ENC-1001", patient_id="BN-501"))
    dispense(pharmacy, prescribe(pharmacy, [(code, 20)], encounter_id="ENC-1002", patient_id="BN-502"))
    dispense(pharmacy, prescribe(pharmacy, [(code, 30)], encounter_id="ENC-1003", patient_id="BN-503"))  # 10 + 20

    body = recall(pharmacy, bad["id"]).get_json()

    assert [(r["patient_id"], r["encounter_id"], r["quantity"]) for r in body["recipients"]] == [
        ("BN-501", "ENC-1001", 30), ("BN-502", "ENC-1002", 20), ("BN-503", "ENC-1003", 10)]
    assert body["flagged_encounters"] == 3
    listed = pharmacy.get(f"/api/v1/pharmacy/lots/{bad['id']}/recipients", headers=PHARMACIST).get_json()
    assert listed == body["recipients"]
    flags = pending_events(pharmacy, "encounter.flagged")
    assert [(f["encounter_id"], f["kind"], f["details"]["quantity"]) for f in flags] == [
        ("ENC-1001", "drug_recall", 30), ("ENC-1002", "drug_recall", 20), ("ENC-1003", "drug_recall", 10)]
    assert "AML2604K" in flags[0]["message"] and flags[0]["details"]["recall_reason"] == RECALL_REASON
    outbox = pharmacy.get("/api/v1/pharmacy/outbox", headers=PHARMACIST).get_json()
    assert sum(1 for row in outbox if row["event_type"] == "encounter.flagged") == 3


def test_a_visit_that_gave_everything_back_is_listed_but_not_flagged(pharmacy, amlodipine_lots):
    code, bad, _ = amlodipine_lots
    record = dispense(pharmacy, prescribe(pharmacy, [(code, 30)], encounter_id="ENC-1001")).get_json()
    pharmacy.post(f"/api/v1/pharmacy/dispenses/{record['id']}/returns", headers=PHARMACIST,
                  json={"lines": [{"line_id": record["lines"][0]["id"], "quantity": 30}], "reason": "Đổi thuốc"})

    body = recall(pharmacy, bad["id"]).get_json()

    assert [(r["quantity"], r["quantity_returned"]) for r in body["recipients"]] == [(30, 30)]
    assert body["flagged_encounters"] == 0 and pending_events(pharmacy, "encounter.flagged") == []
    assert lots_on_hand(pharmacy, code) == {"AML2604K": 60, "AML2612L": 500}  # returned before the recall


def register(gateway, patient: dict) -> str:
    response = gateway.post("/api/v1/patients", json=patient, headers=bearer("cashier"))
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def open_visit(gateway, patient_id: str) -> str:
    body = {"patient_id": patient_id, "kind": "outpatient", "department": "K02"}
    response = gateway.post("/api/v1/encounters", json=body, headers=bearer("cashier"))
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_the_recall_warning_shows_on_the_patients_record_at_the_gateway(gateway, pharmacy, amlodipine_lots):
    code, bad, _ = amlodipine_lots
    hoa, duc = register(gateway, LE_THI_HOA), register(gateway, PHAM_VAN_DUC)
    hoa_visit, duc_visit = open_visit(gateway, hoa), open_visit(gateway, duc)
    dispense(pharmacy, prescribe(pharmacy, [(code, 30)], encounter_id=hoa_visit, patient_id=hoa))

    assert recall(pharmacy, bad["id"]).status_code == 201

    record = gateway.get(f"/api/v1/patients/{hoa}/record", headers=bearer("cashier")).get_json()
    assert [flag["kind"] for flag in record["recall_flags"]] == ["drug_recall"]
    assert "AML2604K" in record["recall_flags"][0]["message"]
    visit = next(v for v in record["encounters"] if str(v["id"]) == str(hoa_visit))
    assert len(visit["flags"]) == 1 and [c["code"] for c in visit["charges"]] == [code]
    other = gateway.get(f"/api/v1/patients/{duc}/record", headers=bearer("cashier")).get_json()
    assert other["recall_flags"] == [] and str(duc_visit) != str(hoa_visit)
    charges = gateway.get(f"/api/v1/charges?encounter_id={hoa_visit}", headers=bearer("cashier")).get_json()
    assert [(c["code"], c["quantity"]) for c in charges] == [(code, 30)]
