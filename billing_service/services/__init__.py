"""Billing verbs; each owns its transaction. Routes import them from here."""

from billing_service.services.intake import receive_charge, receive_charges, receive_encounter, receive_reversal
from billing_service.services.invoices import get_invoice
from billing_service.services.payments import (
    cancel_payment_request,
    get_payment_request,
    issue_payment_request,
    record_counter_payment,
    static_vietqr_payload,
    vietqr_payload,
)
from billing_service.services.refunds import get_payment, refund_payment
from billing_service.services.revenue import charge_revenue
from billing_service.services.reviews import list_reviews
from billing_service.services.webhooks import assign_transfer, receive_bank_transfer, receive_stripe_event

__all__ = [
    "assign_transfer", "cancel_payment_request", "charge_revenue", "get_invoice", "get_payment", "get_payment_request",
    "issue_payment_request", "list_reviews", "receive_bank_transfer", "receive_charge", "receive_charges",
    "receive_encounter", "receive_reversal",
    "receive_stripe_event", "record_counter_payment", "refund_payment", "static_vietqr_payload", "vietqr_payload",
]
