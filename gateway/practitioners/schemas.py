"""Request and response schemas of the practitioner registry."""

from marshmallow import Schema, fields, validate

from gateway.patients.schemas import RecordId

# Practising certificate (chứng chỉ hành nghề, CCHN) or, under the 2023 law, licence (giấy phép hành nghề, GPHN):
# a serial number, the issuing authority (BYT, or a province's health department: HNO, HCM, DNG...) and the kind.
LICENCE_PATTERN = r"^\d{6}/[A-Z]{2,5}-(CCHN|GPHN)$"
PROFESSIONS = ("doctor", "nurse", "technician", "pharmacist", "midwife")


class PractitionerSchema(Schema):
    id = RecordId(dump_only=True)
    full_name = fields.String(required=True, validate=validate.Length(2, 200))
    licence_number = fields.String(required=True, validate=validate.Regexp(
        LICENCE_PATTERN, error="A practising certificate number looks like 001234/HNO-CCHN."))
    profession = fields.String(load_default="doctor", validate=validate.OneOf(PROFESSIONS))
    department = fields.String(required=True, validate=validate.Regexp(
        r"^K\d{2,3}\b.{0,90}$", error="MA_KHOA comes first, e.g. K01 or 'K26 Khoa Xét nghiệm'."))
    active = fields.Boolean(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)


class PractitionerChangesSchema(Schema):
    department = fields.String(validate=validate.Regexp(r"^K\d{2,3}\b.{0,90}$"))
    active = fields.Boolean()


class PractitionerQuerySchema(Schema):
    department = fields.String(validate=validate.Length(1, 100))
    active = fields.Boolean()
    limit = fields.Integer(load_default=200, validate=validate.Range(1, 1000))
