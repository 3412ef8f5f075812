"""Gateway's own endpoints: sign-in, the internal charge intake, the charge ledger and the audit log."""

from flask import request
from flask_smorest import Blueprint

from common.auth import require_roles, require_service
from common.contracts import ChargeCreatedSchema, ChargeReversedSchema, EncounterFlagSchema
from common.paging import page
from gateway import services
from gateway.charges import services as charges
from gateway.encounters.flags import store_encounter_flag
from gateway.encounters.schemas import EncounterFlagViewSchema
from gateway.models import Charge, ChargeReversal
from gateway.schemas import (
    AuditEntrySchema,
    AuditQuerySchema,
    ChargeQuerySchema,
    ReversalReceiptSchema,
    StoredChargeSchema,
    StoredReversalSchema,
    TokenRequestSchema,
    TokenResponseSchema,
)

auth_blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Sign in")
internal_blp = Blueprint("internal", __name__, url_prefix="/internal", description="Service-to-service intake")
ledger_blp = Blueprint("ledger", __name__, url_prefix="/api/v1", description="Charge ledger and audit log")


@auth_blp.route("/token", methods=["POST"])
@auth_blp.arguments(TokenRequestSchema())
@auth_blp.response(200, TokenResponseSchema)
def create_token(credentials):
    """Exchange a username and password for a short-lived bearer token (429 after repeated failures)."""
    return services.issue_access_token(credentials["username"], credentials["password"], request.remote_addr)


@internal_blp.route("/charges", methods=["POST"])
@require_service
@internal_blp.arguments(ChargeCreatedSchema())
@internal_blp.response(201, StoredChargeSchema)
@internal_blp.alt_response(200, schema=StoredChargeSchema, success=True, description="already stored")
def receive_charge(event):
    """Store a charge from lab or pharmacy exactly once (200 with the stored one on a resend)."""
    charge, created = charges.store_charge(event)
    return charge, 201 if created else 200


@internal_blp.route("/charge-reversals", methods=["POST"])
@require_service
@internal_blp.arguments(ChargeReversedSchema())
@internal_blp.response(201, ReversalReceiptSchema)
@internal_blp.alt_response(200, schema=ReversalReceiptSchema, success=True, description="already stored")
def receive_charge_reversal(event):
    """Store a reversal exactly once and reduce the charge it reverses."""
    reversal, created = charges.store_charge_reversal(event)
    return {"key": reversal.key, "charge_key": reversal.charge_key, "flag": reversal.flag}, 201 if created else 200


@internal_blp.route("/encounter-flags", methods=["POST"])
@require_service
@internal_blp.arguments(EncounterFlagSchema())
@internal_blp.response(201, EncounterFlagViewSchema)
@internal_blp.alt_response(200, schema=EncounterFlagViewSchema, success=True, description="already stored")
def receive_encounter_flag(event):
    """Store a warning on a visit (e.g. a recalled drug lot) exactly once (200 with the stored one on a resend)."""
    flag, created = store_encounter_flag(event)
    return flag, 201 if created else 200


@ledger_blp.route("/charges")
@require_roles("cashier", "finance")
@ledger_blp.arguments(ChargeQuerySchema(), location="query")
@ledger_blp.response(200, StoredChargeSchema(many=True))
def list_charges(query):
    """List stored charges, newest first; `flagged=true` shows the ones finance must look at."""
    selection = Charge.select()
    if query.get("encounter_id"):
        selection = selection.where(Charge.encounter_ref == query["encounter_id"])
    if query.get("flagged") is True:
        selection = selection.where(Charge.flag.is_null(False))
    return page(selection, Charge.id, query)


@ledger_blp.route("/charge-reversals")
@require_roles("finance")
@ledger_blp.arguments(ChargeQuerySchema(), location="query")
@ledger_blp.response(200, StoredReversalSchema(many=True))
def list_charge_reversals(query):
    """List stored reversals, newest first; `flagged=true` shows those of an unknown charge or beyond it."""
    selection = ChargeReversal.select()
    if query.get("encounter_id"):
        charges = Charge.select(Charge.key).where(Charge.encounter_ref == query["encounter_id"])
        selection = selection.where(ChargeReversal.charge_key.in_(charges))
    if query.get("flagged") is True:
        selection = selection.where(ChargeReversal.flag.is_null(False))
    return page(selection, ChargeReversal.id, query)


@ledger_blp.route("/audit")
@require_roles("admin")
@ledger_blp.arguments(AuditQuerySchema(), location="query")
@ledger_blp.response(200, AuditEntrySchema(many=True))
def list_audit(query):
    """Read the audit log, newest stored first (a line spooled after its answer is stored a moment later); filter
    by who (`actor`), what (`action`: part of the method and path), `patient_id`, `status` (`401` or `4xx`) and
    time (`since`, `until`)."""
    return services.list_audit_entries(query)
