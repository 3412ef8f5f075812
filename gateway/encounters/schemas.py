"""Request and response schemas of visits (encounters) and the warnings attached to them."""

import json

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from common.bounds import Text, moment, page_limit, text
from common.paging import PagedQuerySchema
from gateway.check_ins.schemas import CheckInSchema
from gateway.patients.identity import ICD10_PATTERN, icd10_codes
from gateway.patients.schemas import CoverageSchema, RecordId
from gateway.practitioners.schemas import PractitionerSchema

KINDS = ("outpatient", "inpatient")


class EncounterOpenSchema(Schema):
    patient_id = RecordId(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    department = text(100, 1, required=True)  # MA_KHOA, e.g. K01
    in_network = fields.Boolean(load_default=None)
    network_rate = fields.Integer(load_default=None, strict=True, validate=validate.Range(0, 100))
    practitioner_id = RecordId(load_default=None, allow_none=True, metadata={
        "description": "the visit's doctor (MA_BAC_SI of lines that name no other)"})

    @validates_schema
    def _network_is_consistent(self, data, **kwargs):
        if data.get("in_network") is False and data.get("network_rate") is None:
            raise ValidationError("An out-of-network visit needs its network_rate (e.g. 40).", "network_rate")
        if data.get("in_network") is True and data.get("network_rate") not in (None, 100):
            raise ValidationError("An in-network visit is paid at 100 % of the card level.", "network_rate")


class EncounterCloseSchema(Schema):
    diagnosis_main = Text(required=True, validate=validate.Regexp(
        ICD10_PATTERN, error="Not an ICD-10 code (e.g. E11.9)."))
    diagnosis_other = text(200, load_default=None, allow_none=True)
    discharged_at = moment(load_default=None)

    @validates_schema
    def _other_diagnoses_are_icd10(self, data, **kwargs):
        bad = [code for code in icd10_codes(data.get("diagnosis_other")) if not ICD10_PATTERN.fullmatch(code)]
        if bad:
            raise ValidationError(f"Not ICD-10 codes: {', '.join(bad)} (separate codes with ';').", "diagnosis_other")


class EncounterSchema(Schema):
    id = RecordId()
    patient_id = RecordId()
    kind = fields.String()
    department = fields.String()
    in_network = fields.Boolean()
    network_rate = fields.Integer()
    status = fields.String()
    opened_at = fields.AwareDateTime()
    diagnosis_main = fields.String(allow_none=True)
    diagnosis_other = fields.String(allow_none=True)
    discharged_at = fields.AwareDateTime(allow_none=True)
    closed_at = fields.AwareDateTime(allow_none=True)
    coverage = fields.Nested(CoverageSchema, allow_none=True)  # the card valid on the day the visit opened
    practitioner = fields.Nested(PractitionerSchema, allow_none=True)
    check_in = fields.Nested(CheckInSchema, allow_none=True)  # QĐ 4750 check-in of an insured visit


class EncounterQuerySchema(PagedQuerySchema):
    patient_id = RecordId()
    status = fields.String(validate=validate.OneOf(("open", "closed")))
    limit = page_limit(100)


class EncounterFlagViewSchema(Schema):
    id = fields.Integer()
    key = fields.String()
    encounter_id = fields.String(attribute="encounter_ref")
    patient_id = fields.String(attribute="patient_ref")
    kind = fields.String()
    source = fields.String()
    message = fields.String()
    details = fields.Function(lambda flag: json.loads(flag.details))
    matched = fields.Boolean()
    raised_at = fields.AwareDateTime()
    received_at = fields.AwareDateTime()


class ChargeAttachSchema(Schema):
    encounter_id = RecordId(required=True)


class UnmatchedFlagQuerySchema(PagedQuerySchema):
    limit = page_limit(200)
