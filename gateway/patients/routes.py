"""Patient endpoints: registration by CCCD, BHYT cards, look-up at check-in, the patient record."""

from flask_smorest import Blueprint

from common.auth import CARE_STAFF, MONEY_STAFF, require_roles
from common.idempotency import idempotent
from gateway.audit import audited
from gateway.encounters import services as encounter_services
from gateway.patients import record, search, services
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
# CARE_STAFF: lab and pharmacy staff look a patient up by CCCD to find the open visit they log tests and dispenses on.


@blp.route("/patients", methods=["POST"])
@require_roles(*RECEPTION)
@audited
@idempotent(required=False)
@blp.arguments(PatientSchema())
@blp.response(201, PatientViewSchema)
def register_patient(fields):
    """Register a patient by their chip ID card (CCCD)."""
    patient = services.register_patient(fields)
    note_patient_read(patient.id)
    return services.patient_view(patient)


@blp.route("/patients")
@require_roles(*CARE_STAFF)
@blp.arguments(PatientQuerySchema(), location="query")
@blp.response(200, PatientViewSchema(many=True))
def find_patients(query):
    """Find patients by CCCD, name (accent-insensitive: "nguyen van an" finds Nguyễn Văn An), phone or BHYT card,
    newest registration first, one page at a time (X-Next-Cursor / Link: rel="next")."""
    patients = search.find_patients(query)
    note_patient_read([patient.id for patient in patients])
    return services.patient_views(patients)


@blp.route("/patients/<int:patient_id>")
@require_roles(*CARE_STAFF)
@blp.response(200, PatientViewSchema)
def get_patient(patient_id):
    """Show a patient with the card valid today and the open visit."""
    return services.patient_view(services.get_patient(patient_id))


@blp.route("/patients/<int:patient_id>/coverages", methods=["POST"])
@require_roles(*RECEPTION)
@audited
@idempotent(required=False)
@blp.arguments(CoverageSchema())
@blp.response(201, CoverageSchema)
def add_coverage(fields, patient_id):
    """Record a patient's BHYT card."""
    note_patient_read(patient_id)
    return encounter_services.record_coverage(patient_id, fields)


@blp.route("/patients/<int:patient_id>/coverages")
@require_roles(*MONEY_STAFF)
@blp.arguments(CoverageListQuerySchema(), location="query")
@blp.response(200, CoverageSchema(many=True))
def list_coverages(query, patient_id):
    """List a patient's BHYT cards, latest first (paged)."""
    return services.list_coverages(patient_id, query)


@blp.route("/coverages")
@require_roles(*MONEY_STAFF)
@blp.arguments(CoverageQuerySchema(), location="query")
@blp.response(200, CoverageSchema)
def coverage_by_cccd(query):
    """Give the BHYT card valid on a day (today by default) of the patient holding a CCCD."""
    patient, coverage = services.coverage_for_cccd(query["cccd"], query["on"])
    note_patient_read(patient.id)
    return coverage


@blp.route("/patients/<int:patient_id>/record")
@require_roles(*MONEY_STAFF)
@blp.arguments(RecordQuerySchema(), location="query")
@blp.response(200, PatientRecordSchema)
def patient_record(query, patient_id):
    """Show the patient's record: visits with every charge, the bill and claim from billing, recall warnings."""
    return record.patient_record(patient_id, query["visits"])
