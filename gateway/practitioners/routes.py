"""Practitioner registry endpoints: the admin keeps it; every role that names a practitioner reads it."""

from flask_smorest import Blueprint

from common.auth import CARE_STAFF, require_roles
from gateway.practitioners import services
from gateway.practitioners.schemas import PractitionerChangesSchema, PractitionerQuerySchema, PractitionerSchema

blp = Blueprint("practitioners", __name__, url_prefix="/api/v1", description="Practitioners (MA_BAC_SI)")


@blp.route("/practitioners", methods=["POST"])
@require_roles("admin")
@blp.arguments(PractitionerSchema())
@blp.response(201, PractitionerSchema)
def register_practitioner(fields):
    """Register a practitioner with their practising-certificate number and department."""
    return services.register_practitioner(fields)


@blp.route("/practitioners")
@require_roles(*CARE_STAFF)
@blp.arguments(PractitionerQuerySchema(), location="query")
@blp.response(200, PractitionerSchema(many=True))
def list_practitioners(query):
    """List practitioners by name; `department=K26` and `active=true` narrow it for a picker."""
    return services.list_practitioners(query)


@blp.route("/practitioners/<int:practitioner_id>")
@require_roles(*CARE_STAFF)
@blp.response(200, PractitionerSchema)
def get_practitioner(practitioner_id):
    """Show one practitioner."""
    return services.get_practitioner(practitioner_id)


@blp.route("/practitioners/<int:practitioner_id>", methods=["PATCH"])
@require_roles("admin")
@blp.arguments(PractitionerChangesSchema())
@blp.response(200, PractitionerSchema)
def update_practitioner(changes, practitioner_id):
    """Move a practitioner to another department or take them off the active list."""
    return services.update_practitioner(practitioner_id, changes)
