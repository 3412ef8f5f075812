"""Request and response schemas of patients, their BHYT cards, and the patient record."""

from datetime import date

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from common.bounds import INT4_MAX, Text, day, name_text, page_limit, text
from common.paging import PagedQuerySchema
from gateway.patients.identity import FACILITY_PATTERN, card_problems, cccd_problems
from gateway.patients.search import fold

SEXES = ("male", "female", "unknown")
PHONE_PATTERN = r"^(0|\+84)\d{9,10}$"


class RecordId(fields.Field):
    """An id the gateway issued (a 32-bit serial): accepted as a number or a string of digits, given back as a
    string."""

    def _deserialize(self, value, attr, data, **kwargs):
        digits = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""
        if not digits.isascii() or not digits.isdigit() or len(digits) > 10 or not 1 <= int(digits) <= INT4_MAX:
            raise ValidationError("Not a valid id.")
        return int(digits)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else str(value)


class PatientSchema(Schema):
    id = RecordId(dump_only=True)
    full_name = name_text(200, 2, required=True)
    birth_date = day(required=True)
    sex = fields.String(required=True, validate=validate.OneOf(SEXES))
    cccd = Text(required=True, validate=validate.Length(equal=12), metadata={"pattern": r"^\d{12}$"})
    phone = Text(load_default="", validate=validate.Regexp(PHONE_PATTERN, error="Not a Vietnamese phone "
                                                                               "number (0xxxxxxxxx)."))
    address = text(500, load_default="")
    open_encounter_id = RecordId(dump_only=True, allow_none=True)
    created_at = fields.AwareDateTime(dump_only=True)

    @validates_schema
    def _identity_matches(self, data, **kwargs):
        birth_date = data.get("birth_date")
        if birth_date is not None and not date(1900, 1, 1) <= birth_date <= date.today():
            raise ValidationError("A birth date lies between 1900 and today.", "birth_date")
        problems = cccd_problems(data.get("cccd", ""), birth_date, data.get("sex"))
        if problems:
            raise ValidationError(problems, "cccd")


class CoverageSchema(Schema):
    id = RecordId(dump_only=True)
    patient_id = RecordId(dump_only=True)
    card_number = Text(required=True, validate=validate.Length(equal=15),
                       metadata={"pattern": r"^[A-Z]{2}[1-5]\d{12}$"})
    registered_facility = Text(required=True, validate=validate.Regexp(
        FACILITY_PATTERN, error="MA_DKBD is the 5-character code of the registered facility (e.g. 01001)."))
    valid_from = day(required=True)
    valid_to = day(required=True)
    benefit_level = fields.Integer(required=True, strict=True, validate=validate.OneOf((80, 95, 100)))
    created_at = fields.AwareDateTime(dump_only=True)

    @validates_schema
    def _card_is_consistent(self, data, **kwargs):
        problems = card_problems(data.get("card_number", ""), data.get("benefit_level"))
        if problems:
            raise ValidationError(problems, "card_number")
        if data.get("valid_from") and data.get("valid_to") and data["valid_to"] < data["valid_from"]:
            raise ValidationError("A card cannot expire before it starts.", "valid_to")


class PatientViewSchema(PatientSchema):
    """A patient as reception sees them: identity, the card valid today, the open visit."""

    current_coverage = fields.Nested(CoverageSchema, allow_none=True, dump_only=True)


CCCD_QUERY = r"^\d{12}$"
SEARCHES = ("cccd", "name", "phone", "card")


class CoverageListQuerySchema(PagedQuerySchema):
    """A patient's cards, a page at a time."""


class PatientQuerySchema(PagedQuerySchema):
    """Find patients by exactly one of: CCCD, name (accent-insensitive prefix), phone, BHYT card or its
    social-insurance number (the card's last 10 digits)."""

    cccd = Text(validate=validate.Regexp(CCCD_QUERY, error="A CCCD is 12 digits."))
    name = Text(validate=validate.Length(1, 100), metadata={
        "description": "the start of the full name or of one of its words; accents and case do not matter"})
    phone = Text(validate=validate.Regexp(r"^(0|\+84)\d{9,10}$", error="Not a Vietnamese phone number "
                                                                       "(0xxxxxxxxx)."))
    card = Text(validate=validate.Regexp(r"^([A-Za-z]{2}[1-5]\d{12}|\d{10})$", error=(
        "A BHYT card number (2 letters, 13 digits) or its social-insurance number (10 digits).")))
    limit = page_limit(20, 100)

    @validates_schema
    def _one_criterion(self, data, **kwargs):
        given = [name for name in SEARCHES if data.get(name) is not None]
        if len(given) != 1:
            raise ValidationError("Search by exactly one of cccd, name, phone or card.", "_schema")
        if given == ["name"] and not fold(data["name"]):
            raise ValidationError("A name to search by needs at least one letter or digit.", "name")


class CoverageQuerySchema(Schema):
    cccd = Text(required=True, validate=validate.Regexp(CCCD_QUERY, error="A CCCD is 12 digits."))
    on = day(load_default=None)  # the day the card must be valid on; today (Vietnam time) when absent


class RecordChargeSchema(Schema):
    id = fields.Integer()
    key = fields.String()
    source = fields.String()
    item_kind = fields.String()
    code = fields.String()
    name = fields.String()
    quantity = fields.Integer()
    reversed_quantity = fields.Integer()
    amount = fields.Integer()
    reversed_amount = fields.Integer()
    cost_amount = fields.Integer()  # what the reagent or drug cost the hospital
    encounter_id = fields.String(attribute="encounter_ref")
    flag = fields.String(allow_none=True)
    occurred_at = fields.AwareDateTime()


class RecordQuerySchema(Schema):
    visits = fields.Integer(load_default=50, validate=validate.Range(1, 500))
