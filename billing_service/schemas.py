"""Billing request/response schemas (one per resource, used for load and dump). Money is integer đồng."""

from decimal import Decimal

from marshmallow import Schema, fields, validate

from billing_service.models import InvoiceLine, Payment, RecallAdjustment
from common.bounds import moment, money, page_limit, row_id, text
from common.models import utcnow
from common.paging import PagedQuerySchema

MONEY = fields.Integer  # amounts given back; amounts taken in are common.bounds.money (strict, bounded)


def _reason(**kwargs):
    return text(500, 3, multiline=True, **kwargs)


def _reference(**kwargs):
    return text(100, 1, **kwargs)


class Percent(fields.Field):
    """A percentage such as MUC_HUONG: an integer when whole (80), else an exact decimal string ("47.5")."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        value = Decimal(value)
        return int(value) if value == value.to_integral_value() else str(value.normalize())


class InvoiceLineSchema(Schema):
    id = fields.Integer()
    charge_key = fields.String()
    source = fields.String()
    item_kind = fields.String()
    code = fields.String()
    name = fields.String()
    unit = fields.String()
    charged_quantity = fields.Integer()
    reversed_quantity = fields.Integer()
    quantity = fields.Integer()
    unit_price_amount = MONEY()
    insurance_unit_price_amount = MONEY()
    insurance_covered = fields.Boolean()
    insurance_rate = fields.Integer()
    self_pay = fields.Boolean()
    hospital_amount = MONEY()
    insured_amount = MONEY()
    benefit_level = Percent()
    insurer_amount = MONEY()
    copay_amount = MONEY()
    patient_outside_amount = MONEY()
    other_funding_amount = MONEY()
    state_budget_funding_amount = MONEY()
    foreign_aid_funding_amount = MONEY()
    domestic_aid_funding_amount = MONEY()
    other_source_funding_amount = MONEY()
    patient_amount = MONEY()
    ordered_by_code = fields.String(allow_none=True)
    ordered_by_name = fields.String(allow_none=True)
    performed_by_code = fields.String(allow_none=True)
    performed_by_name = fields.String(allow_none=True)
    occurred_at = fields.AwareDateTime()
    details = fields.Dict()


class PaymentSchema(Schema):
    id = fields.Integer()
    invoice_id = fields.Integer()
    payment_request_id = fields.Integer(allow_none=True)
    method = fields.String()
    amount = MONEY()
    refunded_amount = MONEY()
    refundable_amount = fields.Method("_refundable")
    provider_reference = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    recorded_by = fields.String()
    received_at = fields.AwareDateTime()

    def _refundable(self, payment) -> int:
        return payment.amount - payment.refunded_amount


class InvoiceSummarySchema(Schema):
    id = fields.Integer()
    encounter_id = fields.String()
    patient_id = fields.String()
    reference = fields.String()
    state = fields.String()
    currency = fields.String()
    benefit_level = Percent()
    hospital_amount = MONEY()
    insured_amount = MONEY()
    insurer_amount = MONEY()
    copay_amount = MONEY()
    patient_outside_amount = MONEY()
    other_funding_amount = MONEY()
    patient_amount = MONEY()
    paid_amount = MONEY()
    refunded_amount = MONEY()
    balance_amount = MONEY()
    overpaid_amount = MONEY()
    refund_due = fields.Method("_refund_due")
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()

    def _refund_due(self, invoice) -> bool:
        return invoice.overpaid_amount > 0


class InvoiceSchema(InvoiceSummarySchema):
    lines = fields.Method("_lines")
    payments = fields.Method("_payments")
    recall_adjustments = fields.Method("_recall_adjustments", metadata={
        "description": "what drug recalls did to this bill: lines reversed, credit notes and the refund due"})

    def _lines(self, invoice):
        return InvoiceLineSchema(many=True).dump(invoice.lines.order_by(InvoiceLine.id))

    def _payments(self, invoice):
        return PaymentSchema(many=True).dump(invoice.payments.order_by(Payment.id))

    def _recall_adjustments(self, invoice):
        return RecallAdjustmentSchema(many=True).dump(invoice.recall_adjustments.order_by(RecallAdjustment.id))


class SubListQuerySchema(PagedQuerySchema):
    """The query of a list that belongs to one row (a bill's payment requests, its ledger)."""

    limit = page_limit(1000)


class InvoiceQuerySchema(PagedQuerySchema):
    encounter_id = text(100)
    patient_id = text(100)
    state = fields.String(validate=validate.OneOf(("open", "partially_paid", "paid", "refunded", "void")))
    limit = page_limit(100)


class PaymentRequestCreateSchema(Schema):
    method = fields.String(required=True, validate=validate.OneOf(("vietqr", "card")))
    amount = money(1, metadata={"description": "đồng; the bill's balance when absent"})


class PaymentRequestSchema(Schema):
    id = fields.Integer()
    invoice_id = fields.Integer()
    method = fields.String()
    amount = MONEY()
    paid_amount = MONEY()
    currency = fields.Constant("VND")
    state = fields.Method("_state")
    reference = fields.String()
    qr_payload = fields.String(allow_none=True)
    qr_png_url = fields.Method("_png")
    qr_svg_url = fields.Method("_svg")
    expires_at = fields.AwareDateTime(allow_none=True)
    payment_intent_id = fields.String(attribute="provider_reference", allow_none=True)
    client_secret = fields.String(allow_none=True)
    provider_status = fields.String(allow_none=True)
    failure_message = fields.String(allow_none=True, metadata={"description": "the card provider's words"})
    failure_code = fields.String(allow_none=True, metadata={
        "description": "the provider's decline code (e.g. insufficient_funds), else its error code (card_declined)"})
    created_by = fields.String()
    created_at = fields.AwareDateTime()

    def _state(self, request) -> str:
        if request.state == "pending" and request.expires_at is not None and request.expires_at < utcnow():
            return "expired"
        return request.state

    def _png(self, request):
        return f"/api/v1/billing/payment-requests/{request.id}/qr.png" if request.method == "vietqr" else None

    def _svg(self, request):
        return f"/api/v1/billing/payment-requests/{request.id}/qr.svg" if request.method == "vietqr" else None


class CounterPaymentSchema(Schema):
    method = fields.String(required=True, validate=validate.OneOf(("cash", "bank_transfer")))
    amount = money(1, required=True)
    reason = _reason(required=True)
    reference = _reference()


class RefundCreateSchema(Schema):
    amount = money(1, required=True)
    reason = _reason(required=True)
    reference = _reference()


class RefundSchema(Schema):
    id = fields.Integer()
    payment_id = fields.Integer()
    invoice_id = fields.Integer()
    amount = MONEY()
    reason = fields.String()
    method = fields.String()
    provider_reference = fields.String(allow_none=True)
    state = fields.String()
    created_by = fields.String()
    created_at = fields.AwareDateTime()
    invoice_state = fields.Method("_invoice_state")

    def _invoice_state(self, refund) -> str:
        return refund.invoice.state


class BankTransferNotificationSchema(Schema):
    transaction_id = _reference(required=True)
    account = text(40, 1, required=True)
    amount = money(1, required=True)
    memo = text(500, required=True, multiline=True)
    occurred_at = moment(required=True)


class BankTransferSchema(Schema):
    id = fields.Integer()
    transaction_id = fields.String()
    account = fields.String()
    amount = MONEY()
    memo = fields.String()
    occurred_at = fields.AwareDateTime()
    state = fields.String()
    invoice_id = fields.Integer(allow_none=True)
    payment_id = fields.Integer(allow_none=True)
    assigned_by = fields.String(allow_none=True)
    assignment_reason = fields.String(allow_none=True)
    received_at = fields.AwareDateTime()


class TransferAssignmentSchema(Schema):
    invoice_id = row_id(required=True)
    reason = _reason(required=True)


class LedgerEntrySchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    hospital_amount = MONEY()
    insurer_amount = MONEY()
    patient_amount = MONEY()
    cash_amount = MONEY()
    reference = fields.String()
    actor = fields.String()
    note = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()


class WebhookAnswerSchema(Schema):
    status = fields.String()
    event_id = fields.String()
    transfer_id = fields.Integer()
    invoice_id = fields.Integer(allow_none=True)
    invoice_state = fields.String()
    balance_amount = MONEY()
    overpaid_amount = MONEY()


class ReceiptSchema(Schema):
    """What an internal receiver answers: the stored key and whether it was new."""

    key = fields.String()
    invoice_id = fields.Integer(allow_none=True)
    state = fields.String()


class ChargeRevenueQuerySchema(Schema):
    source = fields.String(required=True, validate=validate.OneOf(("lab", "pharmacy")))
    since = fields.AwareDateTime(required=True, format="iso")
    until = fields.AwareDateTime(required=True, format="iso")


class ChargeRevenueSchema(Schema):
    charge_key = fields.String()
    quantity = fields.Integer()
    revenue_amount = MONEY()
    insurer_amount = MONEY()
    patient_amount = MONEY()
    other_funding_amount = MONEY()
    payer = fields.String()  # bhyt | self_pay


class RecallAdjustmentQuerySchema(PagedQuerySchema):
    recall_id = text(100)
    invoice_id = row_id(strict=False)
    limit = page_limit(100)


class RecallAdjustmentSchema(Schema):
    """What a recall did to one bill line's money."""

    id = fields.Integer()
    invoice_id = fields.Integer()
    line_id = fields.Integer()
    charge_key = fields.Function(lambda adjustment: adjustment.line.charge_key)
    reversal_key = fields.String()
    recall_id = fields.String()
    outcome = fields.String(metadata={"description": "reversed (unpaid bill) | credit_note (paid bill)"})
    credit_note_number = fields.String(allow_none=True)
    hospital_amount = fields.Integer()
    insurer_amount = fields.Integer()
    patient_amount = fields.Integer()
    refund_due_amount = fields.Integer()
    claim_action = fields.String(metadata={"description": "none | withdrawn (batch not sent) | corrected (sent)"})
    claim_line_id = fields.Integer(allow_none=True)
    insurer_correction_amount = fields.Integer()
    reason = fields.String()
    created_at = fields.AwareDateTime()
