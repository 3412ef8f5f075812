"""Card payments held for finance: the provider reported another amount or currency than the payment request asked."""

from billing_service.models import PaymentRequest, PaymentReview, WebhookEvent
from billing_service.services.invoices import record_ledger
from common.models import utcnow
from common.paging import page

BIGINT_MAX = 2**63 - 1
REVIEW_ACTOR = "webhook"


def hold_card_payment(request: PaymentRequest, event: WebhookEvent, amount: int, currency: str) -> PaymentReview:
    """Keep a mismatched card payment for review instead of booking it; the request shows `in_review`."""
    asked = f"{request.amount} VND"
    reported = f"{amount} {currency.upper() or '(no currency)'}"
    review = PaymentReview.create(
        payment_request=request.id, invoice=request.invoice_id, provider="stripe", event_id=event.event_id,
        provider_reference=request.provider_reference or "", expected_amount=request.amount,
        expected_currency="VND", reported_amount=amount if abs(amount) <= BIGINT_MAX else None,
        reported_currency=currency[:10], reason=f"asked {asked}, the provider reported {reported}"[:300])
    PaymentRequest.update(state="in_review", provider_status="succeeded", updated_at=utcnow(),
                          failure_message=f"Held for finance: {review.reason}"[:500]).where(
        PaymentRequest.id == request.id).execute()
    record_ledger(request.invoice_id, "request", f"payment-review:{review.id}", REVIEW_ACTOR,
                  note=f"card payment held for review: {review.reason}")
    return review


def list_reviews(query: dict) -> list[PaymentReview]:
    """One page of the card payments held for review in the query's `state` (open by default), oldest first."""
    return page(PaymentReview.select().where(PaymentReview.state == query["state"]), PaymentReview.id, query,
                descending=False)
