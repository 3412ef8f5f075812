"""Request and response schemas of the gateway's own resources."""

import json

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from common.bounds import moment, page_limit, text
from common.paging import PagedQuerySchema


class TokenRequestSchema(Schema):
    username = text(64, 1, required=True)
    password = fields.String(required=True, validate=validate.Length(1, 200), load_only=True)


class TokenResponseSchema(Schema):
    access_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()
    role = fields.String()
    must_change_password = fields.Boolean(metadata={
        "description": "true: this token opens only POST /api/v1/auth/password until the password is changed"})


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


class ReversalReceiptSchema(Schema):
    key = fields.String()
    charge_key = fields.String()
    flag = fields.String(allow_none=True)


class ChargeQuerySchema(PagedQuerySchema):
    encounter_id = text(100)
    flagged = fields.Boolean()
    limit = page_limit(200)


class AuditEntrySchema(Schema):
    id = fields.Integer()
    occurred_at = fields.AwareDateTime()
    actor = fields.String()
    role = fields.String()
    action = fields.String()
    status_code = fields.Integer()
    request_id = fields.String()
    patient_id = fields.String(allow_none=True)
    details = fields.Method("_details", metadata={"description": "what a read covered: its subject (a claim batch, "
                                                                  "a bill) and how many patients"})
    chain_seq = fields.Integer(allow_none=True, metadata={"description": "its place in the audit chain"})

    def _details(self, entry):
        return json.loads(entry.details) if entry.details else None


class AuditQuerySchema(PagedQuerySchema):
    actor = text(64, metadata={"description": "who acted (a username), exactly"})
    action = text(300, 1, metadata={"description": "part of the action: a method, a path or both, "
                                                   "e.g. `auth/token` or `POST /api/v1/users`"})
    patient_id = text(64)
    status = text(3, 3, pattern=r"^[1-5](\d\d|xx)$", metadata={
        "description": "the answer's status, exactly (`401`) or by class (`4xx`)"})
    since = moment(metadata={"description": "from this time on (inclusive)"})
    until = moment(metadata={"description": "before this time (exclusive)"})
    limit = page_limit(200)

    @validates_schema
    def _in_order(self, data, **kwargs):
        if data.get("since") and data.get("until") and data["since"] >= data["until"]:
            raise ValidationError("Must lie after 'since'.", "until")
