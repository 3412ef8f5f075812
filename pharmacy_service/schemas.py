"""Pharmacy request/response schemas (one per resource, used for load and dump)."""

import json

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates, validates_schema

from common.bounds import (
    MAX_AMOUNT,
    MAX_STOCK_QUANTITY,
    Text,
    code_text,
    day,
    integer,
    name_text,
    page_limit,
    stock_quantity,
    text,
    unit_price,
)
from common.gs1 import gtin_check_digit
from common.paging import PagedQuerySchema
from pharmacy_service.models import (
    DrugLot,
)
from pharmacy_service.services.moves import lot_condition

CODE = validate.Regexp(r"^[A-Za-z0-9._-]{1,40}$", error="Use 1-40 letters, digits, '.', '_' or '-'")
ATC = validate.Regexp(r"^[A-Z]\d{2}[A-Z]{2}\d{2}$", error="A full 7-character ATC code, e.g. J01CA04")
GROUP_SEPARATOR = "\x1d"  # FNC1 in a scanned GS1 DataMatrix
MAX_LINES = 50
ADJUSTMENT_REASONS = ("damaged", "lost", "found", "destroyed", "returned_to_supplier", "sample", "other")


def catalogue_code(**kwargs):
    return code_text(CODE, 40, **kwargs)


def reason_text(**kwargs):
    return text(500, 1, multiline=True, **kwargs)


class CatalogueQuerySchema(PagedQuerySchema):
    limit = page_limit(1000)


class DrugSchema(Schema):
    id = fields.Integer(dump_only=True)
    code = catalogue_code(required=True)
    name = name_text(200, required=True)
    active_ingredient = name_text(200, required=True)
    strength = text(100, 1, required=True)
    dosage_form = text(100, 1, required=True)
    route = text(50, 1, required=True)
    atc_code = code_text(ATC, 10, required=True)
    registration_number = text(40, 1, required=True)
    base_unit = text(20, 1, required=True)
    unit_name = text(30, 1, load_default=None, metadata={
        "description": "DON_VI_TINH as the national drug list writes it (Viên, Lọ, Ống, Chai...); "
                       "defaults from a known base unit"})
    gtin = text(14, 8, load_default=None, allow_none=True, pattern=r"^\d{8,14}$")
    price_amount = unit_price(required=True)
    insurance_scope = fields.Integer(strict=True, load_default=1, validate=validate.OneOf((1, 2)))
    insurance_rate = integer(0, 100, load_default=100)
    reorder_level = stock_quantity(minimum=0, load_default=0)
    created_at = fields.AwareDateTime(dump_only=True)

    @validates("gtin")
    def _valid_gtin(self, value, **_):
        if value is None:
            return
        if not value.isascii() or not value.isdigit() or len(value) not in (8, 12, 13, 14):
            raise ValidationError("A GTIN is 8, 12, 13 or 14 digits")
        if int(value[-1]) != gtin_check_digit(value[:-1]):
            raise ValidationError(f"GTIN {value} has a wrong check digit")

    @post_load
    def _gtin_14(self, data, **_):
        if data.get("gtin"):
            data["gtin"] = data["gtin"].zfill(14)  # scanners send GTIN-14; store the same form
        return data


class LotSchema(Schema):
    id = fields.Integer()
    drug_code = fields.Function(lambda lot: lot.drug.code)
    lot_number = fields.String()
    expires_on = fields.Date()
    supplier = fields.String()
    unit_cost_amount = fields.Integer()
    quantity_received = fields.Integer()
    quantity_on_hand = fields.Integer()
    quantity_quarantined = fields.Integer()
    status = fields.String()
    status_reason = fields.String(allow_none=True)
    condition = fields.Function(lambda lot: lot_condition(lot), metadata={
        "description": "what the lot is good for today: usable, quarantined, recalled or expired"})
    received_at = fields.AwareDateTime()


class DrugDetailSchema(DrugSchema):
    lots = fields.Method("_lots")
    on_hand = fields.Method("_on_hand")

    def _lots(self, drug):
        return LotSchema(many=True).dump(drug.lots.order_by(DrugLot.expires_on, DrugLot.id))

    def _on_hand(self, drug):
        return sum(lot.quantity_on_hand + lot.quantity_quarantined for lot in drug.lots)


class ReceiveLotSchema(Schema):
    """A delivery of one lot, typed in or scanned (GS1 AI 01 GTIN, 17 expiry, 10 lot, 21 serial)."""

    gs1 = Text(load_default=None, validate=validate.Length(1, 200), allowed=GROUP_SEPARATOR,
               metadata={"description": "the scanned text; the group separator (0x1D) is the one control character "
                                        "it may hold"})
    lot_number = text(20, 1)
    expires_on = day()
    quantity = stock_quantity(required=True)
    cost_amount = unit_price(required=True, metadata={"description": "cost per base unit, đồng"})
    supplier = name_text(200, required=True)

    @validates_schema
    def _typed_or_scanned(self, data, **_):
        if not data.get("gs1") and not (data.get("lot_number") and data.get("expires_on")):
            raise ValidationError("Give lot_number and expires_on, or the scanned gs1 text", "lot_number")

    @validates_schema
    def _worth_at_most_the_ceiling(self, data, **_):
        if data.get("quantity", 0) * data.get("cost_amount", 0) > MAX_AMOUNT:
            raise ValidationError(f"A receipt may be worth at most {MAX_AMOUNT:,} đồng at cost", "quantity")


def reason_said(entry) -> tuple[str | None, dict | None]:
    """The reason of an entry the pharmacy wrote itself (a receipt's "Received from <supplier>", in English on the
    chained entry) as a code and its values, for a screen to say in its user's language; a person's has none."""
    supplier = getattr(entry, "supplier", None)
    if entry.kind != "receipt" or not supplier:
        return None, None
    return "received_from", {"supplier": supplier}


class StockEntrySchema(Schema):
    id = fields.Integer()
    lot_id = fields.Integer(attribute="lot_id")
    lot_number = fields.String()
    kind = fields.String()
    bucket = fields.String()
    quantity_change = fields.Integer()
    balance_before = fields.Function(lambda entry: entry.balance_after - entry.quantity_change, metadata={
        "description": "the bucket's balance before this entry: for a count, what the book said"})
    balance_after = fields.Integer()
    drug_balance_after = fields.Integer()
    reason = fields.String(allow_none=True, metadata={"description": "a person's words, or the pharmacy's in "
                                                                     "English when reason_code is set"})
    reason_code = fields.Function(lambda entry: reason_said(entry)[0], metadata={
        "description": "set when the pharmacy wrote the reason: received_from (reason_params.supplier)"})
    reason_params = fields.Function(lambda entry: reason_said(entry)[1])
    reference = fields.String(allow_none=True)
    actor = fields.String()
    created_at = fields.AwareDateTime()


class LedgerQuerySchema(PagedQuerySchema):
    limit = page_limit(500, maximum=5000)


class StockQuerySchema(PagedQuerySchema):
    limit = page_limit(1000)


class CountInSchema(Schema):
    counted_quantity = stock_quantity(minimum=0, required=True)
    reason = reason_text(required=True)


class AdjustmentInSchema(Schema):
    quantity_change = fields.Integer(strict=True, required=True, validate=[
        validate.Range(-MAX_STOCK_QUANTITY, MAX_STOCK_QUANTITY), validate.NoneOf((0,), error="Must not be 0")])
    reason = fields.String(required=True, validate=validate.OneOf(ADJUSTMENT_REASONS))
    note = text(500, load_default="", multiline=True)


class ReasonInSchema(Schema):
    reason = reason_text(required=True)


class RecipientDispenseSchema(Schema):
    dispense_id = fields.Integer()
    prescription_id = fields.Integer()
    dispensed_at = fields.AwareDateTime()
    quantity = fields.Integer()
    quantity_returned = fields.Integer()


class RecipientSchema(Schema):
    patient_id = fields.String()
    encounter_id = fields.String()
    quantity = fields.Integer()
    quantity_returned = fields.Integer()
    dispenses = fields.List(fields.Nested(RecipientDispenseSchema))


RECALL_KINDS = ("defective", "precautionary")
RECALL_MONEY = ("all", "defective_only", "none")


class RecallInSchema(Schema):
    reason = reason_text(required=True)
    kind = fields.String(load_default="defective", validate=validate.OneOf(RECALL_KINDS),
                         metadata={"description": "defective (the product is faulty) or precautionary"})
    money = fields.String(load_default="defective_only", validate=validate.OneOf(RECALL_MONEY), metadata={
        "description": "which recalls take the money back from the dispensed lines: all, defective_only, none"})


class RecallSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    money = fields.String()
    money_fixed = fields.Boolean()
    reversed_lines = fields.Integer(metadata={"description": "dispensed lines whose charge was taken back"})
    lot_id = fields.Integer()
    lot_number = fields.String()
    drug_code = fields.String()
    reason = fields.String()
    recalled_at = fields.AwareDateTime()
    recipients = fields.List(fields.Nested(RecipientSchema))
    flagged_encounters = fields.Integer()


class StockRowSchema(Schema):
    drug_code = fields.String()
    name = fields.String()
    strength = fields.String()
    base_unit = fields.String()
    on_hand = fields.Integer()
    usable = fields.Integer()
    quarantined = fields.Integer()
    value_amount = fields.Integer()
    reorder_level = fields.Integer()
    below_reorder = fields.Boolean()


class AlertSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    drug_code = fields.Function(lambda alert: alert.drug.code)
    lot_id = fields.Integer(attribute="lot_id", allow_none=True)
    message = fields.String()
    details = fields.Function(lambda alert: json.loads(alert.details))
    status = fields.String()
    created_at = fields.AwareDateTime()
    resolved_at = fields.AwareDateTime(allow_none=True)


class AlertQuerySchema(PagedQuerySchema):
    status = fields.String(load_default="open", validate=validate.OneOf(("open", "resolved", "all")))
    kind = text(20)
    drug_code = catalogue_code()
    limit = page_limit(200)
