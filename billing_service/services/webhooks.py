"""Signed payment notifications: Stripe-compatible card events and bank transfer notifications for VietQR bills.

A notification is checked (signature, freshness) before anything is read from it, remembered once per provider
event id, and applied in one transaction; a replay answers 200 and changes nothing.
"""

import hashlib
import hmac
import re
import time

import peewee
from flask import current_app
from marshmallow import ValidationError

from billing_service import stripe_api
from billing_service.models import BankTransfer, Invoice, Payment, PaymentRequest, WebhookEvent, db
from billing_service.schemas import BankTransferNotificationSchema
from billing_service.services.invoices import BILL_PREFIX, lock_invoice
from billing_service.services.payments import apply_payment
from billing_service.services.reviews import hold_card_payment
from common.bounds import load_json
from common.errors import ApiError, Conflict, NotFound, Unauthorized, ValidationFailed
from common.models import utcnow

BILL_REFERENCE = re.compile(rf"{BILL_PREFIX}(\d{{6,}})")
WEBHOOK_ACTOR = "webhook"


class SignatureRejected(Unauthorized):
    code, title = "SIGNATURE_INVALID", "The notification signature is not valid"


def verify_stripe_signature(raw_body: bytes, header: str, secret: str, tolerance: int, now: int | None = None):
    """Check `t=<unix>,v1=<hex>` against HMAC-SHA256(secret, "<t>." + body) within `tolerance` seconds."""
    if not header:
        raise SignatureRejected("Missing Stripe-Signature header", code="SIGNATURE_MISSING")
    parts = [item.split("=", 1) for item in header.split(",") if "=" in item]
    timestamps = [v for k, v in parts if k.strip() == "t"]
    signatures = [v.strip() for k, v in parts if k.strip() == "v1"]
    if len(timestamps) != 1 or not timestamps[0].strip().isdigit() or not signatures:
        raise SignatureRejected("Stripe-Signature must be 't=<unix time>,v1=<hex>'", code="SIGNATURE_MALFORMED")
    timestamp = int(timestamps[0])
    if abs((now or int(time.time())) - timestamp) > tolerance:
        raise SignatureRejected(f"The signature is older than {tolerance} s (or from the future)",
                                code="SIGNATURE_EXPIRED")
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw_body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise SignatureRejected("The signature does not match the body")


def verify_bank_signature(raw_body: bytes, header: str, secret: str) -> None:
    """Check `sha256=<hex>` against HMAC-SHA256(secret, body) in constant time."""
    scheme, _, signature = (header or "").partition("=")
    if scheme.strip().lower() != "sha256" or not signature:
        raise SignatureRejected("Missing or malformed X-Signature header ('sha256=<hex>')", code="SIGNATURE_MISSING")
    expected = hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.strip().lower()):
        raise SignatureRejected("The signature does not match the body")


def _json_body(raw_body: bytes) -> dict:
    body = load_json(raw_body)  # 400 MALFORMED_JSON, also for JSON nested too deep to parse
    if not isinstance(body, dict):
        raise ApiError("The notification body must be a JSON object", code="MALFORMED_JSON", status=400)
    return body


def _remember(provider: str, event_id: str, event_type: str, raw_body: bytes) -> WebhookEvent | None:
    """Store the notification once; None when this provider event id was seen before."""
    try:
        with db.atomic():
            return WebhookEvent.create(provider=provider, event_id=event_id[:100], event_type=event_type[:60],
                                       payload=raw_body.decode("utf-8", "replace"), outcome="received")
    except peewee.IntegrityError:
        return None


def _outcome(event: WebhookEvent, outcome: str) -> dict:
    WebhookEvent.update(outcome=outcome).where(WebhookEvent.id == event.id).execute()
    return {"status": outcome, "event_id": event.event_id}


def receive_stripe_event(raw_body: bytes, signature_header: str) -> dict:
    """Verify and apply a card event: succeeded pays the request and the bill, payment_failed records why."""
    config = current_app.config
    verify_stripe_signature(raw_body, signature_header, config["STRIPE_WEBHOOK_SECRET"],
                            config["WEBHOOK_TOLERANCE_SECONDS"])
    body = _json_body(raw_body)
    intent = (body.get("data") or {}).get("object") or {}
    if not isinstance(body.get("id"), str) or not isinstance(intent, dict):
        raise ApiError("The event has no id or data.object", code="MALFORMED_EVENT", status=400)
    with db.atomic():
        event = _remember("stripe", body["id"], str(body.get("type", "")), raw_body)
        if event is None:
            return {"status": "duplicate", "event_id": body["id"]}
        request = PaymentRequest.get_or_none(PaymentRequest.provider_reference == str(intent.get("id")))
        if request is None:
            return _outcome(event, "unknown_payment_intent")
        if event.event_type == "payment_intent.succeeded":
            return _outcome(event, _card_succeeded(request, intent, event))
        if event.event_type == "payment_intent.payment_failed":
            error = intent.get("last_payment_error") or {}
            PaymentRequest.update(state="failed", provider_status=str(intent.get("status", ""))[:40],
                                  failure_message=str(error.get("message") or error.get("code") or "declined")[:500],
                                  failure_code=str(error.get("decline_code") or error.get("code") or "")[:60] or None,
                                  updated_at=utcnow()).where(
                (PaymentRequest.id == request.id) & (PaymentRequest.state.in_(("pending", "failed")))).execute()
            return _outcome(event, "payment_failed")
        return _outcome(event, "ignored")


def _card_succeeded(request: PaymentRequest, intent: dict, event: WebhookEvent) -> str:
    """Book a card payment, only if the provider reports exactly the amount and currency that were asked."""
    lock_invoice(request.invoice_id)
    amount = intent.get("amount_received") or intent.get("amount")
    currency = str(intent.get("currency") or "")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ApiError("The event carries no amount", code="MALFORMED_EVENT", status=400)
    if amount != request.amount or currency.lower() != stripe_api.CURRENCY:
        hold_card_payment(request, event, amount, currency)
        return "held_for_review"
    PaymentRequest.update(provider_status="succeeded", failure_message=None).where(
        PaymentRequest.id == request.id).execute()
    payment = apply_payment(request.invoice_id, amount, "card", WEBHOOK_ACTOR, request=request,
                            provider_reference=request.provider_reference)
    return "paid" if payment is not None else "already_recorded"


def receive_bank_transfer(raw_body: bytes, signature_header: str) -> dict:
    """Verify a bank notification and match it to a bill by the reference in its memo, exactly once."""
    config = current_app.config
    verify_bank_signature(raw_body, signature_header, config["BANK_WEBHOOK_SECRET"])
    try:
        notice = BankTransferNotificationSchema().load(_json_body(raw_body))
    except ValidationError as exc:
        raise ValidationFailed("The notification fields are invalid", errors=exc.messages) from None
    age = abs((utcnow() - notice["occurred_at"]).total_seconds())
    if age > config["WEBHOOK_TOLERANCE_SECONDS"]:
        raise SignatureRejected("The notification is too old (or from the future) to be accepted",
                                code="SIGNATURE_EXPIRED")
    with db.atomic():
        if _remember("bank", notice["transaction_id"], "bank.transfer", raw_body) is None:
            return _transfer_answer(BankTransfer.get(BankTransfer.transaction_id == notice["transaction_id"]),
                                    "duplicate")
        invoice = _matching_invoice(notice)
        transfer = BankTransfer.create(transaction_id=notice["transaction_id"], account=notice["account"],
                                       amount=notice["amount"], memo=notice["memo"],
                                       occurred_at=notice["occurred_at"], state="unmatched")
        if invoice is None:
            return _transfer_answer(transfer, "unmatched")
        settle_transfer(transfer, invoice.id, WEBHOOK_ACTOR, "matched")
        return _transfer_answer(BankTransfer.get_by_id(transfer.id), "matched")


def _matching_invoice(notice: dict) -> Invoice | None:
    """Find the bill named in the memo (banks may add text or drop spaces around it) on the hospital's account."""
    if notice["account"] != current_app.config["HOSPITAL_BANK_ACCOUNT"]:
        return None
    memo = re.sub(r"[^A-Z0-9]", " ", notice["memo"].upper())
    for number in BILL_REFERENCE.findall(memo.replace(" ", "")) + BILL_REFERENCE.findall(memo):
        invoice = Invoice.get_or_none(Invoice.reference == f"{BILL_PREFIX}{int(number):06d}")
        if invoice is not None:
            return invoice
    return None


def settle_transfer(transfer: BankTransfer, invoice_id: int, actor: str, state: str,
                    reason: str | None = None) -> None:
    """Pay a bill with a bank transfer (the bill's latest VietQR request is the one paid)."""
    lock_invoice(invoice_id)
    request = (PaymentRequest.select().where((PaymentRequest.invoice == invoice_id)
                                             & (PaymentRequest.method == "vietqr")
                                             & (PaymentRequest.state.in_(("pending", "partially_paid"))))
               .order_by(PaymentRequest.id.desc()).first())
    payment = apply_payment(invoice_id, transfer.amount, "bank_transfer", actor, request=request,
                            provider_reference=transfer.transaction_id, reason=reason,
                            received_at=transfer.occurred_at)
    if payment is None:  # the cashier already confirmed this transaction by hand
        payment = Payment.get((Payment.method == "bank_transfer")
                              & (Payment.provider_reference == transfer.transaction_id))
    BankTransfer.update(state=state, invoice=invoice_id, payment=payment.id, assigned_by=actor if reason else None,
                        assignment_reason=reason).where(BankTransfer.id == transfer.id).execute()


def _transfer_answer(transfer: BankTransfer, status: str) -> dict:
    answer = {"status": status, "event_id": transfer.transaction_id, "transfer_id": transfer.id,
              "invoice_id": transfer.invoice_id}
    if transfer.invoice_id:
        invoice = Invoice.get_by_id(transfer.invoice_id)
        answer.update(invoice_state=invoice.state, balance_amount=invoice.balance_amount,
                      overpaid_amount=invoice.overpaid_amount)
    return answer


def assign_transfer(transfer_id: int, invoice_id: int, reason: str, actor: str) -> BankTransfer:
    """Pay a bill with an unmatched bank transfer, by hand, with a reason."""
    with db.atomic():
        transfer = BankTransfer.get_or_none(BankTransfer.id == transfer_id)
        if transfer is None:
            raise NotFound(f"No bank transfer {transfer_id}", code="TRANSFER_NOT_FOUND")
        if Invoice.get_or_none(Invoice.id == invoice_id) is None:
            raise NotFound(f"No invoice {invoice_id}", code="INVOICE_NOT_FOUND")
        claimed = (BankTransfer.update(state="assigning")
                   .where((BankTransfer.id == transfer_id) & (BankTransfer.state == "unmatched")).execute())
        if claimed != 1:
            raise Conflict(f"Bank transfer {transfer_id} is already {transfer.state}", code="TRANSFER_ALREADY_MATCHED")
        settle_transfer(transfer, invoice_id, actor, "assigned", reason=reason)
        return BankTransfer.get_by_id(transfer_id)
