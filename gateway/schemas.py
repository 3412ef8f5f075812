"""Request and response schemas of the gateway's own resources."""

import json

from marshmallow import Schema, fields, validate

from common.bounds import page_limit, text
from common.paging import PagedQuerySchema


class TokenRequestSchema(Schema):
    username = text(64, 1, required=True)
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
    actor = text(64)
    patient_id = text(64)
    limit = page_limit(200)
