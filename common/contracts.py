"""Events that cross services, declared once. Every producer dumps and every consumer loads these schemas."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from common.bounds import day, line_quantity, moment, money, name_text, text, unit_price

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

    key = text(200, 1, required=True)  # e.g. lab:test-run:42
    source = fields.String(required=True, validate=validate.OneOf(SOURCES))
    source_id = text(100, 1, required=True)
    encounter_id = text(100, 1, required=True)
    patient_id = text(100, 1, required=True)
    item_kind = fields.String(required=True, validate=validate.OneOf(ITEM_KINDS))
    code = text(50, 1, required=True)  # BHYT MA_DICH_VU / MA_THUOC
    name = name_text(300, required=True)
    unit = text(30, 1, required=True)
    quantity = line_quantity(required=True)
    unit_price_amount = unit_price(required=True)
    insurance_unit_price_amount = unit_price(required=True)
    insurance_covered = fields.Boolean(required=True)
    insurance_rate = fields.Integer(strict=True, load_default=100, validate=validate.Range(0, 100))  # TYLE_TT_BH %
    amount = money(required=True)  # quantity × unit price
    cost_amount = money(load_default=0)  # reagent/drug cost
    currency = fields.String(load_default="VND", validate=validate.Equal("VND"))
    occurred_at = moment(required=True)
    details = fields.Dict(load_default=dict)  # source-specific: loinc, atc, strength, route, results...
    # Optional (older senders leave them out). The ids are the gateway's practitioner ids, sent by lab and pharmacy;
    # the gateway adds who they are before it hands the charge to billing.
    ordered_by_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 100))
    performed_by_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 100))
    ordered_by = fields.Nested(PractitionerSnapshotSchema, load_default=None, allow_none=True)  # MA_BAC_SI
    performed_by = fields.Nested(PractitionerSnapshotSchema, load_default=None, allow_none=True)  # NGUOI_THUC_HIEN


class ChargeReversedSchema(Schema):
    """Part or all of an earlier charge taken back: a voided test run, a returned drug."""

    key = text(200, 1, required=True)  # e.g. lab:test-run:42:void
    charge_key = text(200, 1, required=True)
    source = fields.String(required=True, validate=validate.OneOf(SOURCES))
    encounter_id = text(100, 1, required=True)
    quantity = line_quantity(required=True)
    amount = money(required=True)
    currency = fields.String(load_default="VND", validate=validate.Equal("VND"))
    reason = text(500, 1, required=True, multiline=True)
    occurred_at = moment(required=True)
    # set when a recall takes the money back (e.g. pharmacy:recall:3): billing then writes a credit note for a
    # paid line and withdraws or corrects its claim line (billing_service/services/recall_money.py)
    recall_id = text(100, 1, load_default=None, allow_none=True)


class PatientSnapshotSchema(Schema):
    """The patient as the gateway knows them when a charge or a closed visit is handed to billing."""

    id = text(100, 1, required=True)
    full_name = name_text(200, required=True)
    birth_date = day(required=True)
    sex = fields.String(required=True, validate=validate.OneOf(("male", "female", "unknown")))
    cccd = fields.String(required=True, validate=validate.Regexp(r"^\d{12}$"))
    address = text(500, load_default="", multiline=True)


class CoverageSnapshotSchema(Schema):
    """The BHYT card valid on the visit date (absent when the patient pays themselves)."""

    card_number = text(15, 15, required=True)
    registered_facility = text(5, 5, required=True)
    valid_from = day(required=True)
    valid_to = day(required=True)
    benefit_level = fields.Integer(strict=True, required=True, validate=validate.OneOf((80, 95, 100)))


class EncounterSnapshotSchema(Schema):
    """A visit as billing needs it: who, which card, in or out of network, and its closing data once closed."""

    id = text(100, 1, required=True)
    kind = fields.String(required=True, validate=validate.OneOf(("outpatient", "inpatient")))
    department = text(100, 1, required=True)
    in_network = fields.Boolean(required=True)
    network_rate = fields.Integer(strict=True, load_default=100, validate=validate.Range(0, 100))
    opened_at = moment(required=True)
    status = fields.String(load_default="open", validate=validate.OneOf(("open", "closed")))
    diagnosis_main = text(20, load_default=None, allow_none=True)  # ICD-10
    diagnosis_other = text(200, load_default=None, allow_none=True)
    discharged_at = moment(load_default=None, allow_none=True)
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

    key = text(200, 1, required=True)  # e.g. pharmacy:recall:12:encounter:34
    encounter_id = text(100, 1, required=True)
    patient_id = text(100, 1, required=True)
    kind = fields.String(required=True, validate=validate.OneOf(("drug_recall", "reagent_recall", "other")))
    message = text(1000, 1, required=True, multiline=True)
    source = fields.String(required=True, validate=validate.OneOf(SOURCES))
    details = fields.Dict(load_default=dict)  # drug_code, lot_number, dispense ids, recall reason
    raised_at = moment(required=True)
