"""The card webhook accepts only Stripe-signed events from the last 300 s, and each event id only once."""

import json
import time

import pytest

from tests.billing.factories import BLOOD_COUNT, charge, encounter, invoice_of, post_charge, stripe_signature
from tests.support import bearer

WEBHOOK = "/api/v1/billing/webhooks/stripe"


@pytest.fixture
def intent_id(billing, client) -> str:
    """A 46 200 đồng self-pay bill with a card request whose PaymentIntent id is known (no provider needed)."""
    post_charge(client, charge(BLOOD_COUNT, key="lab:test-run:3"), encounter(level=None))
    invoice = invoice_of(client)
    with billing.app_context():
        from billing_service.models import PaymentRequest

        PaymentRequest.create(invoice=invoice["id"], method="card", amount=46_200, reference=invoice["reference"],
                              provider_reference="pi_3QxTestBloodCount", created_by="cashier")
    return "pi_3QxTestBloodCount"


def event(intent: str, kind: str = "payment_intent.succeeded", event_id: str = "evt_1QxBloodCount") -> bytes:
    return json.dumps({"id": event_id, "object": "event", "type": kind, "data": {"object": {
        "id": intent, "object": "payment_intent", "amount": 46_200, "currency": "vnd", "status": "succeeded"}}}
    ).encode()


def send(client, raw: bytes, headers: dict):
    return client.post(WEBHOOK, data=raw, headers=headers)


def test_a_signed_succeeded_event_pays_the_bill(client, intent_id):
    raw = event(intent_id)
    response = send(client, raw, stripe_signature(raw, int(time.time())))

    assert response.status_code == 200 and response.get_json()["status"] == "paid"
    assert invoice_of(client)["state"] == "paid"


def test_the_same_event_twice_pays_once(client, intent_id):
    raw = event(intent_id)
    send(client, raw, stripe_signature(raw, int(time.time())))

    again = send(client, raw, stripe_signature(raw, int(time.time())))

    assert again.status_code == 200 and again.get_json()["status"] == "duplicate"
    assert invoice_of(client)["paid_amount"] == 46_200


def test_a_second_event_for_the_same_intent_pays_once(client, intent_id):
    first, second = event(intent_id, event_id="evt_A"), event(intent_id, event_id="evt_B")
    send(client, first, stripe_signature(first, int(time.time())))

    response = send(client, second, stripe_signature(second, int(time.time())))

    assert response.get_json()["status"] == "already_recorded" and invoice_of(client)["paid_amount"] == 46_200


@pytest.mark.parametrize("make_headers,code", [
    (lambda raw: {}, "SIGNATURE_MISSING"),
    (lambda raw: {"Stripe-Signature": "v1=abc"}, "SIGNATURE_MALFORMED"),
    (lambda raw: stripe_signature(raw, int(time.time()) - 301), "SIGNATURE_EXPIRED"),
    (lambda raw: stripe_signature(raw, int(time.time()) + 301), "SIGNATURE_EXPIRED"),
    (lambda raw: stripe_signature(raw, int(time.time()), secret="whsec_somebody_else_000000000"), "SIGNATURE_INVALID"),
    (lambda raw: stripe_signature(raw + b" ", int(time.time())), "SIGNATURE_INVALID"),
])
def test_a_bad_or_stale_signature_is_a_401_problem_and_changes_nothing(client, intent_id, make_headers, code):
    raw = event(intent_id)
    response = send(client, raw, {"Content-Type": "application/json", **make_headers(raw)})

    assert response.status_code == 401 and response.content_type == "application/problem+json"
    assert response.get_json()["code"] == code
    assert invoice_of(client)["paid_amount"] == 0


def test_a_payment_failed_event_is_recorded_on_the_request(client, intent_id):
    raw = json.dumps({"id": "evt_fail", "type": "payment_intent.payment_failed", "data": {"object": {
        "id": intent_id, "status": "requires_payment_method",
        "last_payment_error": {"code": "card_declined", "message": "Your card was declined."}}}}).encode()

    response = send(client, raw, stripe_signature(raw, int(time.time())))

    assert response.get_json()["status"] == "payment_failed"
    request = client.get("/api/v1/billing/payment-requests/1", headers=bearer("cashier")).get_json()
    assert (request["state"], request["failure_message"]) == ("failed", "Your card was declined.")
    assert request["failure_code"] == "card_declined"
    assert invoice_of(client)["state"] == "open"


def test_a_decline_code_is_kept_over_the_error_code(client, intent_id):
    raw = json.dumps({"id": "evt_funds", "type": "payment_intent.payment_failed", "data": {"object": {
        "id": intent_id, "status": "requires_payment_method", "last_payment_error": {
            "code": "card_declined", "decline_code": "insufficient_funds",
            "message": "Your card has insufficient funds."}}}}).encode()

    send(client, raw, stripe_signature(raw, int(time.time())))

    request = client.get("/api/v1/billing/payment-requests/1", headers=bearer("cashier")).get_json()
    assert (request["failure_code"], request["failure_message"]) == ("insufficient_funds",
                                                                      "Your card has insufficient funds.")


def test_an_event_for_an_intent_we_never_issued_is_acknowledged_and_ignored(client, intent_id):
    raw = event("pi_NotOurs")
    response = send(client, raw, stripe_signature(raw, int(time.time())))
    assert response.status_code == 200 and response.get_json()["status"] == "unknown_payment_intent"
    assert invoice_of(client)["paid_amount"] == 0
