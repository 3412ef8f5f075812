"""Pharmacy request/response schemas (one per resource, used for load and dump)."""

import json

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates, validates_schema

from common.bounds import (
    INT4_MAX,
    MAX_AMOUNT,
    MAX_LINE_QUANTITY,
    MAX_STOCK_QUANTITY,
    Text,
    code_text,
    day,
    integer,
    line_quantity,
    name_text,
    page_limit,
    row_id,
    stock_quantity,
    text,
    unit_price,
)
from common.gs1 import gtin_check_digit
from common.paging import PagedQuerySchema
from pharmacy_service.models import (
    Dispense,
    DrugLot,
    PrescriptionLine,
    ReturnLine,
    StockEntry,
)
from pharmacy_service.services.moves import lot_condition

CODE = validate.Regexp(r"^[A-Za-z0-9._-]{1,40}$", error="Use 1-40 letters, digits, '.', '_' or '-'")
ATC = validate.Regexp(r"^[A-Z]\d{2}[A-Z]{2}\d{2}$", error="A full 7-character ATC code, e.g. J01CA04")
GROUP_SEPARATOR = "\x1d"  # FNC1 in a scanned GS1 DataMatrix
MAX_LINES = 50
ADJUSTMENT_REASONS = ("damaged", "lost", "found", "destroyed", "returned_to_supplier", "sample", "other")


def _code(**kwargs):
    return code_text(CODE, 40, **kwargs)


def _reason(**kwargs):
    return text(500, 1, multiline=True, **kwargs)


class CatalogueQuerySchema(PagedQuerySchema):
    limit = page_limit(1000)


class DrugSchema(Schema):
    id = fields.Integer(dump_only=True)
    code = _code(required=True)
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


class PrescriptionLineInSchema(Schema):
    drug_code = _code(required=True)
    quantity = line_quantity(required=True)
    instructions = text(500, load_default="", multiline=True)


class PrescriptionInSchema(Schema):
    encounter_id = text(100, 1, required=True)
    patient_id = text(100, 1, required=True)
    prescriber = name_text(200, required=True)
    prescriber_id = text(100, 1, load_default=None, allow_none=True, metadata={
        "description": "the gateway's practitioner id of the prescriber (MA_BAC_SI of the dispensed lines)"})
    lines = fields.List(fields.Nested(PrescriptionLineInSchema), required=True, validate=validate.Length(1, MAX_LINES))


class PrescriptionLineSchema(Schema):
    id = fields.Integer()
    drug_code = fields.Function(lambda line: line.drug.code)
    drug_name = fields.Function(lambda line: f"{line.drug.name} {line.drug.strength}")
    unit = fields.Function(lambda line: line.drug.base_unit)
    quantity = fields.Integer()
    quantity_dispensed = fields.Integer()
    remaining = fields.Function(lambda line: line.quantity - line.quantity_dispensed)
    instructions = fields.String()


class PrescriptionSchema(Schema):
    id = fields.Integer()
    encounter_id = fields.String()
    patient_id = fields.String()
    prescriber = fields.String()
    prescriber_id = fields.String(allow_none=True)
    status = fields.Method("_status")
    lines = fields.Method("_lines")
    dispense_ids = fields.Method("_dispense_ids")
    created_by = fields.String()
    created_at = fields.AwareDateTime()

    def _lines(self, prescription):
        return PrescriptionLineSchema(many=True).dump(prescription.lines.order_by(PrescriptionLine.id))

    def _status(self, prescription):
        lines = list(prescription.lines)
        if all(line.quantity_dispensed >= line.quantity for line in lines):
            return "dispensed"
        return "partially_dispensed" if any(line.quantity_dispensed for line in lines) else "open"

    def _dispense_ids(self, prescription):
        return [d.id for d in prescription.dispenses.order_by(Dispense.id)]


class QuantityLineSchema(Schema):
    line_id = row_id(required=True)
    quantity = line_quantity(required=True)


class DispenseInSchema(Schema):
    lines = fields.List(fields.Nested(QuantityLineSchema), required=True, validate=validate.Length(1, MAX_LINES))


class DispenseByPrescriptionSchema(DispenseInSchema):
    prescription_id = row_id(required=True)


class DispensedLotSchema(Schema):
    lot_id = fields.Integer()
    lot_number = fields.String()
    expires_on = fields.String()
    quantity = fields.Integer()
    quantity_returned = fields.Integer()


class DispenseLineSchema(Schema):
    id = fields.Integer()
    prescription_line_id = fields.Integer()
    drug_code = fields.String()
    unit = fields.String()
    quantity = fields.Integer()
    quantity_returned = fields.Integer()
    unit_price_amount = fields.Integer()
    amount = fields.Integer()
    cost_amount = fields.Integer()
    charge_key = fields.String()
    lots = fields.List(fields.Nested(DispensedLotSchema))


class DispenseSchema(Schema):
    id = fields.Integer()
    prescription_id = fields.Integer()
    encounter_id = fields.String()
    patient_id = fields.String()
    dispensed_by = fields.String()
    created_at = fields.AwareDateTime()
    lines = fields.List(fields.Nested(DispenseLineSchema))
    total_amount = fields.Integer()


class ReturnLineInSchema(QuantityLineSchema):
    lot_id = row_id(load_default=None, allow_none=True)


class ReturnInSchema(Schema):
    lines = fields.List(fields.Nested(ReturnLineInSchema), required=True, validate=validate.Length(1, MAX_LINES))
    reason = _reason(required=True)


class ReturnSchema(Schema):
    id = fields.Integer()
    dispense_id = fields.Integer(attribute="dispense_id")
    reason = fields.String()
    returned_by = fields.String()
    created_at = fields.AwareDateTime()
    lines = fields.Method("_lines")

    def _lines(self, drug_return):
        out = []
        for line in drug_return.lines.order_by(ReturnLine.id):
            entries = StockEntry.select().where(StockEntry.reference == f"return-line:{line.id}")
            out.append({"line_id": line.dispense_line_id, "quantity": line.quantity, "amount": line.amount,
                        "lots": [{"lot_id": e.lot_id, "quantity": e.quantity_change, "bucket": e.bucket}
                                 for e in entries.order_by(StockEntry.id)]})
        return out


class StockEntrySchema(Schema):
    id = fields.Integer()
    lot_id = fields.Integer(attribute="lot_id")
    lot_number = fields.String()
    kind = fields.String()
    bucket = fields.String()
    quantity_change = fields.Integer()
    balance_after = fields.Integer()
    drug_balance_after = fields.Integer()
    reason = fields.String(allow_none=True)
    reference = fields.String(allow_none=True)
    actor = fields.String()
    created_at = fields.AwareDateTime()


class LedgerQuerySchema(PagedQuerySchema):
    limit = page_limit(500, maximum=5000)


class StockQuerySchema(PagedQuerySchema):
    limit = page_limit(1000)


class CountInSchema(Schema):
    counted_quantity = stock_quantity(minimum=0, required=True)
    reason = _reason(required=True)


class AdjustmentInSchema(Schema):
    quantity_change = fields.Integer(strict=True, required=True, validate=[
        validate.Range(-MAX_STOCK_QUANTITY, MAX_STOCK_QUANTITY), validate.NoneOf((0,), error="Must not be 0")])
    reason = fields.String(required=True, validate=validate.OneOf(ADJUSTMENT_REASONS))
    note = text(500, load_default="", multiline=True)


class ReasonInSchema(Schema):
    reason = _reason(required=True)


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
    reason = _reason(required=True)
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
    drug_code = _code()
    limit = page_limit(200)


class PrescriptionQuerySchema(PagedQuerySchema):
    encounter_id = text(100)
    patient_id = text(100)
    state = fields.String(load_default="all", validate=validate.OneOf(("all", "open")), metadata={
        "description": "open: prescriptions with something left to dispense (open or partially dispensed)"})
    order = fields.String(load_default="newest", validate=validate.OneOf(("newest", "oldest")))
    limit = page_limit(100)


class DispenseLineSourceSchema(DispenseSchema):
    line_id = fields.Integer()


class DispensePlanQuerySchema(Schema):
    """The quantities to plan, `line=<prescription line id>:<quantity>` repeated; none: every line's remainder."""

    line = fields.List(text(20, 3, pattern=r"^\d{1,10}:\d{1,6}$"), load_default=list, validate=validate.Length(
        0, MAX_LINES), metadata={"description": "line_id:quantity, e.g. 12:30; repeat per line"})

    @post_load
    def _lines(self, data, **_):
        lines = []
        for item in data["line"]:
            line_id, quantity = (int(part) for part in item.split(":"))
            if not 1 <= line_id <= INT4_MAX or not 1 <= quantity <= MAX_LINE_QUANTITY:
                raise ValidationError(f"{item}: a line id and a quantity of 1 to {MAX_LINE_QUANTITY}", "line")
            lines.append({"line_id": line_id, "quantity": quantity})
        return {"lines": lines}


class PlannedPickSchema(Schema):
    lot_id = fields.Integer()
    lot_number = fields.String()
    expires_on = fields.Date()
    quantity = fields.Integer()


class PlanLotSchema(Schema):
    lot_id = fields.Integer()
    lot_number = fields.String()
    expires_on = fields.Date()
    quantity_on_hand = fields.Integer()
    quantity_quarantined = fields.Integer()
    status = fields.String()
    status_reason = fields.String(allow_none=True)
    condition = fields.String(metadata={"description": "usable, quarantined, recalled or expired"})
    planned = fields.Integer(metadata={"description": "what this plan takes from the lot"})


class PlanLineSchema(Schema):
    line_id = fields.Integer()
    drug_code = fields.String()
    drug_name = fields.String()
    unit = fields.String()
    prescribed = fields.Integer()
    dispensed = fields.Integer()
    remaining = fields.Integer()
    requested = fields.Integer()
    served = fields.Integer(metadata={"description": "what the usable lots give of `requested`, FEFO"})
    unmet = fields.Integer(metadata={"description": "what they cannot give (requested - served)"})
    usable = fields.Integer(metadata={"description": "the drug's usable stock on the shelves"})
    picks = fields.List(fields.Nested(PlannedPickSchema))
    lots = fields.List(fields.Nested(PlanLotSchema), metadata={"description": "every lot of the drug holding stock"})


class DispensePlanSchema(Schema):
    prescription_id = fields.Integer()
    encounter_id = fields.String()
    patient_id = fields.String()
    lines = fields.List(fields.Nested(PlanLineSchema))
