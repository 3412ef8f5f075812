"""Request and response schemas of the gateway's own resources."""

from marshmallow import Schema, fields, validate


class TokenRequestSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(1, 64))
    password = fields.String(required=True, validate=validate.Length(1, 200), load_only=True)


class TokenResponseSchema(Schema):
    access_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()
    role = fields.String()


class StoredChargeSchema(Schema):
    id = fields.Integer()
    key = fields.String()
    source = fields.String()
    source_id = fields.String()
    encounter_id = fields.String(attribute="encounter_ref")
    patient_id = fields.String(attribute="patient_ref")
    item_kind = fields.String()
    code = fields.String()
    name = fields.String()
    quantity = fields.Integer()
    reversed_quantity = fields.Integer()
    amount = fields.Integer()
    reversed_amount = fields.Integer()
    cost_amount = fields.Integer()
    flag = fields.String(allow_none=True)
    occurred_at = fields.AwareDateTime()
    received_at = fields.AwareDateTime()


class StoredReversalSchema(Schema):
    id = fields.Integer()
    key = fields.String()
    charge_key = fields.String()
    quantity = fields.Integer()
    amount = fields.Integer()
    reason = fields.String()
    flag = fields.String(allow_none=True)
    received_at = fields.AwareDateTime()


class ChargeQuerySchema(Schema):
    encounter_id = fields.String()
    flagged = fields.Boolean()
    limit = fields.Integer(load_default=200, validate=validate.Range(1, 1000))


class AuditEntrySchema(Schema):
    id = fields.Integer()
    occurred_at = fields.AwareDateTime()
    actor = fields.String()
    role = fields.String()
    action = fields.String()
    status_code = fields.Integer()
    request_id = fields.String()
    patient_id = fields.String(allow_none=True)


class AuditQuerySchema(Schema):
    actor = fields.String()
    patient_id = fields.String()
    limit = fields.Integer(load_default=200, validate=validate.Range(1, 1000))
