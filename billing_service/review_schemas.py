"""Schemas of card payments held for finance's review."""

from marshmallow import Schema, fields, validate

from common.bounds import page_limit
from common.paging import PagedQuerySchema


class PaymentReviewQuerySchema(PagedQuerySchema):
    state = fields.String(load_default="open", validate=validate.OneOf(("open",)))
    limit = page_limit(100)


class PaymentReviewSchema(Schema):
    id = fields.Integer()
    payment_request_id = fields.Integer()
    invoice_id = fields.Integer()
    provider = fields.String()
    event_id = fields.String()
    payment_intent_id = fields.String(attribute="provider_reference")
    expected_amount = fields.Integer()
    expected_currency = fields.String()
    reported_amount = fields.Integer(allow_none=True)
    reported_currency = fields.String()
    reason = fields.String()
    state = fields.String()
    created_at = fields.AwareDateTime()
