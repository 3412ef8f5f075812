"""The spine through the gateway: a lab charge reaches the bill, the cashier's QR is paid by a signed bank notice."""

import io

import pytest
import requests
import zxingcpp
from PIL import Image

from billing_service.vietqr import parse_payload
from tests.billing.factories import (
    BILLING_CONFIG,
    CEFTRIAXONE,
    GLUCOSE,
    STRIPE_SECRET,
    bank_notice,
    bank_signature,
    charge,
)
from tests.support import bearer, service_headers, wait_until

PATIENT = {"full_name": "Trần Thị Bích", "birth_date": "1995-11-02", "sex": "female", "cccd": "079195004321",
           "phone": "0908123456", "address": "45 Nguyễn Thị Minh Khai, Phường Bến Thành, Quận 1, TP. Hồ Chí Minh"}
CARD_80 = {"card_number": "GD4791234567890", "registered_facility": "79024", "valid_from": "2026-01-01",
           "valid_to": "2027-12-31", "benefit_level": 80}


@pytest.fixture
def stack(make_app, live_server):
    """Billing served for real behind a gateway (test client), as the cashier and the bank reach it."""
    billing = make_app("billing_service", **BILLING_CONFIG)
    live_server(billing)
    return make_app("gateway").test_client()


def visit_with_charges(gateway) -> dict:
    """Register a patient with an 80 % card, open a visit, and post two charges as lab and pharmacy would."""
    patient = gateway.post("/api/v1/patients", json=PATIENT, headers=bearer("cashier")).get_json()
    assert gateway.post(f"/api/v1/patients/{patient['id']}/coverages", json=CARD_80,
                        headers=bearer("cashier")).status_code == 201
    visit = gateway.post("/api/v1/encounters", json={"patient_id": patient["id"], "kind": "outpatient",
                                                     "department": "K01"}, headers=bearer("cashier")).get_json()
    ids = {"encounter_id": str(visit["id"]), "patient_id": str(patient["id"])}
    for body in (charge(CEFTRIAXONE, key="pharmacy:dispense-line:7", quantity=10), charge(GLUCOSE)):
        response = gateway.post("/internal/charges", json={**body, **ids}, headers=service_headers("lab_service"))
        assert response.status_code == 201, response.get_json()
    return ids


def bill_of(gateway, encounter_id: str) -> dict:
    listing = gateway.get(f"/api/v1/billing/invoices?encounter_id={encounter_id}", headers=bearer("cashier"))
    if listing.status_code != 200 or not listing.get_json():
        return {}
    summary = listing.get_json()[0]
    return gateway.get(f"/api/v1/billing/invoices/{summary['id']}", headers=bearer("cashier")).get_json()


def test_a_charge_through_the_gateway_lands_on_the_bill_and_a_transfer_pays_it(stack):
    ids = visit_with_charges(stack)
    bill = wait_until(lambda: (b := bill_of(stack, ids["encounter_id"])) and len(b["lines"]) == 2 and b,
                      message="both charges on the bill")
    assert (bill["insurer_amount"], bill["patient_amount"], bill["state"]) == (297_200, 74_300, "open")

    issued = stack.post(f"/api/v1/billing/invoices/{bill['id']}/payment-requests", json={"method": "vietqr"},
                        headers={**bearer("cashier"), "Idempotency-Key": "counter-1-visit-" + ids["encounter_id"]})
    assert issued.status_code == 201
    png = stack.get(issued.get_json()["qr_png_url"], headers=bearer("cashier"))
    [decoded] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.data)))
    assert parse_payload(decoded.text)["amount"] == 74_300

    raw = bank_notice(f"{bill['reference']} TRAN THI BICH TT VIEN PHI", 74_300)
    paid = stack.post("/api/v1/billing/webhooks/bank-transfer", data=raw, headers=bank_signature(raw))

    assert paid.status_code == 200 and paid.get_json()["invoice_state"] == "paid"
    assert bill_of(stack, ids["encounter_id"])["state"] == "paid"


def test_a_forged_bank_notice_through_the_gateway_is_refused(stack):
    ids = visit_with_charges(stack)
    bill = wait_until(lambda: bill_of(stack, ids["encounter_id"]), message="the bill")
    raw = bank_notice(bill["reference"], 74_300)

    response = stack.post("/api/v1/billing/webhooks/bank-transfer", data=raw,
                          headers=bank_signature(raw, secret="forged-secret-forged-secret-000"))

    assert response.status_code == 401 and response.get_json()["code"] == "SIGNATURE_INVALID"
    assert bill_of(stack, ids["encounter_id"])["paid_amount"] == 0


def test_localstripe_webhooks_reach_billing_through_the_gateway(make_app, live_server, localstripe):
    billing = make_app("billing_service", **BILLING_CONFIG, STRIPE_API_BASE=localstripe)
    live_server(billing)
    gateway_url = live_server(make_app("gateway"))
    registration = {"url": f"{gateway_url}/api/v1/billing/webhooks/stripe", "secret": STRIPE_SECRET}
    requests.post(f"{localstripe}/_config/webhooks/billing", data=registration, timeout=5).raise_for_status()
    gateway = make_app("gateway").test_client()
    ids = visit_with_charges(gateway)
    bill = wait_until(lambda: (b := bill_of(gateway, ids["encounter_id"])) and len(b["lines"]) == 2 and b,
                      message="both charges on the bill")
    request = gateway.post(f"/api/v1/billing/invoices/{bill['id']}/payment-requests", json={"method": "card"},
                           headers=bearer("cashier")).get_json()

    terminal = {"Authorization": "Bearer sk_test_terminal"}
    intent = f"{localstripe}/v1/payment_intents/{request['payment_intent_id']}"
    requests.post(intent, data={"payment_method": "pm_card_visa"}, headers=terminal, timeout=5).raise_for_status()
    requests.post(f"{intent}/confirm", headers=terminal, timeout=5).raise_for_status()

    wait_until(lambda: bill_of(gateway, ids["encounter_id"])["state"] == "paid", message="the card webhook")
