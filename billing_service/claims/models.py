"""Claim tables: batches of visits sent to BHYT, their lines, the insurer's remittances, reconciliation runs.

A claim line keeps the money it was claimed with (a snapshot of its invoice line at build time), so a charge reversed
or re-split afterwards shows up in reconciliation instead of silently changing what was sent. Remittance rows are
append-only: the latest row of a claimed line gives the insurer's approval, the sum of its rows what was paid; the
claim line carries both, updated with each row, so reconciliation reads one table instead of aggregating the ledger.
"""

import peewee

from billing_service.models import BaseModel, Invoice, InvoiceLine
from common.models import UtcDateTimeField, utcnow

XML_TABLES = ("XML2", "XML3")  # drugs, services and supplies
EXPORT_FORMATS = ("bhyt-4750", "fhir")
DISCREPANCY_KINDS = ("charged_not_claimed", "claimed_not_charged", "amount_mismatch", "rejected_by_insurer",
                     "paid_less_than_approved", "duplicate_charge", "patient_share_unpaid", "payment_without_bill",
                     "overpaid")


class ClaimBatch(BaseModel):
    """The visits of one settlement month sent together; later batches of a month carry late-closed visits."""

    period = peewee.CharField(max_length=7, index=True)  # YYYY-MM of discharge, Asia/Ho_Chi_Minh
    sequence = peewee.IntegerField(default=1)  # 1 = the month's batch, 2.. = supplementary batches
    facility_code = peewee.CharField(max_length=5)  # MA_CSKCB
    visit_count = peewee.IntegerField(default=0)
    line_count = peewee.IntegerField(default=0)
    hospital_amount = peewee.BigIntegerField(default=0)  # Σ THANH_TIEN_BV
    insured_amount = peewee.BigIntegerField(default=0)  # Σ THANH_TIEN_BH
    insurer_amount = peewee.BigIntegerField(default=0)  # Σ T_BHTT
    copay_amount = peewee.BigIntegerField(default=0)  # Σ T_BNCCT
    patient_outside_amount = peewee.BigIntegerField(default=0)  # Σ T_BNTT
    other_funding_amount = peewee.BigIntegerField(default=0)  # Σ T_NGUONKHAC
    created_by = peewee.CharField(max_length=100)
    created_at = UtcDateTimeField(default=utcnow)
    exported_at = UtcDateTimeField(null=True)  # first download of its file: sent, its lines no longer withdrawn

    class Meta:
        table_name = "claim_batch"
        indexes = ((("period", "sequence"), True),)


class Claim(BaseModel):
    """One visit in a batch (one HOSO, MA_LK = the visit id); a visit is claimed once."""

    batch = peewee.ForeignKeyField(ClaimBatch, backref="claims", on_delete="RESTRICT")
    encounter_id = peewee.CharField(max_length=100, unique=True)  # MA_LK
    invoice = peewee.ForeignKeyField(Invoice, backref="claims", on_delete="RESTRICT")
    stt = peewee.IntegerField()  # HOSO number in the batch
    created_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "claim"
        indexes = ((("batch", "stt"), True),)


class ClaimLine(BaseModel):
    """One claimed charge: an XML2 (drug) or XML3 (service/supply) row, found again by MA_LK + table + STT."""

    claim = peewee.ForeignKeyField(Claim, backref="lines", on_delete="RESTRICT")
    invoice_line = peewee.ForeignKeyField(InvoiceLine, unique=True, backref="claim_lines", on_delete="RESTRICT")
    ma_lk = peewee.CharField(max_length=100)
    xml_table = peewee.CharField(max_length=4)  # XML2 | XML3
    line_no = peewee.IntegerField()  # STT within its table and visit
    code = peewee.CharField(max_length=50)
    quantity = peewee.IntegerField()  # SO_LUONG
    unit_price_amount = peewee.BigIntegerField()  # DON_GIA_BV
    insurance_unit_price_amount = peewee.BigIntegerField()  # DON_GIA_BH
    insurance_scope = peewee.IntegerField()  # PHAM_VI: 1 in the BHYT list, 2 outside
    insurance_rate = peewee.IntegerField()  # TYLE_TT_BH (0 outside the list)
    benefit_level = peewee.DecimalField(max_digits=6, decimal_places=2, auto_round=False)  # MUC_HUONG
    hospital_amount = peewee.BigIntegerField()  # THANH_TIEN_BV
    insured_amount = peewee.BigIntegerField()  # THANH_TIEN_BH
    insurer_amount = peewee.BigIntegerField()  # T_BHTT
    copay_amount = peewee.BigIntegerField()  # T_BNCCT
    patient_outside_amount = peewee.BigIntegerField()  # T_BNTT
    other_funding_amount = peewee.BigIntegerField()  # T_NGUONKHAC
    state_budget_funding_amount = peewee.BigIntegerField(default=0)  # T_NGUONKHAC_NSNN
    foreign_aid_funding_amount = peewee.BigIntegerField(default=0)  # T_NGUONKHAC_VTNN
    domestic_aid_funding_amount = peewee.BigIntegerField(default=0)  # T_NGUONKHAC_VTTN
    other_source_funding_amount = peewee.BigIntegerField(default=0)  # T_NGUONKHAC_CL
    # The insurer's answer so far, kept in step with the remittance rows (the ledger) by guarded SQL updates:
    approved_amount = peewee.BigIntegerField(null=True)  # latest approval of T_BHTT; null = not assessed yet
    rejection_reason = peewee.CharField(max_length=500, null=True)
    paid_amount = peewee.BigIntegerField(default=0)  # Σ paid over the line's remittance rows
    withdrawn_at = UtcDateTimeField(null=True)  # recalled to nothing before its batch was sent: not in the file
    withdrawn_reason = peewee.CharField(max_length=500, null=True)

    class Meta:
        table_name = "claim_line"
        indexes = ((("ma_lk", "xml_table", "line_no"), True),)


class RemittanceImport(BaseModel):
    """One assessment/payment file from the insurer, once per content hash, with its row report."""

    file_sha256 = peewee.CharField(max_length=64, unique=True)
    file_format = peewee.CharField(max_length=8)  # csv | ndjson
    row_count = peewee.IntegerField()
    accepted_count = peewee.IntegerField()
    duplicate_count = peewee.IntegerField()
    rejected_count = peewee.IntegerField()
    rejected_rows = peewee.TextField(default="[]")  # JSON [{"line", "reason"}]
    approved_amount = peewee.BigIntegerField(default=0)  # Σ of accepted rows
    paid_amount = peewee.BigIntegerField(default=0)
    created_by = peewee.CharField(max_length=100)
    created_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "remittance_import"


class RemittanceLine(BaseModel):
    """The insurer's answer for one claimed line: approved amount (T_BHTT accepted), rejection, payment."""

    remittance = peewee.ForeignKeyField(RemittanceImport, backref="lines", on_delete="RESTRICT")
    claim_line = peewee.ForeignKeyField(ClaimLine, backref="remittances", on_delete="RESTRICT")
    source_line = peewee.IntegerField()  # line number in the imported file
    approved_amount = peewee.BigIntegerField()
    rejection_reason = peewee.CharField(max_length=500, default="")
    paid_amount = peewee.BigIntegerField(default=0)
    payment_reference = peewee.CharField(max_length=100, default="")  # "" while not paid
    paid_on = peewee.DateField(null=True)
    created_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "remittance_line"
        indexes = ((("claim_line", "payment_reference"), True),)


class ReconciliationRun(BaseModel):
    """A reconciliation computed in the background, with progress the caller polls and the result once done."""

    period = peewee.CharField(max_length=7)
    state = peewee.CharField(max_length=10, default="queued")  # queued | running | done | failed
    progress = peewee.IntegerField(default=0)  # percent
    step = peewee.CharField(max_length=60, default="")
    result_json = peewee.TextField(null=True)
    error = peewee.CharField(max_length=500, null=True)
    requested_by = peewee.CharField(max_length=100)
    created_at = UtcDateTimeField(default=utcnow)
    started_at = UtcDateTimeField(null=True)
    finished_at = UtcDateTimeField(null=True)

    class Meta:
        table_name = "reconciliation_run"


class InsurancePrice(BaseModel):
    """The BHYT price list: what the insurer pays at most per unit of a service, drug or supply code (DON_GIA_BH).

    A code may have several rows over time (a new price decision); the row valid on a line's service date applies.
    """

    code = peewee.CharField(max_length=50, index=True)  # MA_DICH_VU / MA_THUOC / MA_VAT_TU
    item_kind = peewee.CharField(max_length=10)  # service | drug | supply
    name = peewee.CharField(max_length=300)
    unit_name = peewee.CharField(max_length=30)  # DON_VI_TINH
    price_amount = peewee.BigIntegerField()  # đồng per unit
    valid_from = peewee.DateField()
    valid_to = peewee.DateField(null=True)  # null: until a newer price replaces it
    decision = peewee.CharField(max_length=200, default="")  # the price decision, e.g. TT 22/2023/TT-BYT
    created_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "insurance_price"
        indexes = ((("code", "valid_from"), True),)


class ClaimBatchOverride(BaseModel):
    """Finance's explicit decision to send a batch despite its critical findings, with why and what was overridden."""

    batch = peewee.ForeignKeyField(ClaimBatch, backref="overrides", on_delete="RESTRICT")
    reason = peewee.CharField(max_length=1000)
    critical_count = peewee.IntegerField()
    fingerprint = peewee.CharField(max_length=64)  # SHA-256 of the critical findings it covers
    findings_json = peewee.TextField()  # the critical findings overridden, as they were
    created_by = peewee.CharField(max_length=100)
    created_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "claim_batch_override"
