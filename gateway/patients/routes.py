"""Patient endpoints: registration by CCCD, BHYT cards, look-up at check-in, the patient record."""

from flask_smorest import Blueprint

from common.auth import require_roles
from common.idempotency import idempotent
from gateway.audit import audited
from gateway.encounters import services as encounter_services
from gateway.patients import record, services
from gateway.patients.record_schemas import PatientRecordSchema
from gateway.patients.schemas import (
    CoverageListQuerySchema,
    CoverageQuerySchema,
    CoverageSchema,
    PatientQuerySchema,
    PatientSchema,
    PatientViewSchema,
    RecordQuerySchema,
)
from gateway.read_audit import audit_patient_read, note_patient_read

blp = Blueprint("patients", __name__, url_prefix="/api/v1", description="Patients, BHYT cards, the patient record")
blp.after_request(audit_patient_read)
RECEPTION = ("cashier",)
RECORD_READERS = ("cashier", "finance")
# Lab and pharmacy staff look a patient up by CCCD to find the open visit they log tests and dispenses on.
LOOKUP_READERS = ("cashier", "finance", "lab_tech", "lab_head", "pharmacist")


@blp.route("/patients", methods=["POST"])
@require_roles(*RECEPTION)
@audited
@idempotent
@blp.arguments(PatientSchema())
@blp.response(201, PatientViewSchema)
def register_patient(fields):
    """Register a patient by their chip ID card (CCCD)."""
    patient = services.register_patient(fields)
    note_patient_read(patient.id)
    return services.patient_view(patient)


@blp.route("/patients")
@require_roles(*LOOKUP_READERS)
@blp.arguments(PatientQuerySchema(), location="query")
@blp.response(200, PatientViewSchema(many=True))
def find_patients(query):
    """Find a patient at check-in by the CCCD number alone (a list of zero or one)."""
    patient = services.find_by_cccd(query["cccd"])
    note_patient_read(patient.id if patient else None)
    return [services.patient_view(patient)] if patient else []


@blp.route("/patients/<int:patient_id>")
@require_roles(*LOOKUP_READERS)
@blp.response(200, PatientViewSchema)
def get_patient(patient_id):
    """Show a patient with the card valid today and the open visit."""
    return services.patient_view(services.get_patient(patient_id))


@blp.route("/patients/<int:patient_id>/coverages", methods=["POST"])
@require_roles(*RECEPTION)
@audited
@idempotent
@blp.arguments(CoverageSchema())
@blp.response(201, CoverageSchema)
def add_coverage(fields, patient_id):
    """Record a patient's BHYT card."""
    note_patient_read(patient_id)
    return encounter_services.record_coverage(patient_id, fields)


@blp.route("/patients/<int:patient_id>/coverages")
@require_roles(*RECORD_READERS)
@blp.arguments(CoverageListQuerySchema(), location="query")
@blp.response(200, CoverageSchema(many=True))
def list_coverages(query, patient_id):
    """List a patient's BHYT cards, latest first (paged)."""
    return services.list_coverages(patient_id, query)


@blp.route("/coverages")
@require_roles(*RECORD_READERS)
@blp.arguments(CoverageQuerySchema(), location="query")
@blp.response(200, CoverageSchema)
def coverage_by_cccd(query):
    """Give the BHYT card valid on a day (today by default) of the patient holding a CCCD."""
    patient, coverage = services.coverage_for_cccd(query["cccd"], query["on"])
    note_patient_read(patient.id)
    return coverage


@blp.route("/patients/<int:patient_id>/record")
@require_roles(*RECORD_READERS)
@blp.arguments(RecordQuerySchema(), location="query")
@blp.response(200, PatientRecordSchema)
def patient_record(query, patient_id):
    """Show the patient's record: visits with every charge, the bill and claim from billing, recall warnings."""
    return record.patient_record(patient_id, query["visits"])
