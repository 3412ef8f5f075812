"""Visit endpoints: open and close visits, see them, and settle charges that could not go on a visit."""

from flask_smorest import Blueprint

from common.auth import CARE_STAFF, require_roles
from common.idempotency import idempotent
from gateway.audit import audited
from gateway.charges import handoff
from gateway.encounters import flags, services
from gateway.encounters.schemas import (
    ChargeAttachSchema,
    EncounterCloseSchema,
    EncounterFlagViewSchema,
    EncounterOpenSchema,
    EncounterQuerySchema,
    EncounterSchema,
    UnmatchedFlagQuerySchema,
)
from gateway.patients.routes import RECEPTION
from gateway.read_audit import audit_patient_read, note_patient_read
from gateway.schemas import StoredChargeSchema

blp = Blueprint("encounters", __name__, url_prefix="/api/v1", description="Visits (encounters) and their charges")
blp.after_request(audit_patient_read)


@blp.route("/encounters", methods=["POST"])
@require_roles(*RECEPTION)
@audited
@idempotent(required=False)
@blp.arguments(EncounterOpenSchema())
@blp.response(201, EncounterSchema)
def open_encounter(fields):
    """Open a visit; its id is the MA_LK that links the visit's lines in the BHYT claim."""
    note_patient_read(fields["patient_id"])
    return services.encounter_view(services.open_encounter(fields))


@blp.route("/encounters")
@require_roles(*CARE_STAFF)
@blp.arguments(EncounterQuerySchema(), location="query")
@blp.response(200, EncounterSchema(many=True))
def list_encounters(query):
    """List visits, newest first; `patient_id` and `status=open` find the visit to log work on."""
    note_patient_read(query.get("patient_id"))
    return services.list_encounters(query)


@blp.route("/encounters/<int:encounter_id>")
@require_roles(*CARE_STAFF)
@blp.response(200, EncounterSchema)
def get_encounter(encounter_id):
    """Show one visit with the card valid on the day it opened."""
    encounter = services.get_encounter(encounter_id)
    note_patient_read(encounter.patient_id)
    return services.encounter_view(encounter)


@blp.route("/encounters/<int:encounter_id>/close", methods=["POST"])
@require_roles(*RECEPTION)
@audited
@idempotent(required=False)
@blp.arguments(EncounterCloseSchema())
@blp.response(200, EncounterSchema)
def close_encounter(fields, encounter_id):
    """Close a visit with its ICD-10 diagnoses and discharge time."""
    encounter = services.close_encounter(encounter_id, fields)
    note_patient_read(encounter.patient_id)
    return services.encounter_view(encounter)


@blp.route("/charges/<int:charge_id>/attach", methods=["POST"])
@require_roles("finance")
@audited
@idempotent
@blp.arguments(ChargeAttachSchema())
@blp.response(200, StoredChargeSchema)
def attach_charge(fields, charge_id):
    """Put a flagged charge on the visit it belongs to, which bills it there."""
    charge = handoff.attach_flagged_charge(charge_id, fields["encounter_id"])
    note_patient_read(charge.patient_ref)
    return charge


@blp.route("/encounter-flags")
@require_roles("finance", "pharmacist")
@blp.arguments(UnmatchedFlagQuerySchema(), location="query")
@blp.response(200, EncounterFlagViewSchema(many=True))
def list_unmatched_flags(query):
    """List recall warnings that name a visit or patient the gateway does not know."""
    return flags.list_unmatched_flags(query)
