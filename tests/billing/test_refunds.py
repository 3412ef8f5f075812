"""Refunds of cash and bank payments: never more than what is left, bank refunds carry their reference."""

import pytest

from tests.billing.factories import BLOOD_COUNT, HBA1C, charge, encounter, invoice_of, post_charge, reversal
from tests.support import bearer, service_headers

REASON = "Bệnh nhân không làm xét nghiệm HbA1c"


@pytest.fixture
def paid_bill(client) -> dict:
    """A 147 200 đồng self-pay bill paid in cash at the counter."""
    visit = encounter(level=None)
    post_charge(client, charge(BLOOD_COUNT, key="lab:test-run:3"), visit)
    post_charge(client, charge(HBA1C, key="lab:test-run:4"), visit)
    invoice = invoice_of(client)
    cash = {"method": "cash", "amount": 147_200, "reason": "Thu tiền mặt tại quầy số 2"}
    payment = client.post(f"/api/v1/billing/invoices/{invoice['id']}/payments", json=cash, headers=bearer("cashier"))
    return {**invoice, "payment_id": payment.get_json()["id"]}


def refund(client, payment_id: int, amount: int, role: str = "finance", **extra):
    return client.post(f"/api/v1/billing/payments/{payment_id}/refunds",
                       json={"amount": amount, "reason": REASON, **extra}, headers=bearer(role))


def test_a_partial_cash_refund_leaves_the_bill_partially_paid(client, paid_bill):
    response = refund(client, paid_bill["payment_id"], 101_000)

    assert response.status_code == 201
    assert (response.get_json()["method"], response.get_json()["invoice_state"]) == ("cash", "partially_paid")
    invoice = invoice_of(client)
    assert (invoice["paid_amount"], invoice["refunded_amount"], invoice["balance_amount"]) == (147_200, 101_000,
                                                                                               101_000)


def test_refunding_everything_marks_the_bill_refunded(client, paid_bill):
    assert refund(client, paid_bill["payment_id"], 147_200, role="cashier").status_code == 201
    assert invoice_of(client)["state"] == "refunded"


def test_a_refund_above_what_is_left_is_refused_and_changes_nothing(client, paid_bill):
    refund(client, paid_bill["payment_id"], 100_000)

    response = refund(client, paid_bill["payment_id"], 47_201)

    assert response.status_code == 422 and response.get_json()["code"] == "REFUND_EXCEEDS_PAYMENT"
    assert invoice_of(client)["refunded_amount"] == 100_000


def test_only_finance_and_cashiers_refund(client, paid_bill):
    assert refund(client, paid_bill["payment_id"], 1_000, role="pharmacist").status_code == 403


def test_an_unknown_payment_is_a_404(client, paid_bill):
    response = refund(client, 999, 1_000)
    assert response.status_code == 404 and response.get_json()["code"] == "PAYMENT_NOT_FOUND"


def test_a_bank_transfer_refund_needs_and_keeps_the_outgoing_reference(client):
    post_charge(client, charge(BLOOD_COUNT, key="lab:test-run:3"), encounter(level=None))
    invoice = invoice_of(client)
    manual = {"method": "bank_transfer", "amount": 46_200, "reference": "FT26327555000111",
              "reason": "Đối chiếu sao kê VietinBank"}
    payment_id = client.post(f"/api/v1/billing/invoices/{invoice['id']}/payments", json=manual,
                             headers=bearer("cashier")).get_json()["id"]

    missing = refund(client, payment_id, 46_200)
    done = refund(client, payment_id, 46_200, reference="FT26328999000222")

    assert missing.status_code == 422 and missing.get_json()["code"] == "REFERENCE_REQUIRED"
    assert done.status_code == 201
    assert (done.get_json()["method"], done.get_json()["provider_reference"]) == ("bank_transfer", "FT26328999000222")
    assert invoice_of(client)["state"] == "refunded"


def test_an_overpayment_refunded_settles_the_bill_as_paid(client):
    post_charge(client, charge(BLOOD_COUNT, key="lab:test-run:3"), encounter(level=None))
    invoice = invoice_of(client)
    cash = {"method": "cash", "amount": 46_200, "reason": "Thu tiền mặt"}
    payment_id = client.post(f"/api/v1/billing/invoices/{invoice['id']}/payments", json=cash,
                             headers=bearer("cashier")).get_json()["id"]
    client.post("/internal/charge-reversals", json=reversal("lab:test-run:3", amount=46_200),
                headers=service_headers())
    assert invoice_of(client)["overpaid_amount"] == 46_200

    refund(client, payment_id, 46_200)

    after = invoice_of(client)
    assert (after["state"], after["overpaid_amount"], after["refund_due"]) == ("refunded", 0, False)
