"""Cashier: a dynamic VietQR for the patient's balance, its PNG and SVG, the static counter QR, and cash."""

import io
from datetime import datetime, timedelta

import zxingcpp
from PIL import Image

from billing_service.vietqr import parse_payload
from tests.billing.factories import (
    BANK_ACCOUNT,
    GLUCOSE,
    charge,
    invoice_of,
    post_charge,
)
from tests.support import bearer


def request_qr(client, invoice_id: int, key: str = "qr-1", **body):
    headers = {**bearer("cashier"), "Idempotency-Key": key}
    return client.post(f"/api/v1/billing/invoices/{invoice_id}/payment-requests", json={"method": "vietqr", **body},
                       headers=headers)


def test_a_vietqr_for_the_balance_carries_the_amount_and_the_bill_reference(client, bill):
    response = request_qr(client, bill["id"])

    assert response.status_code == 201
    body = response.get_json()
    assert (body["amount"], body["state"], body["reference"]) == (147_200, "pending", bill["reference"])
    qr = parse_payload(body["qr_payload"])
    assert qr == {"bank_bin": "970415", "account": BANK_ACCOUNT, "service": "QRIBFTTA", "amount": 147_200,
                  "purpose": bill["reference"], "initiation": "dynamic"}
    assert "54061472005802VN" in body["qr_payload"]


def test_the_qr_expires_after_the_configured_time(make_app, bill):
    client = make_app("billing_service", PAYMENT_REQUEST_TTL_SECONDS=60).test_client()
    body = request_qr(client, bill["id"]).get_json()

    created, expires = (datetime.fromisoformat(body[k]) for k in ("created_at", "expires_at"))
    assert timedelta(seconds=59) <= expires - created <= timedelta(seconds=61)


def test_an_expired_qr_is_no_longer_shown_to_patients(make_app, bill):
    client = make_app("billing_service", PAYMENT_REQUEST_TTL_SECONDS=30).test_client()
    body = request_qr(client, bill["id"]).get_json()
    with client.application.app_context():
        from billing_service.models import PaymentRequest

        PaymentRequest.update(expires_at=datetime.fromisoformat(body["created_at"]) - timedelta(seconds=1)).execute()

    png = client.get(body["qr_png_url"], headers=bearer("cashier"))
    shown = client.get(f"/api/v1/billing/payment-requests/{body['id']}", headers=bearer("cashier")).get_json()

    assert png.status_code == 410 and png.get_json()["code"] == "PAYMENT_REQUEST_EXPIRED"
    assert shown["state"] == "expired"


def test_the_png_a_patient_scans_decodes_to_the_exact_payload(client, bill):
    body = request_qr(client, bill["id"]).get_json()

    png = client.get(body["qr_png_url"], headers=bearer("cashier"))

    assert png.status_code == 200 and png.content_type == "image/png"
    [decoded] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.data)))
    assert decoded.text == body["qr_payload"]


def test_the_svg_is_served_for_printing(client, bill):
    body = request_qr(client, bill["id"]).get_json()
    svg = client.get(body["qr_svg_url"], headers=bearer("cashier"))
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and b"<svg" in svg.data


def test_the_static_counter_qr_has_the_hospital_account_and_no_amount(client):
    png = client.get("/api/v1/billing/static-qr.png", headers=bearer("cashier"))
    [decoded] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.data)))
    assert parse_payload(decoded.text) == {"bank_bin": "970415", "account": BANK_ACCOUNT, "service": "QRIBFTTA",
                                           "amount": None, "purpose": None, "initiation": "static"}


def test_a_partial_amount_can_be_requested(client, bill):
    response = request_qr(client, bill["id"], amount=100_000)
    assert response.status_code == 201 and parse_payload(response.get_json()["qr_payload"])["amount"] == 100_000


def test_asking_for_more_than_the_balance_is_a_422(client, bill):
    response = request_qr(client, bill["id"], amount=147_201)
    assert response.status_code == 422
    assert response.get_json()["code"] == "AMOUNT_EXCEEDS_BALANCE" and response.get_json()["balance_amount"] == 147_200


def test_a_paid_bill_gets_no_qr(client, bill):
    cash = {"method": "cash", "amount": 147_200, "reason": "Thu tiền mặt tại quầy số 2"}
    assert client.post(f"/api/v1/billing/invoices/{bill['id']}/payments", json=cash,
                       headers=bearer("cashier")).status_code == 201

    response = request_qr(client, bill["id"])

    assert response.status_code == 409 and response.get_json()["code"] == "INVOICE_ALREADY_PAID"


def test_a_fully_insured_bill_has_nothing_to_pay(client):
    post_charge(client, charge(GLUCOSE, key="lab:test-run:1"))
    response = request_qr(client, invoice_of(client)["id"])
    assert response.status_code == 409 and response.get_json()["code"] == "INVOICE_ALREADY_PAID"


def test_the_same_idempotency_key_replays_the_first_qr(client, bill):
    first = request_qr(client, bill["id"], key="counter-2-patient-BN000001")
    again = request_qr(client, bill["id"], key="counter-2-patient-BN000001")

    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json()["id"] == first.get_json()["id"]


def test_only_a_cashier_issues_payment_qrs(client, bill):
    response = client.post(f"/api/v1/billing/invoices/{bill['id']}/payment-requests", json={"method": "vietqr"},
                           headers=bearer("finance"))
    assert response.status_code == 403


def test_an_unknown_method_is_a_422(client, bill):
    response = request_qr(client, bill["id"], method="momo")
    assert response.status_code == 422 and "method" in response.get_json()["errors"]


def test_cash_at_the_counter_pays_the_bill_and_is_recorded_with_who_and_why(client, bill):
    cash = {"method": "cash", "amount": 100_000, "reason": "Thu tiền mặt tại quầy số 2"}
    response = client.post(f"/api/v1/billing/invoices/{bill['id']}/payments", json=cash, headers=bearer("cashier"))

    assert response.status_code == 201
    assert (response.get_json()["recorded_by"], response.get_json()["reason"]) == ("cashier", cash["reason"])
    invoice = invoice_of(client)
    assert (invoice["state"], invoice["paid_amount"], invoice["balance_amount"]) == ("partially_paid", 100_000, 47_200)


def test_a_transfer_confirmed_by_hand_needs_its_bank_reference(client, bill):
    manual = {"method": "bank_transfer", "amount": 147_200, "reason": "Đã thấy tiền về trên sao kê Vietinbank"}
    response = client.post(f"/api/v1/billing/invoices/{bill['id']}/payments", json=manual, headers=bearer("cashier"))
    assert response.status_code == 422 and response.get_json()["code"] == "REFERENCE_REQUIRED"


def test_cancelling_a_qr_withdraws_it(client, bill):
    request_id = request_qr(client, bill["id"]).get_json()["id"]

    response = client.post(f"/api/v1/billing/payment-requests/{request_id}/cancel", headers=bearer("cashier"))
    again = client.post(f"/api/v1/billing/payment-requests/{request_id}/cancel", headers=bearer("cashier"))

    assert response.status_code == 200 and response.get_json()["state"] == "canceled"
    png = client.get(response.get_json()["qr_png_url"], headers=bearer("cashier"))
    assert png.status_code == 409 and png.get_json()["code"] == "PAYMENT_REQUEST_CANCELED"
    assert again.status_code == 409 and again.get_json()["code"] == "PAYMENT_REQUEST_NOT_CANCELABLE"


def test_the_cashier_sees_every_qr_issued_for_a_bill(client, bill):
    request_qr(client, bill["id"], key="qr-1", amount=100_000)
    request_qr(client, bill["id"], key="qr-2")

    listing = client.get(f"/api/v1/billing/invoices/{bill['id']}/payment-requests", headers=bearer("cashier"))

    assert [r["amount"] for r in listing.get_json()] == [147_200, 100_000]


def test_the_bill_ledger_shows_who_moved_its_money_and_why(client, bill):
    cash = {"method": "cash", "amount": 47_200, "reason": "Thu tiền mặt tại quầy số 2"}
    client.post(f"/api/v1/billing/invoices/{bill['id']}/payments", json=cash, headers=bearer("cashier"))

    ledger = client.get(f"/api/v1/billing/invoices/{bill['id']}/ledger", headers=bearer("finance")).get_json()

    assert [(e["kind"], e["patient_amount"], e["cash_amount"]) for e in ledger] == [
        ("charge", 46_200, 0), ("charge", 101_000, 0), ("payment", 0, 47_200)]
    assert ledger[-1]["actor"] == "cashier" and "Thu tiền mặt" in ledger[-1]["note"]
