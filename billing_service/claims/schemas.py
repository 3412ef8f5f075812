"""Claim, remittance and reconciliation schemas (one per resource, load and dump). Money is integer đồng."""

import json
import re
from datetime import date
from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from billing_service.claims.models import DISCREPANCY_KINDS, EXPORT_FORMATS, XML_TABLES
from common.bounds import (
    FIRST_DAY,
    INT4_MAX,
    LAST_DAY,
    MAX_AMOUNT,
    day,
    name_text,
    page_limit,
    period_text,
    row_id,
    text,
    unit_price,
)
from common.paging import PagedQuerySchema

MONEY = fields.Integer


def percent(value) -> int | str:
    """Dump a percentage such as MUC_HUONG: an integer when whole (80), else an exact decimal string ("47.5")."""
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else str(value.normalize())


class WholeDong(fields.Field):
    """An amount in đồng from CSV text or JSON: a whole, non-negative number; empty means 0."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value is None or value == "":
            return 0
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValidationError("Must be a whole number of đồng.")
        if isinstance(value, str) and not re.fullmatch(r"\d{1,15}", value.strip()):
            raise ValidationError("Must be a whole number of đồng (digits only, no separators or decimals).")
        amount = int(value)
        if amount < 0:
            raise ValidationError("Must not be negative.")
        if amount > MAX_AMOUNT:
            raise ValidationError(f"Must be at most {MAX_AMOUNT:,} đồng.")
        return amount


class LooseDate(fields.Field):
    """A date written YYYY-MM-DD or yyyymmdd (the BHYT style); empty means none."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value is None or value == "":
            return None
        text = str(value).strip()
        if re.fullmatch(r"\d{8}", text):
            text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise ValidationError("Must be a date written YYYY-MM-DD or yyyymmdd.") from None
        if not FIRST_DAY <= day <= LAST_DAY:
            raise ValidationError("Must lie between 1900 and 2100.")
        return day


class LineNumber(fields.Integer):
    """A positive STT from CSV text or JSON."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and not re.fullmatch(r"\s*\d{1,9}\s*", value):
            raise ValidationError("Must be a whole number.")
        return super()._deserialize(value, attr, data, **kwargs)


class RemittanceRowSchema(Schema):
    """One row of the insurer's assessment: which claimed line, what was approved, rejected and paid."""

    ma_lk = text(100, 1, required=True)
    table = fields.Function(deserialize=lambda value: str(value).strip().upper(), required=True,
                            validate=validate.OneOf(XML_TABLES, error="Must be XML2 or XML3."))
    line_no = LineNumber(required=True, validate=validate.Range(1, INT4_MAX))
    approved_amount = WholeDong(required=True)
    rejection_reason = text(500, load_default="", multiline=True)
    paid_amount = WholeDong(load_default=0)
    payment_reference = text(100, load_default="")
    paid_on = LooseDate(load_default=None)

    @validates_schema
    def _payment_is_complete(self, data, **kwargs):
        if data.get("paid_amount", 0) > 0 and not (data.get("payment_reference") or "").strip():
            raise ValidationError("A paid row needs its payment_reference.", "payment_reference")
        if data.get("paid_amount", 0) > 0 and data.get("paid_on") is None:
            raise ValidationError("A paid row needs paid_on.", "paid_on")
        if data.get("paid_amount", 0) > data.get("approved_amount", 0):
            raise ValidationError("The insurer cannot pay more than it approved.", "paid_amount")


class PeriodSchema(Schema):
    period = period_text(required=True)


class ClaimBatchQuerySchema(PagedQuerySchema):
    period = period_text()


class ExportQuerySchema(Schema):
    format = fields.String(load_default="bhyt-4750", validate=validate.OneOf(EXPORT_FORMATS))


class ClaimBatchSchema(Schema):
    id = fields.Integer()
    period = fields.String()
    sequence = fields.Integer()
    facility_code = fields.String()
    visit_count = fields.Integer()
    line_count = fields.Integer()
    currency = fields.Constant("VND")
    hospital_amount = MONEY()
    insured_amount = MONEY()
    insurer_amount = MONEY()
    copay_amount = MONEY()
    patient_outside_amount = MONEY()
    other_funding_amount = MONEY()
    created_by = fields.String()
    created_at = fields.AwareDateTime()
    export_urls = fields.Method("_exports")

    def _exports(self, batch) -> dict:
        base = f"/api/v1/billing/claim-batches/{batch.id}/export?format="
        return {name: base + name for name in EXPORT_FORMATS}


class ClaimQuerySchema(PagedQuerySchema):
    encounter_id = text(100, 1)
    batch_id = row_id(strict=False)
    limit = page_limit(100)


class ClaimLineSchema(Schema):
    id = fields.Integer()
    invoice_line_id = fields.Integer()
    table = fields.String(attribute="xml_table")
    line_no = fields.Integer()
    code = fields.String()
    quantity = fields.Integer()
    benefit_level = fields.Function(lambda line: percent(line["benefit_level"]))
    hospital_amount = MONEY()
    insured_amount = MONEY()
    insurer_amount = MONEY()
    copay_amount = MONEY()
    patient_outside_amount = MONEY()
    approved_amount = MONEY(allow_none=True)
    rejection_reason = fields.String(allow_none=True)
    paid_amount = MONEY()
    source = fields.Dict(allow_none=True)  # the lab test run or dispense line, with its lots


class ClaimSchema(Schema):
    id = fields.Integer()
    batch_id = fields.Integer()
    period = fields.String()
    ma_lk = fields.Function(lambda claim: claim["encounter_id"])
    encounter_id = fields.String()
    invoice_id = fields.Integer()
    stt = fields.Integer()
    status = fields.String()
    line_count = fields.Integer()
    rejected_line_count = fields.Integer()
    hospital_amount = MONEY()
    insurer_amount = MONEY()
    approved_amount = MONEY()
    paid_amount = MONEY()
    lines = fields.List(fields.Nested(ClaimLineSchema))


SAID_PARAMS = ("its values by name: amounts in đồng end in _amount, days (ISO) in _on, moments (ISO) in _at; "
               "the rest as text or numbers")


class RejectedRowSchema(Schema):
    line = fields.Integer()
    reason = fields.String(metadata={"description": "in English; reason_code and reason_params say the same"})
    reason_code = fields.String(metadata={"description": "why the row is not used, a stable code (e.g. "
                                                         "no_claimed_line)"})
    reason_params = fields.Dict(metadata={"description": SAID_PARAMS})


class RemittanceImportSchema(Schema):
    id = fields.Integer()
    file_sha256 = fields.String()
    format = fields.String(attribute="file_format")
    row_count = fields.Integer()
    accepted_count = fields.Integer()
    duplicate_count = fields.Integer()
    rejected_count = fields.Integer()
    rejected = fields.Function(lambda remittance: json.loads(remittance.rejected_rows))
    approved_amount = MONEY()
    paid_amount = MONEY()
    already_imported = fields.Boolean()
    created_by = fields.String()
    created_at = fields.AwareDateTime()


class ReconciliationQuerySchema(Schema):
    period = period_text(required=True)
    format = fields.String(validate=validate.OneOf(("json", "csv")))
    kind = fields.String(validate=validate.OneOf(DISCREPANCY_KINDS))


class DiscrepancySchema(Schema):
    kind = fields.String()
    encounter_id = fields.String(allow_none=True)
    invoice_id = fields.Integer(allow_none=True)
    invoice_line_id = fields.Integer(allow_none=True)
    charge_key = fields.String(allow_none=True)
    claim_line_id = fields.Integer(allow_none=True)
    table = fields.String(allow_none=True)
    line_no = fields.Integer(allow_none=True)
    code = fields.String(allow_none=True)
    expected_amount = MONEY()
    actual_amount = MONEY()
    amount = MONEY()
    detail = fields.String(metadata={"description": "in English (a rejection: the insurer's reason as it came); "
                                                    "detail_code and detail_params say the same"})
    detail_code = fields.String(metadata={"description": "what disagrees, a stable code (e.g. charged_not_claimed)"})
    detail_params = fields.Dict(metadata={"description": SAID_PARAMS})
    source = fields.Dict(allow_none=True)  # rejections: the lab test run or dispense line to fix, with its lots


class ReconciliationSchema(Schema):
    period = fields.String()
    currency = fields.Constant("VND")
    generated_at = fields.String()
    totals = fields.Dict()
    discrepancies = fields.List(fields.Nested(DiscrepancySchema))


class RunQuerySchema(Schema):
    format = fields.String(validate=validate.OneOf(("json", "csv")))


class ReconciliationRunSchema(Schema):
    id = fields.Integer()
    period = fields.String()
    state = fields.String()
    progress = fields.Integer()
    step = fields.String()
    error = fields.String(allow_none=True)
    requested_by = fields.String()
    created_at = fields.AwareDateTime()
    started_at = fields.AwareDateTime(allow_none=True)
    finished_at = fields.AwareDateTime(allow_none=True)
    result = fields.Function(lambda run: json.loads(run.result_json) if run.result_json else None)


class SourceLinkSchema(Schema):
    kind = fields.String()  # lab_test_run | dispense_line
    id = fields.String()
    url = fields.String()
    reagent_lots = fields.List(fields.Dict())
    drug_lots = fields.List(fields.Dict())


class FindingSchema(Schema):
    rule = fields.String()
    severity = fields.String()  # critical | warning
    overridable = fields.Boolean()
    message = fields.String(metadata={"description": "in English; message_code and message_params say the same"})
    message_code = fields.String(metadata={"description": "what was found, a stable code (e.g. card_not_valid_on_day)"})
    message_params = fields.Dict(metadata={"description": SAID_PARAMS})
    ma_lk = fields.String(allow_none=True)
    table = fields.String(allow_none=True)
    line_no = fields.Integer(allow_none=True)
    claim_line_id = fields.Integer(allow_none=True)
    invoice_line_id = fields.Integer(allow_none=True)
    code = fields.String(allow_none=True)
    source = fields.Nested(SourceLinkSchema, allow_none=True)


class RuleCountSchema(Schema):
    rule = fields.String()
    severity = fields.String()
    overridable = fields.Boolean()
    count = fields.Integer()


class OverrideSchema(Schema):
    id = fields.Integer()
    batch_id = fields.Integer()
    reason = fields.String()
    critical_count = fields.Integer()
    findings = fields.Function(lambda override: json.loads(override.findings_json))
    created_by = fields.String()
    created_at = fields.AwareDateTime()


class OverrideSummarySchema(OverrideSchema):
    class Meta:
        exclude = ("findings",)


class OverrideRequestSchema(Schema):
    reason = text(1000, 10, multiline=True, required=True, metadata={
        "example": "BS. Hương đã ký bổ sung chỉ định; giám định viên BHXH đồng ý nhận hồ sơ kèm giải trình"})


class PreCheckQuerySchema(Schema):
    format = fields.String(validate=validate.OneOf(("json", "csv")))
    severity = fields.String(validate=validate.OneOf(("critical", "warning")))


class PreCheckReportSchema(Schema):
    batch_id = fields.Integer()
    period = fields.String()
    checked_at = fields.AwareDateTime()
    visit_count = fields.Integer()
    line_count = fields.Integer()
    critical_count = fields.Integer()
    warning_count = fields.Integer()
    overridable = fields.Boolean()
    exportable = fields.Boolean()
    override = fields.Nested(OverrideSummarySchema, allow_none=True)
    rules = fields.List(fields.Nested(RuleCountSchema))
    findings = fields.List(fields.Nested(FindingSchema))


class InsurancePriceSchema(Schema):
    id = fields.Integer(dump_only=True)
    code = text(50, 1, required=True)
    item_kind = fields.String(required=True, validate=validate.OneOf(("service", "drug", "supply")))
    name = name_text(300, required=True)
    unit_name = name_text(30, required=True)
    price_amount = unit_price(required=True)
    valid_from = day(required=True)
    valid_to = day(load_default=None, allow_none=True)
    decision = text(200, load_default="")

    @validates_schema
    def _period_is_ordered(self, data, **kwargs):
        if data.get("valid_to") is not None and data["valid_to"] < data["valid_from"]:
            raise ValidationError("valid_to is before valid_from.", "valid_to")


class InsurancePriceListSchema(Schema):
    prices = fields.List(fields.Nested(InsurancePriceSchema), required=True, validate=validate.Length(1, 5_000))


class InsurancePriceQuerySchema(PagedQuerySchema):
    code = text(50, 1)
    limit = page_limit(1000, maximum=20_000)


class StoredCountSchema(Schema):
    stored = fields.Integer()
