"""Lab request/response schemas (one per resource, used for load and dump)."""

from marshmallow import Schema, fields, validate

CODE = validate.Regexp(r"^[A-Za-z0-9._-]{1,40}$", error="Use 1-40 letters, digits, '.', '_' or '-'")


class ReagentSchema(Schema):
    id = fields.Integer(dump_only=True)
    code = fields.String(required=True, validate=CODE)
    name = fields.String(required=True, validate=validate.Length(1, 200))
    manufacturer = fields.String(required=True, validate=validate.Length(1, 200))
    base_unit = fields.String(required=True, validate=validate.Length(1, 20))
    reorder_level = fields.Integer(load_default=0, validate=validate.Range(min=0))
    unit_cost_amount = fields.Integer(load_default=0, validate=validate.Range(min=0))
    requires_qc_release = fields.Boolean(load_default=False)
    stability_days_after_opening = fields.Integer(load_default=None, allow_none=True,
                                                  validate=validate.Range(min=1))
    created_at = fields.AwareDateTime(dump_only=True)
