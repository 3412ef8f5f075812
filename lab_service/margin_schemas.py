"""Schemas of the lab's margin report (query and dump). Money is integer đồng."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from common.bounds import date_range_problems, day


class MarginQuerySchema(Schema):
    start = day(data_key="from")
    end = day(data_key="to")
    group = fields.String(load_default="month", validate=validate.OneOf(("month", "day")))
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")))
    part = fields.String(load_default="rows", validate=validate.OneOf(("rows", "unbilled")))

    @validates_schema
    def _in_order(self, data, **kwargs):
        problems = date_range_problems(data.get("start"), data.get("end"))
        if problems:
            raise ValidationError(problems)


class MarginRowSchema(Schema):
    test_code = fields.String()
    test_name = fields.String()
    period = fields.String()
    payer = fields.String(metadata={"description": "bhyt (BHYT pays part of the line) or self_pay"})
    tests_billed = fields.Integer()
    revenue_amount = fields.Integer()
    insurer_amount = fields.Integer()
    patient_amount = fields.Integer()
    other_funding_amount = fields.Integer()
    reagent_cost_amount = fields.Integer()
    margin_amount = fields.Integer()


class MarginOverheadSchema(Schema):
    test_code = fields.String()
    period = fields.String()
    qc_runs = fields.Integer()
    qc_cost_amount = fields.Integer()
    unbilled_runs = fields.Integer()
    unbilled_cost_amount = fields.Integer()


class UsedReagentSchema(Schema):
    reagent_code = fields.String()
    lot_number = fields.String()
    quantity = fields.Integer()
    base_unit = fields.String()
    cost_amount = fields.Integer()


class UnbilledRunSchema(Schema):
    run_id = fields.Integer()
    test_code = fields.String()
    created_at = fields.AwareDateTime()
    encounter_id = fields.String(allow_none=True)
    reason = fields.String(metadata={"description": "rerun, charge_reversed or charge_not_billed"})
    cost_amount = fields.Integer()
    reagents = fields.List(fields.Nested(UsedReagentSchema))
    url = fields.String()


class ChartSeriesSchema(Schema):
    name = fields.String()
    data = fields.List(fields.Integer())


class MarginChartSchema(Schema):
    kind = fields.String()
    unit = fields.String()
    categories = fields.List(fields.String())
    series = fields.List(fields.Nested(ChartSeriesSchema))


class MarginReportSchema(Schema):
    start = fields.Date()
    end = fields.Date()
    group = fields.String()
    currency = fields.String()
    rows = fields.List(fields.Nested(MarginRowSchema))
    overhead = fields.List(fields.Nested(MarginOverheadSchema))
    unbilled_runs = fields.List(fields.Nested(UnbilledRunSchema))
    totals = fields.Dict()
    chart = fields.Nested(MarginChartSchema)
