"""A recall puts the money right, across pharmacy, gateway and billing: an insulin glargine lot dispensed on three
visits (one unpaid and claimed in a batch not sent yet, one paid by VietQR transfer, one claimed and sent) is
recalled as defective; the bills, the credit note and refund due, the claim lines and reconciliation end as the
issue says, and every ledger chain still verifies."""

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from seeds.pharmacy_service import DRUGS
from tests.billing.factories import BILLING_CONFIG, bank_notice, bank_signature
from tests.gateway.conftest import CARD_80, NGUYEN_VAN_AN, TRAN_THI_BICH, add_card, close_visit, open_visit, register
from tests.support import bearer

ADMIN, FINANCE, CASHIER, PHARMACIST = bearer("admin"), bearer("finance"), bearer("cashier"), bearer("pharmacist")
LE_THI_HOA = {"full_name": "Lê Thị Hoa", "birth_date": "1990-05-20", "sex": "female", "cccd": "001190005678",
              "phone": "0987654321", "address": "8 Trần Duy Hưng, Phường Trung Hoà, Quận Cầu Giấy, Hà Nội"}
CARDS = ("DN4010123456789", "DN4010123456790", "DN4010123456791")
RECALL = "Cục Quản lý Dược thu hồi: không đạt chỉ tiêu độ hòa tan (công văn 1234/QLD-CL)"


@pytest.fixture
def hospital(make_app, live_server):
    """Pharmacy, billing (with its bank webhook secret) and the gateway serving on their ports."""
    live_server(make_app("pharmacy_service"))
    live_server(make_app("billing_service", **BILLING_CONFIG))
    gateway = make_app("gateway")
    live_server(gateway)
    return gateway.test_client()


def created(response, status=201) -> dict:
    assert response.status_code == status, response.get_json()
    return response.get_json()


def post(client, path, body, headers):
    return client.post(path, json=body, headers={**headers, "Idempotency-Key": str(uuid.uuid4())})


def this_month() -> str:
    return datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%Y-%m")


def a_visit_with_insulin(client, person, card_number) -> dict:
    patient = register(client, person)
    add_card(client, patient["id"], {**CARD_80, "card_number": card_number, "valid_from": "2020-01-01",
                                     "valid_to": "2099-12-31"})
    visit = open_visit(client, patient["id"])
    prescription = created(post(client, "/api/v1/pharmacy/prescriptions", {
        "encounter_id": visit["id"], "patient_id": patient["id"], "prescriber": "BS. Nguyễn Văn Hùng",
        "lines": [{"drug_code": "40.697", "quantity": 2, "instructions": "Tiêm dưới da 20 đơn vị trước khi ngủ"}]},
        PHARMACIST))
    dispensed = created(post(client, f"/api/v1/pharmacy/prescriptions/{prescription['id']}/dispenses",
                             {"lines": [{"line_id": prescription["lines"][0]["id"], "quantity": 2}]}, PHARMACIST))
    [invoice] = client.get(f"/api/v1/billing/invoices?encounter_id={visit['id']}", headers=CASHIER).get_json()
    return {"visit": visit, "patient": patient, "line": dispensed["lines"][0], "invoice_id": invoice["id"]}


def download(client, batch_id: int) -> None:
    """Finance downloads the batch's file (over the visits' missing doctor, which the check calls critical)."""
    created(post(client, f"/api/v1/billing/claim-batches/{batch_id}/override",
                 {"reason": "Bác sĩ điều trị được bổ sung trên hồ sơ giấy"}, FINANCE))
    assert client.get(f"/api/v1/billing/claim-batches/{batch_id}/export", headers=FINANCE).status_code == 200


def bill(client, case) -> dict:
    return client.get(f"/api/v1/billing/invoices/{case['invoice_id']}", headers=CASHIER).get_json()


def test_a_recall_over_an_unpaid_a_paid_and_a_claimed_line_puts_the_money_right(hospital):
    created(post(hospital, "/api/v1/pharmacy/drugs", DRUGS["insulin_glargine"], PHARMACIST))
    expires = (datetime.now() + timedelta(days=400)).date().isoformat()
    lot = created(post(hospital, "/api/v1/pharmacy/drugs/40.697/lots", {
        "lot_number": "INS2612A", "expires_on": expires, "quantity": 50, "cost_amount": 150_000,
        "supplier": "Công ty CP Dược Hậu Giang"}, PHARMACIST))
    claimed = a_visit_with_insulin(hospital, NGUYEN_VAN_AN, CARDS[0])
    paid = a_visit_with_insulin(hospital, TRAN_THI_BICH, CARDS[1])
    unpaid = a_visit_with_insulin(hospital, LE_THI_HOA, CARDS[2])
    assert {case["line"]["lots"][0]["lot_id"] for case in (claimed, paid, unpaid)} == {lot["id"]}

    # sent: closed, claimed and the batch downloaded
    assert close_visit(hospital, claimed["visit"]["id"]).status_code == 200
    first = created(post(hospital, "/api/v1/billing/claim-batches", {"period": this_month()}, FINANCE))
    download(hospital, first["id"])
    sent_line = bill(hospital, claimed)["lines"][0]
    # paid by VietQR: the bank's notice of the transfer
    balance = bill(hospital, paid)["balance_amount"]
    request = created(post(hospital, f"/api/v1/billing/invoices/{paid['invoice_id']}/payment-requests",
                           {"method": "vietqr"}, CASHIER))
    raw = bank_notice(f"MBVCB.123 {request['reference']} thanh toan", balance)
    assert hospital.post("/api/v1/billing/webhooks/bank-transfer", data=raw,
                         headers=bank_signature(raw)).status_code == 200
    assert bill(hospital, paid)["state"] == "paid"
    # unpaid, claimed in a supplementary batch nobody has downloaded yet
    assert close_visit(hospital, unpaid["visit"]["id"]).status_code == 200
    second = created(post(hospital, "/api/v1/billing/claim-batches", {"period": this_month()}, FINANCE))
    assert second["sequence"] == 2 and bill(hospital, unpaid)["state"] == "open"
    before = {name: bill(hospital, case) for name, case in (("claimed", claimed), ("paid", paid),
                                                              ("unpaid", unpaid))}

    recall = created(post(hospital, f"/api/v1/pharmacy/lots/{lot['id']}/recall",
                          {"reason": RECALL, "kind": "defective", "money": "defective_only"}, PHARMACIST))
    assert (recall["money_fixed"], recall["reversed_lines"]) == (True, 3)

    adjustments = {row["invoice_id"]: row for row in hospital.get(
        f"/api/v1/billing/recall-adjustments?recall_id=pharmacy:recall:{recall['id']}", headers=FINANCE).get_json()}
    assert len(adjustments) == 3
    # unpaid: reversed on its bill, split again (nothing left), its claim line withdrawn from the unsent batch
    after_unpaid = bill(hospital, unpaid)
    assert (after_unpaid["state"], after_unpaid["hospital_amount"], after_unpaid["insurer_amount"]) == ("void", 0, 0)
    row = adjustments[unpaid["invoice_id"]]
    assert (row["outcome"], row["claim_action"], row["refund_due_amount"], row["credit_note_number"]) == (
        "reversed", "withdrawn", 0, None)
    assert row["hospital_amount"] == before["unpaid"]["hospital_amount"]
    supplementary = hospital.get(f"/api/v1/billing/claim-batches/{second['id']}", headers=FINANCE).get_json()
    assert (supplementary["line_count"], supplementary["hospital_amount"], supplementary["insurer_amount"]) == (0, 0, 0)
    # paid by QR: a credit note, the patient's payment due back, the insurer's share gone from the bill
    after_paid = bill(hospital, paid)
    row = adjustments[paid["invoice_id"]]
    assert row["outcome"] == "credit_note" and row["credit_note_number"].startswith("CN")
    assert row["refund_due_amount"] == balance == after_paid["overpaid_amount"]
    assert (row["insurer_amount"], after_paid["insurer_amount"]) == (before["paid"]["insurer_amount"], 0)
    assert row["patient_amount"] == before["paid"]["patient_amount"]
    assert [note["credit_note_number"] for note in after_paid["recall_adjustments"]] == [row["credit_note_number"]]
    # claimed and sent: the claim line stays as sent, the insurer's share to give back is recorded
    row = adjustments[claimed["invoice_id"]]
    assert (row["outcome"], row["claim_action"]) == ("reversed", "corrected")
    assert row["insurer_correction_amount"] == sent_line["insurer_amount"] > 0
    claim = hospital.get(f"/api/v1/billing/claims?batch_id={first['id']}", headers=FINANCE).get_json()[0]
    assert claim["lines"][0]["insurer_amount"] == sent_line["insurer_amount"]

    report = hospital.get(f"/api/v1/billing/reconciliation?period={this_month()}", headers=FINANCE).get_json()
    recalled = [(d["kind"], d["encounter_id"], d["actual_amount"])
                for d in report["discrepancies"] if d["kind"] in ("claimed_not_charged", "amount_mismatch")]
    assert recalled == [("claimed_not_charged", claimed["visit"]["id"], sent_line["hospital_amount"])]

    integrity = hospital.get("/api/v1/admin/integrity", headers=ADMIN).get_json()
    assert {service["service"]: service["clean"] for service in integrity["services"]} == {
        "gateway": True, "lab_service": None, "pharmacy_service": True, "billing_service": True}
