"""Billing service HTTP endpoints: parse with a schema, call one service verb, return one schema."""

from flask import Response, request
from flask_smorest import Blueprint

from billing_service import services
from billing_service.models import BankTransfer, Invoice, LedgerEntry, PaymentRequest, RecallAdjustment
from billing_service.review_schemas import PaymentReviewQuerySchema, PaymentReviewSchema
from billing_service.schemas import (
    BankTransferSchema,
    ChargeRevenueQuerySchema,
    ChargeRevenueSchema,
    CounterPaymentSchema,
    InvoiceQuerySchema,
    InvoiceSchema,
    InvoiceSummarySchema,
    LedgerEntrySchema,
    PaymentRequestCreateSchema,
    PaymentRequestSchema,
    PaymentSchema,
    RecallAdjustmentQuerySchema,
    RecallAdjustmentSchema,
    ReceiptSchema,
    RefundCreateSchema,
    RefundSchema,
    SubListQuerySchema,
    TransferAssignmentSchema,
    WebhookAnswerSchema,
)
from billing_service.vietqr import render_png, render_svg
from common.auth import MONEY_STAFF, current_principal, require_roles, require_service
from common.contracts import BillableChargeSchema, ChargeReversedSchema, EncounterSnapshotSchema
from common.idempotency import idempotent
from common.paging import page
from common.read_audit import reads_patient_data

blp = Blueprint("billing", __name__, url_prefix="/api/v1/billing", description="Invoices, payments, refunds")
webhooks_blp = Blueprint("billing_webhooks", __name__, url_prefix="/api/v1/billing/webhooks",
                         description="Signed payment notifications (no bearer token: the signature is the proof)")
internal_blp = Blueprint("billing_internal", __name__, url_prefix="/internal", description="Intake from the gateway")
BLUEPRINTS = (blp, webhooks_blp, internal_blp)
NO_STORE = {"Cache-Control": "no-store"}


def _actor() -> str:
    return current_principal().subject


@internal_blp.route("/charges", methods=["POST"])
@require_service
@internal_blp.arguments(BillableChargeSchema())
@internal_blp.response(201, ReceiptSchema)
@internal_blp.alt_response(200, schema=ReceiptSchema, success=True, description="already known: nothing changed")
def receive_charge(event):
    """Add a charge to its visit's bill once (200 and no change on a replay)."""
    line, created = services.receive_charge(event)
    return {"key": line.charge_key, "invoice_id": line.invoice_id, "state": "stored"}, 201 if created else 200


@internal_blp.route("/charge-reversals", methods=["POST"])
@require_service
@internal_blp.arguments(ChargeReversedSchema())
@internal_blp.response(201, ReceiptSchema)
@internal_blp.alt_response(200, schema=ReceiptSchema, success=True, description="already known: nothing changed")
def receive_charge_reversal(event):
    """Reduce a bill line by a reversal once (200 and no change on a replay)."""
    reversal, created = services.receive_reversal(event)
    invoice_id = reversal.line.invoice_id if reversal.line_id else None
    return {"key": reversal.key, "invoice_id": invoice_id, "state": reversal.state}, 201 if created else 200


@internal_blp.route("/encounters", methods=["POST"])
@require_service
@internal_blp.arguments(EncounterSnapshotSchema())
@internal_blp.response(201, ReceiptSchema)
@internal_blp.alt_response(200, schema=ReceiptSchema, success=True, description="already known: nothing changed")
def receive_encounter(encounter):
    """Keep the latest snapshot of a visit (200 when it was already known)."""
    snapshot, created = services.receive_encounter(encounter)
    invoice = Invoice.get_or_none(Invoice.encounter_id == snapshot.encounter_id)
    return {"key": snapshot.encounter_id, "invoice_id": invoice.id if invoice else None,
            "state": snapshot.status}, 201 if created else 200


@internal_blp.route("/charge-revenue")
@require_service
@internal_blp.arguments(ChargeRevenueQuerySchema(), location="query")
@internal_blp.response(200, ChargeRevenueSchema(many=True))
def charge_revenue(query):
    """What each charge of a source that happened in a window earns now, and from whom (for the lab's margin)."""
    return services.charge_revenue(query["source"], query["since"], query["until"])


@blp.route("/invoices")
@require_roles(*MONEY_STAFF)
@blp.arguments(InvoiceQuerySchema(), location="query")
@blp.response(200, InvoiceSummarySchema(many=True))
@reads_patient_data("invoices")
def list_invoices(query):
    """List bills, newest first, by visit, patient or state."""
    selection = Invoice.select()
    for name in ("encounter_id", "patient_id", "state"):
        if query.get(name):
            selection = selection.where(getattr(Invoice, name) == query[name])
    return page(selection, Invoice.id, query)


@blp.route("/invoices/<int:invoice_id>")
@require_roles(*MONEY_STAFF)
@blp.response(200, InvoiceSchema)
@reads_patient_data("invoice")
def get_invoice(invoice_id):
    """Show a bill with its lines and their insurance split, its payments, what is paid and what is left."""
    return services.get_invoice(invoice_id)


@blp.route("/invoices/<int:invoice_id>/payment-requests", methods=["POST"])
@require_roles("cashier")
@idempotent
@blp.arguments(PaymentRequestCreateSchema())
@blp.response(201, PaymentRequestSchema)
def create_payment_request(fields, invoice_id):
    """Issue a dynamic VietQR or a card PaymentIntent for the patient's balance (or part of it)."""
    return services.issue_payment_request(invoice_id, fields["method"], fields.get("amount"), _actor(),
                                          request.headers.get("Idempotency-Key"))


@blp.route("/invoices/<int:invoice_id>/payment-requests")
@require_roles(*MONEY_STAFF)
@blp.arguments(SubListQuerySchema(), location="query")
@blp.response(200, PaymentRequestSchema(many=True))
def list_payment_requests(query, invoice_id):
    """List the QR codes and card requests issued for a bill, newest first."""
    invoice = services.get_invoice(invoice_id)
    return page(invoice.payment_requests, PaymentRequest.id, query)


@blp.route("/invoices/<int:invoice_id>/ledger")
@require_roles(*MONEY_STAFF)
@blp.arguments(SubListQuerySchema(), location="query")
@blp.response(200, LedgerEntrySchema(many=True))
def list_invoice_ledger(query, invoice_id):
    """Show who changed a bill's money, when and why: charges, reversals, re-splits, payments, refunds."""
    invoice = services.get_invoice(invoice_id)
    return page(invoice.ledger, LedgerEntry.id, query, descending=False)


@blp.route("/invoices/<int:invoice_id>/payments", methods=["POST"])
@require_roles("cashier")
@idempotent
@blp.arguments(CounterPaymentSchema())
@blp.response(201, PaymentSchema)
def record_counter_payment(fields, invoice_id):
    """Record cash taken at the counter, or a bank transfer the cashier confirmed by hand, with a reason."""
    return services.record_counter_payment(invoice_id, fields, _actor())


@blp.route("/payment-requests/<int:request_id>")
@require_roles(*MONEY_STAFF)
@blp.response(200, PaymentRequestSchema)
@reads_patient_data("payment-request")
def get_payment_request(request_id):
    """Show a payment request and whether it has been paid."""
    return services.get_payment_request(request_id)


@blp.route("/payment-requests/<int:request_id>/cancel", methods=["POST"])
@require_roles("cashier")
@blp.response(200, PaymentRequestSchema)
def cancel_payment_request(request_id):
    """Withdraw an unpaid payment request."""
    return services.cancel_payment_request(request_id, _actor())


@blp.route("/payment-requests/<int:request_id>/qr.png")
@require_roles(*MONEY_STAFF)
@blp.response(200, content_type="image/png")
def payment_request_png(request_id):
    """Render the payment request's VietQR as a PNG for the patient's banking app."""
    return Response(render_png(services.vietqr_payload(request_id)), mimetype="image/png", headers=NO_STORE)


@blp.route("/payment-requests/<int:request_id>/qr.svg")
@require_roles(*MONEY_STAFF)
@blp.response(200, content_type="image/svg+xml")
def payment_request_svg(request_id):
    """Render the payment request's VietQR as an SVG."""
    return Response(render_svg(services.vietqr_payload(request_id)), mimetype="image/svg+xml", headers=NO_STORE)


@blp.route("/static-qr.png")
@require_roles(*MONEY_STAFF)
@blp.response(200, content_type="image/png")
def static_qr_png():
    """Render the hospital account's reusable VietQR (the payer types the amount)."""
    return Response(render_png(services.static_vietqr_payload()), mimetype="image/png")


@blp.route("/static-qr.svg")
@require_roles(*MONEY_STAFF)
@blp.response(200, content_type="image/svg+xml")
def static_qr_svg():
    """Render the hospital account's reusable VietQR as an SVG."""
    return Response(render_svg(services.static_vietqr_payload()), mimetype="image/svg+xml")


@blp.route("/payments/<int:payment_id>")
@require_roles(*MONEY_STAFF)
@blp.response(200, PaymentSchema)
@reads_patient_data("payment")
def get_payment(payment_id):
    """Show a payment and how much of it can still be refunded."""
    return services.get_payment(payment_id)


@blp.route("/payments/<int:payment_id>/refunds", methods=["POST"])
@require_roles("finance", "cashier")
@idempotent
@blp.arguments(RefundCreateSchema())
@blp.response(201, RefundSchema)
def refund_payment(fields, payment_id):
    """Give back part or all of a payment (card through the API; bank transfers with the outgoing reference)."""
    return services.refund_payment(payment_id, fields, _actor(), request.headers.get("Idempotency-Key"))


@blp.route("/unmatched-transfers")
@require_roles(*MONEY_STAFF)
@blp.arguments(SubListQuerySchema(), location="query")
@blp.response(200, BankTransferSchema(many=True))
def list_unmatched_transfers(query):
    """List bank transfers no bill reference matched, oldest first, for the cashier and finance."""
    return page(BankTransfer.select().where(BankTransfer.state == "unmatched"), BankTransfer.id, query,
                descending=False)


@blp.route("/unmatched-transfers/<int:transfer_id>/assign", methods=["POST"])
@require_roles(*MONEY_STAFF)
@idempotent
@blp.arguments(TransferAssignmentSchema())
@blp.response(200, BankTransferSchema)
def assign_transfer(fields, transfer_id):
    """Pay a bill with an unmatched transfer, by hand, with a reason."""
    return services.assign_transfer(transfer_id, fields["invoice_id"], fields["reason"], _actor())


@blp.route("/payment-reviews")
@require_roles("finance")
@blp.arguments(PaymentReviewQuerySchema(), location="query")
@blp.response(200, PaymentReviewSchema(many=True))
def list_payment_reviews(query):
    """List card payments held because the provider reported another amount or currency than was asked."""
    return services.list_reviews(query)


@webhooks_blp.route("/stripe", methods=["POST"])
@webhooks_blp.response(200, WebhookAnswerSchema)
def stripe_webhook():
    """Accept a signed card event (Stripe-Signature over the raw body, 300 s tolerance), once per event id."""
    return services.receive_stripe_event(request.get_data(), request.headers.get("Stripe-Signature", ""))


@webhooks_blp.route("/bank-transfer", methods=["POST"])
@webhooks_blp.response(200, WebhookAnswerSchema)
def bank_transfer_webhook():
    """Accept a signed bank transfer notification (X-Signature: sha256=<hex>) and match it to a bill."""
    return services.receive_bank_transfer(request.get_data(), request.headers.get("X-Signature", ""))


@blp.route("/recall-adjustments")
@require_roles(*MONEY_STAFF)
@blp.arguments(RecallAdjustmentQuerySchema(), location="query")
@blp.response(200, RecallAdjustmentSchema(many=True))
def list_recall_adjustments(query):
    """What recalls did to bills: lines reversed, credit notes with the refund due, claim lines withdrawn or
    corrected; by recall or by bill."""
    selection = RecallAdjustment.select()
    if query.get("recall_id"):
        selection = selection.where(RecallAdjustment.recall_id == query["recall_id"])
    if query.get("invoice_id"):
        selection = selection.where(RecallAdjustment.invoice == query["invoice_id"])
    return page(selection, RecallAdjustment.id, query, descending=False)
