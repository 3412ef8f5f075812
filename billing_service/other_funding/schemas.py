"""Other funding schemas (load and dump). Money is integer đồng."""

from marshmallow import Schema, fields, validate

from billing_service.other_funding.rules import FUNDING_SOURCES, FUNDING_TARGETS, PART_OF_SOURCE
from common.bounds import money, row_id, text


class OtherFundingCreateSchema(Schema):
    source = fields.String(required=True, validate=validate.OneOf(FUNDING_SOURCES), metadata={
        "description": "state_budget (T_NGUONKHAC_NSNN), foreign_aid (VTNN), domestic_aid (VTTN), hospital or "
                       "other (CL)"})
    target = fields.String(required=True, validate=validate.OneOf(FUNDING_TARGETS), metadata={
        "description": "patient: taken from T_BNTT, T_BNCCT then T_BHTT; facility: off the line total first"})
    amount = money(minimum=1, required=True)
    line_id = row_id(load_default=None, allow_none=True,
                             metadata={"description": "the bill line it pays for; none: the whole visit"})
    reference = text(200, load_default="",
                              metadata={"example": "QĐ 1234/QĐ-SYT chương trình phòng chống lao"})
    note = text(500, multiline=True, load_default="")


class OtherFundingSchema(Schema):
    id = fields.Integer()
    invoice_id = fields.Integer()
    line_id = fields.Integer(allow_none=True)
    source = fields.String()
    xml_part = fields.Function(lambda grant: PART_OF_SOURCE[grant.source])
    target = fields.String()
    amount = fields.Integer()
    applied_amount = fields.Integer()
    not_applied_amount = fields.Function(lambda grant: grant.amount - grant.applied_amount
                                         if grant.state == "active" else 0)
    currency = fields.Constant("VND")
    reference = fields.String()
    note = fields.String()
    state = fields.String()
    created_by = fields.String()
    created_at = fields.AwareDateTime()
    withdrawn_by = fields.String(allow_none=True)
    withdrawn_at = fields.AwareDateTime(allow_none=True)
    withdrawal_reason = fields.String(allow_none=True)


class WithdrawalSchema(Schema):
    reason = text(500, 3, multiline=True, required=True)
