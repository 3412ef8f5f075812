"""Lab request/response schemas (one per resource; quantities are integer base units, money integer đồng)."""

from marshmallow import Schema, fields, validate

from lab_service.models import RECIPE_BASES, RUN_KINDS

CODE = validate.Regexp(r"^[A-Za-z0-9._-]{1,40}$", error="Use 1-40 letters, digits, '.', '_' or '-'")
LOINC = validate.Regexp(r"^\d{1,7}-\d$", error="A LOINC code looks like 2345-7")
EXTERNAL_ID = validate.Length(1, 100)
REASON = validate.Length(1, 500)
POSITIVE = validate.Range(min=1)
NOT_NEGATIVE = validate.Range(min=0)


class ReagentSchema(Schema):
    id = fields.Integer(dump_only=True)
    code = fields.String(required=True, validate=CODE)
    name = fields.String(required=True, validate=validate.Length(1, 200))
    manufacturer = fields.String(required=True, validate=validate.Length(1, 200))
    base_unit = fields.String(required=True, validate=validate.Length(1, 20))
    reorder_level = fields.Integer(strict=True, load_default=0, validate=NOT_NEGATIVE)
    unit_cost_amount = fields.Integer(strict=True, load_default=0, validate=NOT_NEGATIVE)
    requires_qc_release = fields.Boolean(load_default=False)
    stability_days_after_opening = fields.Integer(strict=True, load_default=None, allow_none=True,
                                                  validate=validate.Range(min=1))
    created_at = fields.AwareDateTime(dump_only=True)


class ReagentChangesSchema(Schema):
    name = fields.String(validate=validate.Length(1, 200))
    manufacturer = fields.String(validate=validate.Length(1, 200))
    reorder_level = fields.Integer(strict=True, validate=NOT_NEGATIVE)
    unit_cost_amount = fields.Integer(strict=True, validate=NOT_NEGATIVE)
    requires_qc_release = fields.Boolean()
    stability_days_after_opening = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=1))


class LotSchema(Schema):
    id = fields.Integer(dump_only=True)
    reagent_code = fields.String(dump_only=True)
    lot_number = fields.String(required=True, validate=validate.Length(1, 60))
    supplier = fields.String(load_default="", validate=validate.Length(0, 200))
    expires_on = fields.Date(required=True)
    quantity = fields.Integer(required=True, strict=True, load_only=True, validate=POSITIVE)
    cost_amount = fields.Integer(load_default=None, strict=True, allow_none=True, validate=NOT_NEGATIVE)
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
    code = fields.String(required=True, validate=CODE)
    name = fields.String(required=True, validate=validate.Length(1, 200))
    manufacturer = fields.String(load_default="", validate=validate.Length(0, 200))
    created_at = fields.AwareDateTime(dump_only=True)


class RecipeLineSchema(Schema):
    reagent_code = fields.String(required=True, validate=CODE)
    quantity = fields.Integer(required=True, strict=True, validate=POSITIVE)
    basis = fields.String(load_default="test", validate=validate.OneOf(RECIPE_BASES),
                          metadata={"description": "test: per test; run: dead volume per run; lot_opened: "
                                                   "calibration/QC when a run opens a new lot; day: once a day"})
    analyzer_code = fields.String(load_default=None, allow_none=True, validate=CODE,
                                  metadata={"description": "lines for an analyzer replace the default recipe on it"})


class RecipeSchema(Schema):
    recipe = fields.List(fields.Nested(RecipeLineSchema), required=True)


class LabTestSchema(Schema):
    id = fields.Integer(dump_only=True)
    code = fields.String(required=True, validate=CODE)
    name = fields.String(required=True, validate=validate.Length(1, 200))
    loinc = fields.String(required=True, validate=LOINC)
    service_code = fields.String(required=True, validate=validate.Length(1, 50),
                                 metadata={"description": "BHYT MA_DICH_VU, e.g. 23.0075.1494"})
    price_amount = fields.Integer(required=True, strict=True, validate=NOT_NEGATIVE)
    insurance_price_amount = fields.Integer(strict=True, load_default=0, validate=NOT_NEGATIVE)
    insurance_covered = fields.Boolean(load_default=True)
    unit_name = fields.String(load_default="Lần", validate=validate.Length(1, 30),
                              metadata={"description": "DON_VI_TINH as the national list writes it, e.g. Lần"})
    recipe = fields.List(fields.Nested(RecipeLineSchema), load_default=list)
    created_at = fields.AwareDateTime(dump_only=True)


class ResultSchema(Schema):
    loinc = fields.String(validate=LOINC)
    name = fields.String(validate=validate.Length(1, 200))
    value = fields.String(required=True, validate=validate.Length(1, 100),
                          metadata={"description": "as read on the analyzer, e.g. '5.4' (text, never a float)"})
    unit = fields.String(validate=validate.Length(0, 30))
    reference_range = fields.String(validate=validate.Length(0, 60))
    flag = fields.String(validate=validate.OneOf(("N", "L", "H", "LL", "HH", "A")))


class TestRunRequestSchema(Schema):
    encounter_id = fields.String(required=True, validate=EXTERNAL_ID)
    patient_id = fields.String(required=True, validate=EXTERNAL_ID)
    test_code = fields.String(required=True, validate=CODE)
    analyzer_code = fields.String(load_default=None, allow_none=True, validate=CODE)
    is_rerun = fields.Boolean(load_default=False)
    results = fields.List(fields.Nested(ResultSchema), load_default=list)
    ordered_by_id = fields.String(load_default=None, allow_none=True, validate=EXTERNAL_ID, metadata={
        "description": "the gateway's practitioner id of who ordered the test (MA_BAC_SI); none: the visit's doctor"})
    performed_by_id = fields.String(load_default=None, allow_none=True, validate=EXTERNAL_ID, metadata={
        "description": "the gateway's practitioner id of who ran it (NGUOI_THUC_HIEN)"})


class QcRunRequestSchema(Schema):
    test_code = fields.String(required=True, validate=CODE)
    analyzer_code = fields.String(load_default=None, allow_none=True, validate=CODE)
    kind = fields.String(load_default="qc", validate=validate.OneOf(RUN_KINDS[1:]))
    levels = fields.Integer(strict=True, load_default=1, validate=validate.Range(1, 6),
                            metadata={"description": "control levels (or calibrator points) run"})
    results = fields.List(fields.Nested(ResultSchema), load_default=list)


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


class TestRunQuerySchema(Schema):
    encounter_id = fields.String(validate=EXTERNAL_ID)
    test_code = fields.String(validate=CODE)
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 1000))


class VoidSchema(Schema):
    reason = fields.String(required=True, validate=REASON)


class CountSchema(Schema):
    counted_quantity = fields.Integer(strict=True, required=True, validate=NOT_NEGATIVE)
    reason = fields.String(required=True, validate=REASON)


class WastageSchema(Schema):
    quantity = fields.Integer(required=True, strict=True, validate=POSITIVE)
    reason = fields.String(required=True, validate=REASON)


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
    reason = fields.String(allow_none=True)
    recorded_by = fields.String()
    created_at = fields.AwareDateTime()


class StockCardQuerySchema(Schema):
    limit = fields.Integer(load_default=500, validate=validate.Range(1, 5000))


class StockCardSchema(Schema):
    reagent_code = fields.String()
    base_unit = fields.String()
    balance = fields.Integer()
    entries = fields.List(fields.Nested(LedgerRowSchema))


class WorklistOrderSchema(Schema):
    id = fields.Integer(dump_only=True)
    encounter_id = fields.String(required=True, validate=EXTERNAL_ID)
    patient_id = fields.String(required=True, validate=EXTERNAL_ID)
    test_code = fields.Function(lambda item: item.lab_test.code, deserialize=str, required=True, validate=CODE)
    state = fields.String(dump_only=True)
    test_run_id = fields.Integer(dump_only=True, allow_none=True)
    ordered_by_id = fields.String(load_default=None, allow_none=True, validate=EXTERNAL_ID)
    ordered_at = fields.AwareDateTime(dump_only=True)


class WorklistQuerySchema(Schema):
    state = fields.String(load_default="open", validate=validate.OneOf(("open", "done")))
    limit = fields.Integer(load_default=200, validate=validate.Range(1, 1000))


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


class AlertQuerySchema(Schema):
    state = fields.String(load_default="open", validate=validate.OneOf(("open", "closed", "all")))
    reagent_code = fields.String(validate=CODE)
    limit = fields.Integer(load_default=200, validate=validate.Range(1, 1000))


class YieldQuerySchema(Schema):
    start = fields.Date(data_key="from")
    end = fields.Date(data_key="to")


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
