"""Response schema of the patient record (kept apart: it draws on the visit schemas too)."""

from marshmallow import Schema, fields

from gateway.encounters.schemas import EncounterFlagViewSchema, EncounterSchema
from gateway.patients.schemas import CoverageSchema, PatientViewSchema, RecordChargeSchema


class RecordVisitSchema(EncounterSchema):
    charges = fields.List(fields.Nested(RecordChargeSchema))
    charge_total_amount = fields.Integer()
    flags = fields.List(fields.Nested(EncounterFlagViewSchema))
    invoices = fields.List(fields.Dict(), allow_none=True)  # as billing gives them: state, split, payments
    claim = fields.Raw(allow_none=True)  # the visit's insurance claim status from billing, when there is one


class BillingAvailabilitySchema(Schema):
    available = fields.Boolean()


class PatientRecordSchema(Schema):
    patient = fields.Nested(PatientViewSchema)
    coverages = fields.List(fields.Nested(CoverageSchema))
    encounters = fields.List(fields.Nested(RecordVisitSchema))
    unattached_charges = fields.List(fields.Nested(RecordChargeSchema))
    recall_flags = fields.List(fields.Nested(EncounterFlagViewSchema))
    billing = fields.Nested(BillingAvailabilitySchema)
