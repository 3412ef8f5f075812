"""Refunds: never more than is left of a payment; card refunds through the API, others recorded with a reference."""

from billing_service import stripe_api
from billing_service.models import Payment, Refund, db
from billing_service.services.invoices import add_refunded, lock_invoice, record_ledger, refresh_invoice
from common.errors import ValidationFailed, get_or_404
from common.models import utcnow


def get_payment(payment_id: int) -> Payment:
    """Return a payment or raise 404."""
    return get_or_404(Payment, Payment.id == payment_id, detail=f"No payment {payment_id}", code="PAYMENT_NOT_FOUND")


def refund_payment(payment_id: int, fields: dict, actor: str, idempotency_key: str | None) -> Refund:
    """Give back part or all of a payment and let the bill's state follow."""
    amount, reason = fields["amount"], fields["reason"]
    with db.atomic():
        payment = get_payment(payment_id)
        lock_invoice(payment.invoice_id)
        taken = (Payment.update(refunded_amount=Payment.refunded_amount + amount)
                 .where((Payment.id == payment_id) & (Payment.refunded_amount + amount <= Payment.amount)).execute())
        if taken != 1:
            left = Payment.get_by_id(payment_id)
            raise ValidationFailed(f"Only {left.amount - left.refunded_amount} đồng of payment {payment_id} is left "
                                   f"to refund", code="REFUND_EXCEEDS_PAYMENT",
                                   refundable_amount=left.amount - left.refunded_amount)
        reference, method = _pay_out(payment, amount, fields.get("reference"), idempotency_key)
        refund = Refund.create(payment=payment.id, invoice=payment.invoice_id, amount=amount, reason=reason,
                               method=method, provider_reference=reference, created_by=actor)
        add_refunded(payment.invoice_id, amount)
        refresh_invoice(payment.invoice_id)
        record_ledger(payment.invoice_id, "refund", f"refund:{refund.id}", actor, cash_amount=-amount, note=reason)
        return refund


def _pay_out(payment: Payment, amount: int, reference: str | None, idempotency_key: str | None) -> tuple:
    """Send the money back the way it came; return (provider reference, refund method)."""
    if payment.method == "card":
        refund = stripe_api.refund_payment_intent(payment.provider_reference, amount,
                                                  idempotency_key or f"refund-{payment.id}-{utcnow().timestamp()}")
        return refund["id"], "card"
    if payment.method == "bank_transfer":
        if not reference:
            raise ValidationFailed("A bank refund needs the reference of the outgoing transfer",
                                   code="REFERENCE_REQUIRED", errors={"reference": ["Required for bank refunds."]})
        return reference, "bank_transfer"
    return reference, "cash"
