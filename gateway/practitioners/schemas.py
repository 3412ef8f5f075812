"""Request and response schemas of the practitioner registry."""

from marshmallow import Schema, fields, validate

from common.bounds import code_text, name_text, page_limit, text
from common.paging import PagedQuerySchema
from gateway.patients.schemas import RecordId

# Practising certificate (chứng chỉ hành nghề, CCHN) or, under the 2023 law, licence (giấy phép hành nghề, GPHN):
# a serial number, the issuing authority (BYT, or a province's health department: HNO, HCM, DNG...) and the kind.
LICENCE_PATTERN = r"^\d{6}/[A-Z]{2,5}-(CCHN|GPHN)$"
PROFESSIONS = ("doctor", "nurse", "technician", "pharmacist", "midwife")


class PractitionerSchema(Schema):
    id = RecordId(dump_only=True)
    full_name = name_text(200, 2, required=True)
    licence_number = code_text(validate.Regexp(
        LICENCE_PATTERN, error="A practising certificate number looks like 001234/HNO-CCHN."), 40, required=True)
    profession = fields.String(load_default="doctor", validate=validate.OneOf(PROFESSIONS))
    department = code_text(validate.Regexp(
        r"^K\d{2,3}\b[^\u0000-\u001f\u007f-\u009f]{0,90}$",
        error="MA_KHOA comes first, e.g. K01 or 'K26 Khoa Xét nghiệm'."), 100, required=True)
    active = fields.Boolean(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)


class PractitionerChangesSchema(Schema):
    department = code_text(validate.Regexp(r"^K\d{2,3}\b[^\u0000-\u001f\u007f-\u009f]{0,90}$"), 100)
    active = fields.Boolean()


class PractitionerQuerySchema(PagedQuerySchema):
    department = text(100, 1)
    active = fields.Boolean()
    limit = page_limit(200)
