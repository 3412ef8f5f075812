"""The cashier's side: payment requests (VietQR, card), cash and manual confirmations, and applying money to bills."""

from datetime import timedelta

import peewee
from flask import current_app

from billing_service import store, stripe_api
from billing_service.models import PAYMENT_CHAIN, Invoice, Payment, PaymentRequest, db
from billing_service.services.invoices import add_paid, lock_invoice, record_ledger, refresh_invoice
from billing_service.vietqr import build_payload
from common.errors import ApiError, Conflict, NotFound, ValidationFailed, get_or_404
from common.models import utcnow


def _check_payable(invoice: Invoice, amount: int | None) -> int:
    """Return the amount to collect (the balance by default); refuse a settled bill or more than the balance."""
    if invoice.state == "void":
        raise Conflict(f"Invoice {invoice.id} is void: nothing to pay", code="INVOICE_VOID")
    if invoice.balance_amount == 0:
        raise Conflict(f"Invoice {invoice.id} has nothing left to pay", code="INVOICE_ALREADY_PAID")
    if amount is None:
        return invoice.balance_amount
    if amount > invoice.balance_amount:
        raise ValidationFailed(f"Amount {amount} is more than the balance {invoice.balance_amount}",
                               code="AMOUNT_EXCEEDS_BALANCE", balance_amount=invoice.balance_amount)
    return amount


def issue_payment_request(invoice_id: int, method: str, amount: int | None, actor: str,
                          idempotency_key: str | None) -> PaymentRequest:
    """Issue a dynamic VietQR or a card PaymentIntent for part or all of a bill's patient balance."""
    with db.atomic():
        invoice = lock_invoice(invoice_id)
        amount = _check_payable(invoice, amount)
        request = PaymentRequest.create(invoice=invoice.id, method=method, amount=amount, reference=invoice.reference,
                                        created_by=actor)
        if method == "vietqr":
            _attach_vietqr(request)
        else:
            _attach_payment_intent(request, idempotency_key or f"payment-request-{request.id}")
        return PaymentRequest.get_by_id(request.id)


def _attach_vietqr(request: PaymentRequest) -> None:
    config = current_app.config
    payload = build_payload(config["HOSPITAL_BANK_BIN"], config["HOSPITAL_BANK_ACCOUNT"], request.amount,
                            purpose=request.reference)
    expires_at = utcnow() + timedelta(seconds=config["PAYMENT_REQUEST_TTL_SECONDS"])
    PaymentRequest.update(qr_payload=payload, expires_at=expires_at).where(PaymentRequest.id == request.id).execute()


def _attach_payment_intent(request: PaymentRequest, idempotency_key: str) -> None:
    metadata = {"payment_request_id": str(request.id), "invoice_id": str(request.invoice_id),
                "bill_reference": request.reference}
    intent = stripe_api.create_payment_intent(request.amount, metadata, idempotency_key)
    PaymentRequest.update(provider_reference=intent["id"], client_secret=intent.get("client_secret"),
                          provider_status=intent.get("status")).where(PaymentRequest.id == request.id).execute()


def get_payment_request(request_id: int) -> PaymentRequest:
    """Return a payment request or raise 404."""
    return get_or_404(PaymentRequest, PaymentRequest.id == request_id,
                      detail=f"No payment request {request_id}", code="PAYMENT_REQUEST_NOT_FOUND")


def vietqr_payload(request_id: int) -> str:
    """Return the VietQR text of a live payment request; a card, canceled or expired request has none to show."""
    request = get_payment_request(request_id)
    if request.method != "vietqr":
        raise NotFound(f"Payment request {request_id} is a card payment and has no VietQR", code="NOT_A_VIETQR")
    if request.state == "canceled":
        raise Conflict(f"Payment request {request_id} was canceled; issue a new one", code="PAYMENT_REQUEST_CANCELED")
    if request.state == "pending" and request.expires_at < utcnow():
        raise ApiError(f"Payment request {request_id} has expired; issue a new one", code="PAYMENT_REQUEST_EXPIRED",
                       status=410)
    return request.qr_payload


def static_vietqr_payload() -> str:
    """Return the hospital account's reusable VietQR (no amount, no memo)."""
    config = current_app.config
    return build_payload(config["HOSPITAL_BANK_BIN"], config["HOSPITAL_BANK_ACCOUNT"])


def cancel_payment_request(request_id: int, actor: str) -> PaymentRequest:
    """Withdraw an unpaid payment request (and its PaymentIntent)."""
    with db.atomic():
        request = get_payment_request(request_id)
        lock_invoice(request.invoice_id)
        updated = (PaymentRequest.update(state="canceled", updated_at=utcnow())
                   .where((PaymentRequest.id == request_id) & (PaymentRequest.state.in_(("pending", "failed"))))
                   .execute())
        if updated != 1:
            raise Conflict(f"Payment request {request_id} is {request.state} and cannot be canceled",
                           code="PAYMENT_REQUEST_NOT_CANCELABLE")
        if request.method == "card":
            intent = stripe_api.cancel_payment_intent(request.provider_reference, f"cancel-{request_id}")
            PaymentRequest.update(provider_status=intent.get("status")).where(
                PaymentRequest.id == request_id).execute()
        record_ledger(request.invoice_id, "request", f"payment-request:{request_id}", actor, note="canceled")
        return PaymentRequest.get_by_id(request_id)


def apply_payment(invoice_id: int, amount: int, method: str, actor: str, *, request: PaymentRequest | None = None,
                  provider_reference: str | None = None, reason: str | None = None,
                  received_at=None) -> Payment | None:
    """Record money received for a bill once per provider reference; the caller holds the bill's lock.

    Returns None when this provider reference was already recorded (a replayed notification).
    """
    try:
        with db.atomic():
            row = {"invoice": invoice_id, "payment_request": request.id if request else None, "method": method,
                   "amount": amount, "refunded_amount": 0, "provider_reference": provider_reference,
                   "reason": reason, "recorded_by": actor, "received_at": received_at or utcnow(),
                   "created_at": utcnow()}
            payment = Payment(id=store.append_chained(PAYMENT_CHAIN, row), **row)
    except peewee.IntegrityError:
        return None
    add_paid(invoice_id, amount)
    if request is not None:
        PaymentRequest.update(paid_amount=PaymentRequest.paid_amount + amount, updated_at=utcnow()).where(
            PaymentRequest.id == request.id).execute()
        paid = PaymentRequest.get_by_id(request.id).paid_amount
        PaymentRequest.update(state="paid" if paid >= request.amount else "partially_paid").where(
            PaymentRequest.id == request.id).execute()
    refresh_invoice(invoice_id)
    record_ledger(invoice_id, "payment", f"payment:{payment.id}", actor, cash_amount=amount,
                  note=f"{method} {provider_reference or ''} {reason or ''}".strip())
    return payment


def record_counter_payment(invoice_id: int, fields: dict, actor: str) -> Payment:
    """Record cash taken at the counter, or a transfer the cashier confirmed by hand, with a reason."""
    method, amount = fields["method"], fields["amount"]
    reference = fields.get("reference")
    if method == "bank_transfer" and not reference:
        raise ValidationFailed("A confirmed bank transfer needs its bank transaction id in 'reference'",
                               code="REFERENCE_REQUIRED", errors={"reference": ["Required for bank_transfer."]})
    with db.atomic():
        invoice = lock_invoice(invoice_id)
        _check_payable(invoice, amount)
        payment = apply_payment(invoice.id, amount, method, actor, provider_reference=reference,
                                reason=fields["reason"])
        if payment is None:
            raise ApiError(f"Bank transaction {reference} is already recorded", code="PAYMENT_ALREADY_RECORDED",
                           status=409)
        return payment
