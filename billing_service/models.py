"""Billing tables. Money is integer đồng; quantities are integers of the item's base unit; times are UTC.

Line money columns carry the meaning of the BHYT claim fields (QĐ 130/4750): hospital_amount = THANH_TIEN_BV,
insured_amount = THANH_TIEN_BH, insurer_amount = T_BHTT, copay_amount = T_BNCCT, patient_outside_amount = T_BNTT,
other_funding_amount = T_NGUONKHAC, benefit_level = MUC_HUONG. They always hold the line's current (net of
reversals) values, split at the visit's current benefit level.
"""

import json

import peewee

from common.chain import HASH_LENGTH, Chain
from common.db import ServiceDatabaseProxy
from common.models import UtcDateTimeField, idempotency_model, integrity_alert_model, outbox_model, utcnow

db = ServiceDatabaseProxy()


class BaseModel(peewee.Model):
    class Meta:
        database = db


def _percent_field(**kwargs) -> peewee.DecimalField:
    """A percentage such as MUC_HUONG: exact decimal, 32 or 47.5, never binary floating point."""
    return peewee.DecimalField(max_digits=6, decimal_places=2, auto_round=False, **kwargs)


class EncounterSnapshot(BaseModel):
    """The latest picture of a visit the gateway sent: patient, coverage, network, and closing data once closed."""

    encounter_id = peewee.CharField(max_length=100, unique=True)
    patient_id = peewee.CharField(max_length=100, index=True)
    kind = peewee.CharField(max_length=20)  # outpatient | inpatient
    department = peewee.CharField(max_length=100)
    in_network = peewee.BooleanField(default=True)
    network_rate = peewee.IntegerField(default=100)
    status = peewee.CharField(max_length=10, default="open", index=True)  # open | closed
    opened_at = UtcDateTimeField()
    discharged_at = UtcDateTimeField(null=True)
    diagnosis_main = peewee.CharField(max_length=20, null=True)  # ICD-10
    diagnosis_other = peewee.CharField(max_length=200, null=True)
    patient_json = peewee.TextField()  # common.contracts.PatientSnapshotSchema, dumped
    coverage_json = peewee.TextField(null=True)  # common.contracts.CoverageSnapshotSchema, dumped; null = self-pay
    practitioner_json = peewee.TextField(null=True)  # common.contracts.PractitionerSnapshotSchema: the visit's doctor
    received_at = UtcDateTimeField(default=utcnow)
    updated_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "encounter_snapshot"

    @property
    def patient(self) -> dict:
        return json.loads(self.patient_json)

    @property
    def coverage(self) -> dict | None:
        return json.loads(self.coverage_json) if self.coverage_json else None

    @property
    def practitioner(self) -> dict | None:
        return json.loads(self.practitioner_json) if self.practitioner_json else None


class Invoice(BaseModel):
    """One bill per visit. Totals are sums of its lines; paid and refunded move only by guarded SQL updates."""

    encounter_id = peewee.CharField(max_length=100, unique=True)
    patient_id = peewee.CharField(max_length=100, index=True)
    reference = peewee.CharField(max_length=25, unique=True, null=True)  # bill reference in the VietQR memo
    state = peewee.CharField(max_length=16, default="open", index=True)
    benefit_level = _percent_field(default=0)  # the visit's MUC_HUONG applied to its insured lines
    hospital_amount = peewee.BigIntegerField(default=0)
    insured_amount = peewee.BigIntegerField(default=0)
    insurer_amount = peewee.BigIntegerField(default=0)
    copay_amount = peewee.BigIntegerField(default=0)
    patient_outside_amount = peewee.BigIntegerField(default=0)
    other_funding_amount = peewee.BigIntegerField(default=0)
    paid_amount = peewee.BigIntegerField(default=0)  # everything received from the patient
    refunded_amount = peewee.BigIntegerField(default=0)  # everything given back
    currency = peewee.CharField(max_length=3, default="VND")
    created_at = UtcDateTimeField(default=utcnow)
    updated_at = UtcDateTimeField(default=utcnow)
    ledger_head = peewee.CharField(max_length=HASH_LENGTH, null=True)  # row_hash of the bill's last ledger row
    payments_head = peewee.CharField(max_length=HASH_LENGTH, null=True)  # ... and of its last payment

    class Meta:
        table_name = "invoice"

    @property
    def patient_amount(self) -> int:
        return self.copay_amount + self.patient_outside_amount

    @property
    def net_paid_amount(self) -> int:
        return self.paid_amount - self.refunded_amount

    @property
    def balance_amount(self) -> int:
        return max(self.patient_amount - self.net_paid_amount, 0)

    @property
    def overpaid_amount(self) -> int:
        return max(self.net_paid_amount - self.patient_amount, 0)


class InvoiceLine(BaseModel):
    """One charge on the bill (a lab test, a dispensed drug) with its insurance split."""

    invoice = peewee.ForeignKeyField(Invoice, backref="lines", on_delete="RESTRICT")
    charge_key = peewee.CharField(max_length=200, unique=True)  # e.g. lab:test-run:42
    source = peewee.CharField(max_length=20)
    source_id = peewee.CharField(max_length=100)
    item_kind = peewee.CharField(max_length=10)  # service | drug | supply
    code = peewee.CharField(max_length=50)  # MA_DICH_VU / MA_THUOC
    name = peewee.CharField(max_length=300)
    unit = peewee.CharField(max_length=30)
    charged_quantity = peewee.IntegerField()  # as charged
    reversed_quantity = peewee.IntegerField(default=0)
    quantity = peewee.IntegerField()  # SO_LUONG now: charged − reversed
    unit_price_amount = peewee.BigIntegerField()  # DON_GIA_BV
    insurance_unit_price_amount = peewee.BigIntegerField()  # DON_GIA_BH
    insurance_covered = peewee.BooleanField()  # PHAM_VI 1 (in the BHYT list) or 2
    insurance_rate = peewee.IntegerField(default=100)  # TYLE_TT_BH
    self_pay = peewee.BooleanField(default=False)  # no coverage valid on the charge date
    coverage_json = peewee.TextField(null=True)  # the card the gateway sent with this charge (valid on its day)
    hospital_amount = peewee.BigIntegerField()  # THANH_TIEN_BV
    insured_amount = peewee.BigIntegerField()  # THANH_TIEN_BH
    benefit_level = _percent_field()  # MUC_HUONG
    insurer_amount = peewee.BigIntegerField()  # T_BHTT
    copay_amount = peewee.BigIntegerField()  # T_BNCCT
    patient_outside_amount = peewee.BigIntegerField()  # T_BNTT
    other_funding_amount = peewee.BigIntegerField(default=0)  # T_NGUONKHAC
    state_budget_funding_amount = peewee.BigIntegerField(default=0)  # T_NGUONKHAC_NSNN
    foreign_aid_funding_amount = peewee.BigIntegerField(default=0)  # T_NGUONKHAC_VTNN
    domestic_aid_funding_amount = peewee.BigIntegerField(default=0)  # T_NGUONKHAC_VTTN
    other_source_funding_amount = peewee.BigIntegerField(default=0)  # T_NGUONKHAC_CL
    ordered_by_code = peewee.CharField(max_length=50, null=True)  # MA_BAC_SI: practising-certificate number
    ordered_by_name = peewee.CharField(max_length=200, null=True)
    performed_by_code = peewee.CharField(max_length=50, null=True)  # NGUOI_THUC_HIEN
    performed_by_name = peewee.CharField(max_length=200, null=True)
    cost_amount = peewee.BigIntegerField(default=0)
    occurred_at = UtcDateTimeField()  # NGAY_YL
    details_json = peewee.TextField(default="{}")  # source details: loinc, atc, strength, route, results...
    created_at = UtcDateTimeField(default=utcnow)
    updated_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "invoice_line"

    @property
    def details(self) -> dict:
        return json.loads(self.details_json or "{}")

    @property
    def patient_amount(self) -> int:
        return self.copay_amount + self.patient_outside_amount


class LineReversal(BaseModel):
    """A charge.reversed event as received: applied to its line, waiting for the line, or refused."""

    key = peewee.CharField(max_length=200, unique=True)
    charge_key = peewee.CharField(max_length=200, index=True)
    line = peewee.ForeignKeyField(InvoiceLine, null=True, backref="reversals", on_delete="RESTRICT")
    quantity = peewee.IntegerField()
    amount = peewee.BigIntegerField()
    reason = peewee.CharField(max_length=500)
    state = peewee.CharField(max_length=10, default="pending", index=True)  # applied | pending | refused
    occurred_at = UtcDateTimeField()
    created_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "line_reversal"


class PaymentRequest(BaseModel):
    """A request to pay part of a bill: a dynamic VietQR or a card PaymentIntent."""

    invoice = peewee.ForeignKeyField(Invoice, backref="payment_requests", on_delete="RESTRICT")
    method = peewee.CharField(max_length=10)  # vietqr | card
    amount = peewee.BigIntegerField()
    state = peewee.CharField(max_length=16, default="pending", index=True)
    reference = peewee.CharField(max_length=25, index=True)  # bill reference in the memo (tag 62/08)
    qr_payload = peewee.TextField(null=True)
    expires_at = UtcDateTimeField(null=True)
    provider_reference = peewee.CharField(max_length=100, null=True, unique=True)  # PaymentIntent id
    client_secret = peewee.CharField(max_length=200, null=True)
    provider_status = peewee.CharField(max_length=40, null=True)
    failure_message = peewee.CharField(max_length=500, null=True)
    failure_code = peewee.CharField(max_length=60, null=True)  # the provider's decline_code, else its error code
    paid_amount = peewee.BigIntegerField(default=0)
    created_by = peewee.CharField(max_length=100)
    created_at = UtcDateTimeField(default=utcnow)
    updated_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "payment_request"


class Payment(BaseModel):
    """Money received for a bill: a card payment, a bank transfer, cash, or a cashier's manual confirmation."""

    invoice = peewee.ForeignKeyField(Invoice, backref="payments", on_delete="RESTRICT")
    payment_request = peewee.ForeignKeyField(PaymentRequest, null=True, backref="payments", on_delete="RESTRICT")
    method = peewee.CharField(max_length=16)  # card | bank_transfer | cash | manual
    amount = peewee.BigIntegerField()
    refunded_amount = peewee.BigIntegerField(default=0)
    provider_reference = peewee.CharField(max_length=100, null=True)  # PaymentIntent id, bank transaction id
    reason = peewee.CharField(max_length=500, null=True)
    recorded_by = peewee.CharField(max_length=100)
    received_at = UtcDateTimeField(default=utcnow)
    created_at = UtcDateTimeField(default=utcnow)
    prev_hash = peewee.CharField(max_length=HASH_LENGTH, null=True)  # the bill's previous row's row_hash
    row_hash = peewee.CharField(max_length=HASH_LENGTH, null=True)  # common.chain: of prev_hash and the content

    class Meta:
        table_name = "payment"
        indexes = ((("method", "provider_reference"), True),)


class Refund(BaseModel):
    """Money given back from one payment: through the card API, or as a bank transfer with its reference."""

    payment = peewee.ForeignKeyField(Payment, backref="refunds", on_delete="RESTRICT")
    invoice = peewee.ForeignKeyField(Invoice, backref="refunds", on_delete="RESTRICT")
    amount = peewee.BigIntegerField()
    reason = peewee.CharField(max_length=500)
    method = peewee.CharField(max_length=16)  # card | bank_transfer | cash
    provider_reference = peewee.CharField(max_length=100, null=True)
    state = peewee.CharField(max_length=16, default="succeeded")
    created_by = peewee.CharField(max_length=100)
    created_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "refund"


class WebhookEvent(BaseModel):
    """Every signed notification accepted, once per provider event id."""

    provider = peewee.CharField(max_length=16)  # stripe | bank
    event_id = peewee.CharField(max_length=100)
    event_type = peewee.CharField(max_length=60)
    payload = peewee.TextField()
    outcome = peewee.CharField(max_length=40)
    received_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "webhook_event"
        indexes = ((("provider", "event_id"), True),)


class PaymentReview(BaseModel):
    """A card payment the provider reported with another amount or currency than was asked: held for finance,
    never booked as paid on its own."""

    payment_request = peewee.ForeignKeyField(PaymentRequest, backref="reviews", on_delete="RESTRICT")
    invoice = peewee.ForeignKeyField(Invoice, backref="payment_reviews", on_delete="RESTRICT")
    provider = peewee.CharField(max_length=16)  # stripe
    event_id = peewee.CharField(max_length=100)
    provider_reference = peewee.CharField(max_length=100)  # PaymentIntent id
    expected_amount = peewee.BigIntegerField()
    expected_currency = peewee.CharField(max_length=3)
    reported_amount = peewee.BigIntegerField(null=True)  # None when the event's amount is not a usable integer
    reported_currency = peewee.CharField(max_length=10)
    reason = peewee.CharField(max_length=300)
    state = peewee.CharField(max_length=16, default="open", index=True)
    created_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "payment_review"


class BankTransfer(BaseModel):
    """A bank transfer notification: matched to a bill by its memo, or kept unmatched until assigned by hand."""

    transaction_id = peewee.CharField(max_length=100, unique=True)
    account = peewee.CharField(max_length=40)
    amount = peewee.BigIntegerField()
    memo = peewee.CharField(max_length=500)
    occurred_at = UtcDateTimeField()
    state = peewee.CharField(max_length=16, index=True)  # matched | unmatched | assigned
    invoice = peewee.ForeignKeyField(Invoice, null=True, backref="bank_transfers", on_delete="RESTRICT")
    payment = peewee.ForeignKeyField(Payment, null=True, on_delete="RESTRICT")
    assigned_by = peewee.CharField(max_length=100, null=True)
    assignment_reason = peewee.CharField(max_length=500, null=True)
    received_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "bank_transfer"


class LedgerEntry(BaseModel):
    """Append-only record of every change to a bill's money: charges, reversals, re-splits, payments, refunds."""

    invoice = peewee.ForeignKeyField(Invoice, backref="ledger", on_delete="RESTRICT")
    kind = peewee.CharField(max_length=16)  # charge | reversal | resplit | payment | refund | request
    hospital_amount = peewee.BigIntegerField(default=0)  # signed change of the bill total
    insurer_amount = peewee.BigIntegerField(default=0)  # signed change of the insurer's share
    patient_amount = peewee.BigIntegerField(default=0)  # signed change of the patient's share
    cash_amount = peewee.BigIntegerField(default=0)  # + received, − refunded
    reference = peewee.CharField(max_length=200)  # charge key, payment id, refund id...
    actor = peewee.CharField(max_length=100)
    note = peewee.CharField(max_length=500, null=True)
    created_at = UtcDateTimeField(default=utcnow)
    prev_hash = peewee.CharField(max_length=HASH_LENGTH, null=True)  # the bill's previous row's row_hash
    row_hash = peewee.CharField(max_length=HASH_LENGTH, null=True)  # common.chain: of prev_hash and the content

    class Meta:
        table_name = "billing_ledger_entry"


OutboxMessage = outbox_model(BaseModel)
IdempotencyRecord = idempotency_model(BaseModel)
IntegrityAlert = integrity_alert_model(BaseModel)


class RecallAdjustment(BaseModel):
    """What a recall did to the money of one bill line: reversed on an unpaid bill, or a credit note with the
    refund due to the patient on a paid one; and its claim line withdrawn (batch not sent) or corrected (sent)."""

    invoice = peewee.ForeignKeyField(Invoice, backref="recall_adjustments", on_delete="RESTRICT")
    line = peewee.ForeignKeyField(InvoiceLine, backref="recall_adjustments", on_delete="RESTRICT")
    reversal_key = peewee.CharField(max_length=200, unique=True)
    recall_id = peewee.CharField(max_length=100, index=True)
    outcome = peewee.CharField(max_length=12)  # reversed | credit_note
    credit_note_number = peewee.CharField(max_length=20, null=True)  # CN000012 on a paid bill
    hospital_amount = peewee.BigIntegerField()  # what came off the line (THANH_TIEN_BV), positive
    insurer_amount = peewee.BigIntegerField()  # ... off the insurer's share (T_BHTT)
    patient_amount = peewee.BigIntegerField()  # ... off the patient's share
    refund_due_amount = peewee.BigIntegerField(default=0)  # paid by the patient beyond the new share: to give back
    claim_action = peewee.CharField(max_length=10, default="none")  # none | withdrawn | corrected
    claim_line_id = peewee.IntegerField(null=True)
    insurer_correction_amount = peewee.BigIntegerField(default=0)  # sent claim: T_BHTT the insurer must not pay
    reason = peewee.CharField(max_length=500)
    created_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "recall_adjustment"

# One chain per bill for its ledger and one for its payments (never their refunded_amount, which refunds move);
# both heads are on the bill's row, which every writer of the bill locks (store.locked_invoice).
LEDGER_CHAIN = Chain("billing.invoice_ledger", LedgerEntry, "invoice",
                     ("invoice", "kind", "hospital_amount", "insurer_amount", "patient_amount", "cash_amount",
                      "reference", "actor", "note", "created_at"), Invoice, head_field="ledger_head")
PAYMENT_CHAIN = Chain("billing.invoice_payments", Payment, "invoice",
                      ("invoice", "payment_request", "method", "amount", "provider_reference", "reason",
                       "recorded_by", "received_at", "created_at"), Invoice, head_field="payments_head")
