"""Prescriptions, dispenses and returns."""

from flask_smorest import Blueprint
from peewee import fn

from common.auth import require_roles
from common.idempotency import idempotent
from common.paging import page
from common.read_audit import reads_patient_data
from pharmacy_service import services
from pharmacy_service.dispensing_schemas import (
    DispenseByPrescriptionSchema,
    DispenseInSchema,
    DispenseLineSourceSchema,
    DispensePlanQuerySchema,
    DispensePlanSchema,
    DispenseSchema,
    PrescriptionInSchema,
    PrescriptionQuerySchema,
    PrescriptionSchema,
    ReturnInSchema,
    ReturnSchema,
)
from pharmacy_service.models import Prescription, PrescriptionLine

blp = Blueprint("pharmacy_dispensing", __name__, url_prefix="/api/v1/pharmacy",
                description="Prescriptions, dispensing and returns")
PHARMACIST = "pharmacist"


@blp.route("/prescriptions")
@require_roles(PHARMACIST)
@blp.arguments(PrescriptionQuerySchema(), location="query")
@blp.response(200, PrescriptionSchema(many=True))
@reads_patient_data("prescriptions")
def list_prescriptions(query):
    """List prescriptions, newest first (`order=oldest`: the counter's queue), by visit, patient or state (`open`:
    something is left to dispense)."""
    selection = Prescription.select()
    if query.get("state") == "open":
        selection = selection.where(fn.EXISTS(PrescriptionLine.select().where(
            (PrescriptionLine.prescription == Prescription.id)
            & (PrescriptionLine.quantity_dispensed < PrescriptionLine.quantity))))
    if query.get("encounter_id"):
        selection = selection.where(Prescription.encounter_id == query["encounter_id"])
    if query.get("patient_id"):
        selection = selection.where(Prescription.patient_id == query["patient_id"])
    return page(selection, Prescription.id, query, descending=query["order"] == "newest")


@blp.route("/prescriptions", methods=["POST"])
@require_roles(PHARMACIST, allow_service=True)
@idempotent(required=False)
@blp.arguments(PrescriptionInSchema())
@blp.response(201, PrescriptionSchema)
def create_prescription(fields):
    """Record a prescription for a visit."""
    return services.create_prescription(fields)


@blp.route("/prescriptions/<int:prescription_id>")
@require_roles(PHARMACIST)
@blp.response(200, PrescriptionSchema)
@reads_patient_data("prescription")
def get_prescription(prescription_id):
    """Show a prescription with what is dispensed and what remains of each line."""
    return services.get_prescription(prescription_id)


@blp.route("/prescriptions/<int:prescription_id>/dispense-plan")
@require_roles(PHARMACIST)
@blp.arguments(DispensePlanQuerySchema(), location="query")
@blp.response(200, DispensePlanSchema)
def plan_dispense(query, prescription_id):
    """Show the lots a dispense of these quantities would take, FEFO, before it is confirmed (nothing is taken)."""
    return services.plan_dispense(prescription_id, query["lines"])


@blp.route("/prescriptions/<int:prescription_id>/dispenses", methods=["POST"])
@require_roles(PHARMACIST)
@idempotent
@blp.arguments(DispenseInSchema())
@blp.response(201, DispenseSchema)
def dispense_prescription(fields, prescription_id):
    """Dispense lines of a prescription FEFO; each dispensed line becomes a charge on the visit."""
    return services.dispense(prescription_id, fields["lines"])


@blp.route("/dispenses", methods=["POST"])
@require_roles(PHARMACIST)
@idempotent
@blp.arguments(DispenseByPrescriptionSchema())
@blp.response(201, DispenseSchema)
def dispense_scanned_prescription(fields):
    """Dispense a prescription named in the body (as scanned from its barcode); same as the nested route."""
    return services.dispense(fields["prescription_id"], fields["lines"])


@blp.route("/dispenses/<int:dispense_id>")
@require_roles(PHARMACIST)
@blp.response(200, DispenseSchema)
@reads_patient_data("dispense")
def get_dispense(dispense_id):
    """Show a dispense with the lots each line came from."""
    return services.dispense_view(dispense_id)


@blp.route("/dispense-lines/<int:line_id>")
@require_roles(PHARMACIST, "finance")
@blp.response(200, DispenseLineSourceSchema)
@reads_patient_data("dispense-line")
def get_dispense_line(line_id):
    """Show the dispense a line belongs to (the source of a claimed drug line), with the lots it came from."""
    return services.dispense_line_source(line_id)


@blp.route("/dispenses/<int:dispense_id>/returns", methods=["POST"])
@require_roles(PHARMACIST)
@idempotent
@blp.arguments(ReturnInSchema())
@blp.response(201, ReturnSchema)
def return_drugs(fields, dispense_id):
    """Take dispensed drugs back into their lots and reverse the charges for them."""
    return services.return_dispensed(dispense_id, fields)
