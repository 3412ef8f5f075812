"""Card payments against a real localstripe: the bill turns paid when its signed webhook reaches billing.

The test plays the patient's card terminal (what Stripe.js would do): it sets the card on the PaymentIntent and
confirms it directly on localstripe; billing only ever learns the outcome from the signed webhook.
"""

import pytest
import requests

from tests.billing.factories import (
    BILLING_CONFIG,
    BLOOD_COUNT,
    HBA1C,
    STRIPE_SECRET,
    charge,
    encounter,
    invoice_of,
    post_charge,
)
from tests.support import bearer, wait_until

THREE_D_SECURE_CARD = "4000002500003155"


@pytest.fixture
def card_desk(make_app, live_server, localstripe):
    """Billing served for real (so localstripe's webhooks reach it), a 147 200 đồng self-pay bill, the fake's URL."""
    app = make_app("billing_service", **BILLING_CONFIG, STRIPE_API_BASE=localstripe)
    url = live_server(app)
    registration = {"url": f"{url}/api/v1/billing/webhooks/stripe", "secret": STRIPE_SECRET}
    requests.post(f"{localstripe}/_config/webhooks/billing", data=registration, timeout=5).raise_for_status()
    client = app.test_client()
    visit = encounter(level=None)
    post_charge(client, charge(BLOOD_COUNT, key="lab:test-run:3"), visit)
    post_charge(client, charge(HBA1C, key="lab:test-run:4"), visit)
    return client, invoice_of(client), localstripe


def stripe(base: str, path: str, **data) -> requests.Response:
    return requests.post(f"{base}{path}", data=data, headers={"Authorization": "Bearer sk_test_terminal"}, timeout=5)


def card_request(client, invoice_id: int, key: str = "card-1", **body) -> dict:
    response = client.post(f"/api/v1/billing/invoices/{invoice_id}/payment-requests",
                           json={"method": "card", **body}, headers={**bearer("cashier"), "Idempotency-Key": key})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def pay_with(base: str, intent_id: str, payment_method: str) -> requests.Response:
    stripe(base, f"/v1/payment_intents/{intent_id}", payment_method=payment_method).raise_for_status()
    return stripe(base, f"/v1/payment_intents/{intent_id}/confirm")


def state_of(client, request_id: int) -> dict:
    return client.get(f"/api/v1/billing/payment-requests/{request_id}", headers=bearer("cashier")).get_json()


def test_a_card_request_creates_a_vnd_payment_intent_for_the_balance(card_desk):
    client, bill, base = card_desk
    body = card_request(client, bill["id"])

    assert body["payment_intent_id"].startswith("pi_") and body["client_secret"].startswith(body["payment_intent_id"])
    assert (body["provider_status"], body["amount"], body["qr_payload"]) == ("requires_payment_method", 147_200, None)
    intent = requests.get(f"{base}/v1/payment_intents/{body['payment_intent_id']}",
                          headers={"Authorization": "Bearer sk_test_x"}, timeout=5).json()
    assert (intent["amount"], intent["currency"]) == (147_200, "vnd")
    assert intent["metadata"]["bill_reference"] == bill["reference"]


def test_a_retried_card_request_with_the_same_key_makes_no_second_payment_intent(card_desk):
    client, bill, base = card_desk
    first = card_request(client, bill["id"], key="counter-2-card-BN000001")
    again = card_request(client, bill["id"], key="counter-2-card-BN000001")

    assert again["payment_intent_id"] == first["payment_intent_id"]
    intents = requests.get(f"{base}/v1/payment_intents", headers={"Authorization": "Bearer sk_test_x"}, timeout=5)
    assert len(intents.json()["data"]) == 1


def test_a_confirmed_card_payment_turns_the_bill_paid_through_the_signed_webhook(card_desk):
    client, bill, base = card_desk
    request = card_request(client, bill["id"])

    assert pay_with(base, request["payment_intent_id"], "pm_card_visa").json()["status"] == "succeeded"

    wait_until(lambda: state_of(client, request["id"])["state"] == "paid", message="the succeeded webhook")
    invoice = invoice_of(client)
    assert (invoice["state"], invoice["paid_amount"]) == ("paid", 147_200)
    [payment] = invoice["payments"]
    assert (payment["method"], payment["provider_reference"]) == ("card", request["payment_intent_id"])


def test_a_declined_card_is_recorded_and_the_bill_stays_open(card_desk):
    client, bill, base = card_desk
    request = card_request(client, bill["id"])

    assert pay_with(base, request["payment_intent_id"], "pm_card_chargeCustomerFail").status_code == 402

    failed = wait_until(lambda: (s := state_of(client, request["id"]))["state"] == "failed" and s,
                        message="the payment_failed webhook")
    assert failed["failure_message"]
    assert invoice_of(client)["state"] == "open"


def test_a_3d_secure_card_pays_once_the_patient_authenticates(card_desk):
    client, bill, base = card_desk
    request = card_request(client, bill["id"])
    card = stripe(base, "/v1/payment_methods", type="card", **{"card[number]": THREE_D_SECURE_CARD,
                  "card[exp_month]": "12", "card[exp_year]": "2030", "card[cvc]": "123"}).json()

    assert pay_with(base, request["payment_intent_id"], card["id"]).json()["status"] == "requires_action"
    assert invoice_of(client)["state"] == "open"
    stripe(base, f"/v1/payment_intents/{request['payment_intent_id']}/_authenticate",
           client_secret=request["client_secret"], success="true").raise_for_status()

    wait_until(lambda: invoice_of(client)["state"] == "paid", message="the succeeded webhook after 3-D Secure")


def test_a_cancelled_card_request_cancels_its_payment_intent(card_desk):
    client, bill, base = card_desk
    request = card_request(client, bill["id"])

    response = client.post(f"/api/v1/billing/payment-requests/{request['id']}/cancel", headers=bearer("cashier"))

    assert response.status_code == 200
    assert (response.get_json()["state"], response.get_json()["provider_status"]) == ("canceled", "canceled")


def test_card_refunds_go_through_the_api_and_never_exceed_the_payment(card_desk):
    client, bill, base = card_desk
    request = card_request(client, bill["id"])
    pay_with(base, request["payment_intent_id"], "pm_card_visa")
    wait_until(lambda: invoice_of(client)["state"] == "paid", message="the succeeded webhook")
    payment_id = invoice_of(client)["payments"][0]["id"]

    def refund(amount: int, key: str):
        return client.post(f"/api/v1/billing/payments/{payment_id}/refunds",
                           json={"amount": amount, "reason": "Hủy xét nghiệm HbA1c theo chỉ định bác sĩ"},
                           headers={**bearer("finance"), "Idempotency-Key": key})

    first = refund(101_000, "refund-1")
    assert first.status_code == 201 and first.get_json()["provider_reference"].startswith("re_")
    assert first.get_json()["invoice_state"] == "partially_paid"
    too_much = refund(46_201, "refund-2")
    assert too_much.status_code == 422 and too_much.get_json()["code"] == "REFUND_EXCEEDS_PAYMENT"
    assert too_much.get_json()["refundable_amount"] == 46_200
    rest = refund(46_200, "refund-3")
    assert rest.status_code == 201 and rest.get_json()["invoice_state"] == "refunded"
    assert refund(101_000, "refund-1").get_json()["id"] == first.get_json()["id"]  # replay, not a third refund
    refunds = requests.get(f"{base}/v1/refunds", headers={"Authorization": "Bearer sk_test_x"}, timeout=5).json()
    assert sorted(r["amount"] for r in refunds["data"]) == [46_200, 101_000]


def test_a_card_provider_that_is_down_is_a_503_and_no_request_is_kept(make_app):
    from tests.support import free_port

    app = make_app("billing_service", **BILLING_CONFIG, STRIPE_API_BASE=f"http://127.0.0.1:{free_port()}")
    client = app.test_client()
    post_charge(client, charge(BLOOD_COUNT, key="lab:test-run:3"), encounter(level=None))
    invoice = invoice_of(client)

    response = client.post(f"/api/v1/billing/invoices/{invoice['id']}/payment-requests", json={"method": "card"},
                           headers=bearer("cashier"))

    assert response.status_code == 503 and response.get_json()["code"] == "PAYMENT_PROVIDER_UNAVAILABLE"
    with app.app_context():
        from billing_service.models import PaymentRequest

        assert PaymentRequest.select().count() == 0
