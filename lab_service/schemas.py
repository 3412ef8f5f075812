"""Lab request/response schemas (one per resource; quantities are integer base units, money integer đồng)."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from common.bounds import (
    code_text,
    date_range_problems,
    day,
    integer,
    line_quantity,
    money,
    name_text,
    page_limit,
    stock_quantity,
    text,
    unit_price,
)
from common.paging import PagedQuerySchema
from lab_service.models import ALERT_STATES, RECIPE_BASES, RUN_KINDS

CODE = validate.Regexp(r"^[A-Za-z0-9._-]{1,40}$", error="Use 1-40 letters, digits, '.', '_' or '-'")
LOINC = validate.Regexp(r"^\d{1,7}-\d$", error="A LOINC code looks like 2345-7")
MAX_RECIPE_LINES = 50
MAX_RESULTS = 50
MAX_STABILITY_DAYS = 3660


def _code(**kwargs):
    return code_text(CODE, 40, **kwargs)


def _external_id(**kwargs):
    """A visit or patient id of the gateway, as text (column of 100)."""
    return text(100, 1, **kwargs)


def _reason(**kwargs):
    return text(500, 1, multiline=True, **kwargs)


class CatalogueQuerySchema(PagedQuerySchema):
    limit = page_limit(1000)


class ReagentSchema(Schema):
    id = fields.Integer(dump_only=True)
    code = _code(required=True)
    name = name_text(200, required=True)
    manufacturer = name_text(200, required=True)
    base_unit = text(20, 1, required=True)
    reorder_level = stock_quantity(minimum=0, load_default=0)
    unit_cost_amount = unit_price(load_default=0)
    requires_qc_release = fields.Boolean(load_default=False)
    stability_days_after_opening = integer(1, MAX_STABILITY_DAYS, load_default=None, allow_none=True)
    created_at = fields.AwareDateTime(dump_only=True)


class ReagentChangesSchema(Schema):
    name = name_text(200)
    manufacturer = name_text(200)
    reorder_level = stock_quantity(minimum=0)
    unit_cost_amount = unit_price()
    requires_qc_release = fields.Boolean()
    stability_days_after_opening = integer(1, MAX_STABILITY_DAYS, allow_none=True)


class LotSchema(Schema):
    id = fields.Integer(dump_only=True)
    reagent_code = fields.String(dump_only=True)
    lot_number = text(60, 1, required=True)
    supplier = text(200, load_default="")
    expires_on = day(required=True)
    quantity = stock_quantity(required=True, load_only=True)
    cost_amount = money(load_default=None, allow_none=True, metadata={"description": "what the whole lot cost"})
    state = fields.String(dump_only=True)
    opened_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    stable_until = fields.AwareDateTime(dump_only=True, allow_none=True)
    received_quantity = fields.Integer(dump_only=True)
    on_hand = fields.Integer(dump_only=True, metadata={"description": "usable quantity (0 when the lot is unusable)"})
    book_quantity = fields.Integer(dump_only=True, metadata={"description": "what the lot holds, usable or not"})
    usable = fields.Boolean(dump_only=True)
    unusable_reason = fields.String(dump_only=True, allow_none=True)
    received_at = fields.AwareDateTime(dump_only=True)


class ReagentStockSchema(ReagentSchema):
    on_hand = fields.Integer(dump_only=True, metadata={"description": "usable quantity over all lots"})
    unusable_quantity = fields.Integer(dump_only=True)
    below_reorder_level = fields.Boolean(dump_only=True)
    lots = fields.List(fields.Nested(LotSchema), dump_only=True)


class AnalyzerSchema(Schema):
    id = fields.Integer(dump_only=True)
    code = _code(required=True)
    name = name_text(200, required=True)
    manufacturer = text(200, load_default="")
    created_at = fields.AwareDateTime(dump_only=True)


class RecipeLineSchema(Schema):
    reagent_code = _code(required=True)
    quantity = line_quantity(required=True)
    basis = fields.String(load_default="test", validate=validate.OneOf(RECIPE_BASES),
                          metadata={"description": "test: per test; run: dead volume per run; lot_opened: "
                                                   "calibration/QC when a run opens a new lot; day: once a day"})
    analyzer_code = _code(load_default=None, allow_none=True,
                          metadata={"description": "lines for an analyzer replace the default recipe on it"})


class RecipeSchema(Schema):
    recipe = fields.List(fields.Nested(RecipeLineSchema), required=True, validate=validate.Length(0, MAX_RECIPE_LINES))


class LabTestSchema(Schema):
    id = fields.Integer(dump_only=True)
    code = _code(required=True)
    name = name_text(200, required=True)
    loinc = code_text(LOINC, 20, required=True)
    service_code = text(50, 1, required=True, metadata={"description": "BHYT MA_DICH_VU, e.g. 23.0075.1494"})
    price_amount = unit_price(required=True)
    insurance_price_amount = unit_price(load_default=0)
    insurance_covered = fields.Boolean(load_default=True)
    unit_name = text(30, 1, load_default="Lần",
                     metadata={"description": "DON_VI_TINH as the national list writes it, e.g. Lần"})
    recipe = fields.List(fields.Nested(RecipeLineSchema), load_default=list,
                         validate=validate.Length(0, MAX_RECIPE_LINES))
    created_at = fields.AwareDateTime(dump_only=True)


class ResultSchema(Schema):
    loinc = code_text(LOINC, 20)
    name = name_text(200)
    value = text(100, 1, required=True,
                 metadata={"description": "as read on the analyzer, e.g. '5.4' (text, never a float)"})
    unit = text(30)
    reference_range = text(60)
    flag = fields.String(validate=validate.OneOf(("N", "L", "H", "LL", "HH", "A")))


class TestRunRequestSchema(Schema):
    encounter_id = _external_id(required=True)
    patient_id = _external_id(required=True)
    test_code = _code(required=True)
    analyzer_code = _code(load_default=None, allow_none=True)
    is_rerun = fields.Boolean(load_default=False)
    results = fields.List(fields.Nested(ResultSchema), load_default=list, validate=validate.Length(0, MAX_RESULTS))
    ordered_by_id = text(100, 1, load_default=None, allow_none=True, metadata={
        "description": "the gateway's practitioner id of who ordered the test (MA_BAC_SI); none: the visit's doctor"})
    performed_by_id = text(100, 1, load_default=None, allow_none=True, metadata={
        "description": "the gateway's practitioner id of who ran it (NGUOI_THUC_HIEN)"})


class QcRunRequestSchema(Schema):
    test_code = _code(required=True)
    analyzer_code = _code(load_default=None, allow_none=True)
    kind = fields.String(load_default="qc", validate=validate.OneOf(RUN_KINDS[1:]))
    levels = integer(1, 6, load_default=1, metadata={"description": "control levels (or calibrator points) run"})
    results = fields.List(fields.Nested(ResultSchema), load_default=list, validate=validate.Length(0, MAX_RESULTS))


class ConsumptionSchema(Schema):
    reagent_code = fields.String()
    lot_number = fields.String()
    quantity = fields.Integer()
    cost_amount = fields.Integer()


class TestRunSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    test_code = fields.String()
    test_name = fields.String()
    loinc = fields.String()
    analyzer_code = fields.String(allow_none=True)
    encounter_id = fields.String(allow_none=True)
    patient_id = fields.String(allow_none=True)
    is_rerun = fields.Boolean()
    billed = fields.Boolean()
    price_amount = fields.Integer()
    cost_amount = fields.Integer()
    results = fields.List(fields.Nested(ResultSchema))
    status = fields.String()
    logged_by = fields.String()
    ordered_by_id = fields.String(allow_none=True)
    performed_by_id = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    voided_at = fields.AwareDateTime(allow_none=True)
    void_reason = fields.String(allow_none=True)
    charge_key = fields.String(allow_none=True)
    consumption = fields.List(fields.Nested(ConsumptionSchema))


class TestRunQuerySchema(PagedQuerySchema):
    encounter_id = _external_id()
    test_code = _code()
    limit = page_limit(100)


class VoidSchema(Schema):
    reason = _reason(required=True)


class CountSchema(Schema):
    counted_quantity = stock_quantity(minimum=0, required=True)
    reason = _reason(required=True)


class WastageSchema(Schema):
    quantity = stock_quantity(required=True)
    reason = _reason(required=True)


class MovementSchema(Schema):
    id = fields.Integer()
    lot_id = fields.Integer()
    lot_number = fields.String()
    reagent_code = fields.String()
    kind = fields.String()
    quantity = fields.Integer()
    book_before = fields.Integer()
    book_after = fields.Integer()
    reason = fields.String(allow_none=True)
    recorded_by = fields.String()
    created_at = fields.AwareDateTime()


class LedgerRowSchema(Schema):
    id = fields.Integer()
    lot_id = fields.Integer()
    lot_number = fields.String()
    kind = fields.String()
    basis = fields.String(allow_none=True)
    quantity = fields.Integer()
    balance = fields.Integer()
    cost_amount = fields.Integer()
    test_run_id = fields.Integer(allow_none=True)
    reason = fields.String(allow_none=True, metadata={"description": "a person's words, or the lab's in English "
                                                                     "when reason_code is set"})
    reason_code = fields.String(allow_none=True, metadata={
        "description": "set when the lab wrote the reason: received_from (reason_params.supplier) or received"})
    reason_params = fields.Dict(allow_none=True)
    recorded_by = fields.String()
    created_at = fields.AwareDateTime()


class StockCardQuerySchema(PagedQuerySchema):
    limit = page_limit(500, maximum=5000)


class StockCardSchema(Schema):
    reagent_code = fields.String()
    base_unit = fields.String()
    balance = fields.Integer()
    entries = fields.List(fields.Nested(LedgerRowSchema))


class WorklistOrderSchema(Schema):
    id = fields.Integer(dump_only=True)
    encounter_id = _external_id(required=True)
    patient_id = _external_id(required=True)
    test_code = fields.Function(lambda item: item.lab_test.code, deserialize=str, required=True, validate=CODE,
                                metadata={"type": "string", "pattern": CODE.regex.pattern})
    state = fields.String(dump_only=True)
    test_run_id = fields.Integer(dump_only=True, allow_none=True)
    ordered_by_id = text(100, 1, load_default=None, allow_none=True)
    ordered_at = fields.AwareDateTime(dump_only=True)


class WorklistQuerySchema(PagedQuerySchema):
    state = fields.String(load_default="open", validate=validate.OneOf(("open", "done")))
    limit = page_limit(200)


class AlertSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    state = fields.String()
    reagent_code = fields.String()
    lot_number = fields.String(allow_none=True)
    message = fields.String()
    details = fields.Dict()
    opened_at = fields.AwareDateTime()
    closed_at = fields.AwareDateTime(allow_none=True)
    acknowledged_at = fields.AwareDateTime(allow_none=True)
    acknowledged_by = fields.String(allow_none=True)


class AlertQuerySchema(PagedQuerySchema):
    state = fields.String(load_default="open", validate=validate.OneOf((*ALERT_STATES, "all")),
                          metadata={"description": "acknowledged: seen by the lab head, its condition still holds"})
    reagent_code = _code()
    limit = page_limit(200)


class YieldQuerySchema(Schema):
    start = day(data_key="from")
    end = day(data_key="to")

    @validates_schema
    def _in_order(self, data, **kwargs):
        problems = date_range_problems(data.get("start"), data.get("end"))
        if problems:
            raise ValidationError(problems)


class YieldLineSchema(Schema):
    lot_number = fields.String()
    expires_on = fields.Date()
    lot_size = fields.Integer()
    on_hand = fields.Integer()
    test_code = fields.String(allow_none=True)
    quantity_per_test = fields.Integer()
    expected_tests = fields.Integer()
    tests_logged = fields.Integer()
    tests_billed = fields.Integer()
    reruns = fields.Integer()
    voided_tests = fields.Integer()
    qc_runs = fields.Integer()
    received = fields.Integer()
    used_by_tests = fields.Integer()
    used_by_reruns = fields.Integer()
    used_by_qc_calibration = fields.Integer()
    wasted = fields.Integer()
    counted_loss = fields.Integer()
    unexplained_quantity = fields.Integer()
    unexplained_tests = fields.Integer()


class YieldReagentSchema(Schema):
    reagent_code = fields.String()
    name = fields.String()
    base_unit = fields.String()
    lots = fields.List(fields.Nested(YieldLineSchema))
    totals = fields.Dict(keys=fields.String(), values=fields.Integer())


class YieldReportSchema(Schema):
    start = fields.Date(data_key="from")
    end = fields.Date(data_key="to")
    reagents = fields.List(fields.Nested(YieldReagentSchema))


class ForecastReagentSchema(Schema):
    reagent_code = fields.String()
    name = fields.String()
    base_unit = fields.String()
    usable = fields.Integer()
    reorder_level = fields.Integer()
    used_last_days = fields.Integer()
    window_days = fields.Integer()
    daily_use = fields.Integer()
    days_of_cover = fields.Integer(allow_none=True)
    tests_remaining = fields.Dict(keys=fields.String(), values=fields.Integer())


class ForecastTestSchema(Schema):
    test_code = fields.String()
    tests_remaining = fields.Integer()
    limiting_reagent = fields.String()


class ForecastSchema(Schema):
    reagents = fields.List(fields.Nested(ForecastReagentSchema))
    tests = fields.List(fields.Nested(ForecastTestSchema))
