"""Response and query schemas of check-in records."""

from marshmallow import Schema, fields, validate

from common.bounds import page_limit
from common.paging import PagedQuerySchema
from gateway.patients.schemas import RecordId


class CheckInSchema(Schema):
    id = RecordId()
    encounter_id = RecordId()
    state = fields.String()
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    portal_reference = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    sent_at = fields.AwareDateTime(allow_none=True)
    file_url = fields.Function(lambda check_in: f"/api/v1/check-ins/{check_in.id}/file")


class CheckInQuerySchema(PagedQuerySchema):
    state = fields.String(validate=validate.OneOf(("pending", "sent", "rejected")))
    limit = page_limit(200)
