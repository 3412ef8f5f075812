"""Schemas of admin's overview of every service's outbox."""

from marshmallow import Schema, fields, validate

from common.app import OutboxMessageSchema
from common.integrity import IntegrityReportSchema


class OutboxOverviewQuerySchema(Schema):
    state = fields.String(load_default="rejected", validate=validate.OneOf(("rejected", "stuck")))
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 1000))


class ServiceOutboxSchema(Schema):
    service = fields.String()
    available = fields.Boolean()
    error = fields.String(allow_none=True)
    messages = fields.List(fields.Nested(OutboxMessageSchema))


class OutboxOverviewSchema(Schema):
    state = fields.String()
    total = fields.Integer()
    services = fields.List(fields.Nested(ServiceOutboxSchema))


class ServiceIntegritySchema(IntegrityReportSchema):
    available = fields.Boolean()
    error = fields.String(allow_none=True)
    clean = fields.Boolean(allow_none=True)


class IntegrityOverviewSchema(Schema):
    clean = fields.Boolean(metadata={"description": "false when a chain is broken or a service did not answer"})
    services = fields.List(fields.Nested(ServiceIntegritySchema))
