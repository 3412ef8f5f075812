"""Money arrives by bank transfer: the signed notification turns the bill paid by itself, exactly once."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.billing.factories import (
    BLOOD_COUNT,
    HBA1C,
    bank_notice,
    bank_signature,
    charge,
    encounter,
    invoice_of,
    post_charge,
)
from tests.support import bearer

WEBHOOK = "/api/v1/billing/webhooks/bank-transfer"


@pytest.fixture
def bill(client) -> dict:
    """A self-pay visit of 147 200 đồng with a VietQR issued for it."""
    visit = encounter(level=None)
    post_charge(client, charge(BLOOD_COUNT, key="lab:test-run:3"), visit)
    post_charge(client, charge(HBA1C, key="lab:test-run:4"), visit)
    invoice = invoice_of(client)
    response = client.post(f"/api/v1/billing/invoices/{invoice['id']}/payment-requests", json={"method": "vietqr"},
                           headers=bearer("cashier"))
    return {**invoice, "payment_request": response.get_json()}


def notify(client, raw: bytes, headers: dict | None = None):
    return client.post(WEBHOOK, data=raw, headers=headers if headers is not None else bank_signature(raw))


def test_an_exact_transfer_turns_the_bill_and_its_qr_paid(client, bill):
    response = notify(client, bank_notice(bill["reference"], 147_200))

    assert response.status_code == 200
    assert response.get_json() | {"status": "matched", "invoice_state": "paid", "balance_amount": 0} == \
        response.get_json()
    invoice = invoice_of(client)
    assert (invoice["state"], invoice["paid_amount"]) == ("paid", 147_200)
    request = client.get(f"/api/v1/billing/payment-requests/{bill['payment_request']['id']}",
                         headers=bearer("cashier")).get_json()
    assert request["state"] == "paid"


def test_the_reference_is_found_inside_what_the_bank_adds_to_the_memo(client, bill):
    memo = f"MBVCB.7301234567.{bill['reference']}.NGUYEN VAN AN CHUYEN TIEN"
    assert notify(client, bank_notice(memo, 147_200)).get_json()["status"] == "matched"


def test_a_smaller_transfer_leaves_the_bill_partially_paid_with_the_rest_to_pay(client, bill):
    body = notify(client, bank_notice(bill["reference"], 100_000)).get_json()

    assert (body["invoice_state"], body["balance_amount"]) == ("partially_paid", 47_200)


def test_a_larger_transfer_pays_the_bill_and_flags_the_overpayment_for_refund(client, bill):
    body = notify(client, bank_notice(bill["reference"], 150_000)).get_json()

    assert (body["invoice_state"], body["overpaid_amount"]) == ("paid", 2_800)
    invoice = invoice_of(client)
    assert invoice["refund_due"] is True and invoice["overpaid_amount"] == 2_800


def test_the_same_transaction_notified_twice_is_counted_once(client, bill):
    raw = bank_notice(bill["reference"], 100_000)
    notify(client, raw)

    again = notify(client, raw)

    assert again.status_code == 200 and again.get_json()["status"] == "duplicate"
    assert invoice_of(client)["paid_amount"] == 100_000


def test_a_transfer_with_no_bill_reference_waits_in_the_unmatched_list_until_assigned(client, bill):
    notify(client, bank_notice("NGUYEN VAN AN THANH TOAN VIEN PHI", 147_200, transaction_id="FT26327000000001"))

    unmatched = client.get("/api/v1/billing/unmatched-transfers", headers=bearer("finance")).get_json()
    assert [(t["transaction_id"], t["amount"]) for t in unmatched] == [("FT26327000000001", 147_200)]
    assert invoice_of(client)["paid_amount"] == 0

    assign = {"invoice_id": bill["id"], "reason": "Bệnh nhân gọi điện xác nhận chuyển khoản, đối chiếu sao kê"}
    response = client.post(f"/api/v1/billing/unmatched-transfers/{unmatched[0]['id']}/assign", json=assign,
                           headers=bearer("cashier"))

    assert response.status_code == 200 and response.get_json()["state"] == "assigned"
    assert response.get_json()["assigned_by"] == "cashier"
    assert invoice_of(client)["state"] == "paid"
    assert client.get("/api/v1/billing/unmatched-transfers", headers=bearer("cashier")).get_json() == []
    twice = client.post(f"/api/v1/billing/unmatched-transfers/{unmatched[0]['id']}/assign", json=assign,
                        headers=bearer("cashier"))
    assert twice.status_code == 409 and twice.get_json()["code"] == "TRANSFER_ALREADY_MATCHED"


def test_a_transfer_to_another_account_is_not_matched(client, bill):
    body = notify(client, bank_notice(bill["reference"], 147_200, account="0071000123456")).get_json()
    assert body["status"] == "unmatched" and invoice_of(client)["paid_amount"] == 0


def test_a_transfer_the_cashier_already_confirmed_by_hand_is_not_counted_again(client, bill):
    manual = {"method": "bank_transfer", "amount": 147_200, "reference": "FT26327123456789",
              "reason": "Bệnh nhân đưa biên lai chuyển khoản"}
    assert client.post(f"/api/v1/billing/invoices/{bill['id']}/payments", json=manual,
                       headers=bearer("cashier")).status_code == 201

    body = notify(client, bank_notice(bill["reference"], 147_200, transaction_id="FT26327123456789")).get_json()

    assert body["status"] == "matched" and invoice_of(client)["paid_amount"] == 147_200


@pytest.mark.parametrize("headers,code", [
    ({}, "SIGNATURE_MISSING"),
    ({"X-Signature": "sha256=" + "0" * 64}, "SIGNATURE_INVALID"),
    ({"X-Signature": "md5=abc"}, "SIGNATURE_MISSING"),
])
def test_a_bad_signature_is_a_401_problem_and_changes_nothing(client, bill, headers, code):
    response = notify(client, bank_notice(bill["reference"], 147_200), {**headers, "Content-Type": "application/json"})

    assert response.status_code == 401 and response.content_type == "application/problem+json"
    assert response.get_json()["code"] == code
    assert invoice_of(client)["paid_amount"] == 0


def test_a_signature_made_with_another_secret_is_rejected(client, bill):
    raw = bank_notice(bill["reference"], 147_200)
    response = notify(client, raw, bank_signature(raw, secret="someone-elses-secret-000000000"))
    assert response.status_code == 401 and invoice_of(client)["paid_amount"] == 0


def test_a_stale_notification_is_rejected(client, bill):
    old = datetime.now(UTC) - timedelta(minutes=10)
    response = notify(client, bank_notice(bill["reference"], 147_200, occurred_at=old))
    assert response.status_code == 401 and response.get_json()["code"] == "SIGNATURE_EXPIRED"
    assert invoice_of(client)["paid_amount"] == 0


def test_a_signed_notification_with_bad_fields_is_a_422(client, bill):
    raw = b'{"transaction_id": "FT1", "account": "113366668888", "amount": "many", "memo": "x"}'
    response = notify(client, raw)
    assert response.status_code == 422 and {"amount", "occurred_at"} <= set(response.get_json()["errors"])
