"""Pharmacy schemas of prescriptions, dispenses, returns and the dispense plan (routes/dispensing.py)."""


from marshmallow import Schema, ValidationError, fields, post_load, validate

from common.bounds import (
    INT4_MAX,
    MAX_LINE_QUANTITY,
    line_quantity,
    name_text,
    page_limit,
    row_id,
    text,
)
from common.paging import PagedQuerySchema
from pharmacy_service.models import (
    Dispense,
    PrescriptionLine,
    ReturnLine,
    StockEntry,
)
from pharmacy_service.schemas import MAX_LINES, catalogue_code, reason_text


class PrescriptionLineInSchema(Schema):
    drug_code = catalogue_code(required=True)
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
    reason = reason_text(required=True)


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
