"""Events that cross services, declared once. Every producer dumps and every consumer loads these schemas."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

CHARGE_CREATED = "charge.created"
CHARGE_REVERSED = "charge.reversed"
CHARGES_PATH = "/internal/charges"
CHARGE_REVERSALS_PATH = "/internal/charge-reversals"
SOURCES = ("lab", "pharmacy")
ITEM_KINDS = ("service", "drug", "supply")


class PractitionerSnapshotSchema(Schema):
    """A doctor, nurse, technician or pharmacist from the gateway's registry, as a claim names them."""

    id = fields.String(required=True, validate=validate.Length(1, 100))
    full_name = fields.String(required=True, validate=validate.Length(1, 200))
    licence_number = fields.String(required=True, validate=validate.Length(1, 50))  # CCHN: MA_BAC_SI
    department = fields.String(load_default="", validate=validate.Length(0, 100))  # MA_KHOA, e.g. K01


class ChargeCreatedSchema(Schema):
    """A billable event on a patient's visit: a logged lab test, a dispensed drug line."""

    key = fields.String(required=True, validate=validate.Length(1, 200))  # e.g. lab:test-run:42
    source = fields.String(required=True, validate=validate.OneOf(SOURCES))
    source_id = fields.String(required=True, validate=validate.Length(1, 100))
    encounter_id = fields.String(required=True, validate=validate.Length(1, 100))
    patient_id = fields.String(required=True, validate=validate.Length(1, 100))
    item_kind = fields.String(required=True, validate=validate.OneOf(ITEM_KINDS))
    code = fields.String(required=True, validate=validate.Length(1, 50))  # BHYT MA_DICH_VU / MA_THUOC
    name = fields.String(required=True, validate=validate.Length(1, 300))
    unit = fields.String(required=True, validate=validate.Length(1, 30))
    quantity = fields.Integer(required=True, validate=validate.Range(min=1))
    unit_price_amount = fields.Integer(required=True, validate=validate.Range(min=0))
    insurance_unit_price_amount = fields.Integer(required=True, validate=validate.Range(min=0))
    insurance_covered = fields.Boolean(required=True)
    insurance_rate = fields.Integer(load_default=100, validate=validate.Range(0, 100))  # TYLE_TT_BH %
    amount = fields.Integer(required=True, validate=validate.Range(min=0))  # quantity × unit price
    cost_amount = fields.Integer(load_default=0, validate=validate.Range(min=0))  # reagent/drug cost
    currency = fields.String(load_default="VND", validate=validate.Equal("VND"))
    occurred_at = fields.AwareDateTime(required=True, format="iso")
    details = fields.Dict(load_default=dict)  # source-specific: loinc, atc, strength, route, results...
    # Optional (older senders leave them out). The ids are the gateway's practitioner ids, sent by lab and pharmacy;
    # the gateway adds who they are before it hands the charge to billing.
    ordered_by_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 100))
    performed_by_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 100))
    ordered_by = fields.Nested(PractitionerSnapshotSchema, load_default=None, allow_none=True)  # MA_BAC_SI
    performed_by = fields.Nested(PractitionerSnapshotSchema, load_default=None, allow_none=True)  # NGUOI_THUC_HIEN


class ChargeReversedSchema(Schema):
    """Part or all of an earlier charge taken back: a voided test run, a returned drug."""

    key = fields.String(required=True, validate=validate.Length(1, 200))  # e.g. lab:test-run:42:void
    charge_key = fields.String(required=True, validate=validate.Length(1, 200))
    source = fields.String(required=True, validate=validate.OneOf(SOURCES))
    encounter_id = fields.String(required=True, validate=validate.Length(1, 100))
    quantity = fields.Integer(required=True, validate=validate.Range(min=1))
    amount = fields.Integer(required=True, validate=validate.Range(min=0))
    currency = fields.String(load_default="VND", validate=validate.Equal("VND"))
    reason = fields.String(required=True, validate=validate.Length(1, 500))
    occurred_at = fields.AwareDateTime(required=True, format="iso")


class PatientSnapshotSchema(Schema):
    """The patient as the gateway knows them when a charge or a closed visit is handed to billing."""

    id = fields.String(required=True)
    full_name = fields.String(required=True)
    birth_date = fields.Date(required=True)
    sex = fields.String(required=True, validate=validate.OneOf(("male", "female", "unknown")))
    cccd = fields.String(required=True, validate=validate.Regexp(r"^\d{12}$"))
    address = fields.String(load_default="")


class CoverageSnapshotSchema(Schema):
    """The BHYT card valid on the visit date (absent when the patient pays themselves)."""

    card_number = fields.String(required=True, validate=validate.Length(equal=15))
    registered_facility = fields.String(required=True, validate=validate.Length(equal=5))
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(required=True)
    benefit_level = fields.Integer(required=True, validate=validate.OneOf((80, 95, 100)))


class EncounterSnapshotSchema(Schema):
    """A visit as billing needs it: who, which card, in or out of network, and its closing data once closed."""

    id = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(("outpatient", "inpatient")))
    department = fields.String(required=True)
    in_network = fields.Boolean(required=True)
    network_rate = fields.Integer(load_default=100, validate=validate.Range(0, 100))
    opened_at = fields.AwareDateTime(required=True, format="iso")
    status = fields.String(load_default="open", validate=validate.OneOf(("open", "closed")))
    diagnosis_main = fields.String(load_default=None, allow_none=True)  # ICD-10
    diagnosis_other = fields.String(load_default=None, allow_none=True)
    discharged_at = fields.AwareDateTime(load_default=None, allow_none=True, format="iso")
    patient = fields.Nested(PatientSnapshotSchema, required=True)
    coverage = fields.Nested(CoverageSnapshotSchema, load_default=None, allow_none=True)
    practitioner = fields.Nested(PractitionerSnapshotSchema, load_default=None, allow_none=True)  # optional


class BillableChargeSchema(Schema):
    """What the gateway sends billing for each charge: the charge and the visit with its coverage snapshot."""

    charge = fields.Nested(ChargeCreatedSchema, required=True)
    encounter = fields.Nested(EncounterSnapshotSchema, required=True)

    @validates_schema
    def _same_visit(self, data, **_kwargs):
        """Refuse (422, never retried) a charge whose visit or patient is not the snapshot's."""
        charge, encounter = data.get("charge") or {}, data.get("encounter") or {}
        if charge.get("encounter_id") != encounter.get("id"):
            raise ValidationError(f"The snapshot is of visit {encounter.get('id')}, the charge is on visit "
                                  f"{charge.get('encounter_id')}", "encounter")
        if charge.get("patient_id") != (encounter.get("patient") or {}).get("id"):
            raise ValidationError("The snapshot's patient is not the charge's", "encounter")


BILLING_CHARGES_PATH = "/internal/charges"
BILLING_REVERSALS_PATH = "/internal/charge-reversals"
BILLING_ENCOUNTERS_PATH = "/internal/encounters"  # an EncounterSnapshot, sent again when the visit closes

ENCOUNTER_FLAGGED = "encounter.flagged"
ENCOUNTER_FLAGS_PATH = "/internal/encounter-flags"  # on the gateway


class EncounterFlagSchema(Schema):
    """A warning attached to a visit on the patient's record, e.g. a recalled drug lot the patient received."""

    key = fields.String(required=True, validate=validate.Length(1, 200))  # e.g. pharmacy:recall:12:encounter:34
    encounter_id = fields.String(required=True, validate=validate.Length(1, 100))
    patient_id = fields.String(required=True, validate=validate.Length(1, 100))
    kind = fields.String(required=True, validate=validate.OneOf(("drug_recall", "reagent_recall", "other")))
    message = fields.String(required=True, validate=validate.Length(1, 1000))
    source = fields.String(required=True, validate=validate.OneOf(SOURCES))
    details = fields.Dict(load_default=dict)  # drug_code, lot_number, dispense ids, recall reason
    raised_at = fields.AwareDateTime(required=True, format="iso")
