"""Check-in endpoints: what is queued, sent or refused by the BHYT portal, the file itself, a retry."""

from flask import Response
from flask_smorest import Blueprint

from common.auth import MONEY_STAFF, require_roles
from gateway.check_ins import services
from gateway.check_ins.schemas import CheckInQuerySchema, CheckInSchema

blp = Blueprint("check_ins", __name__, url_prefix="/api/v1", description="BHYT check-in records (QĐ 4750)")


@blp.route("/check-ins")
@require_roles(*MONEY_STAFF)
@blp.arguments(CheckInQuerySchema(), location="query")
@blp.response(200, CheckInSchema(many=True))
def list_check_ins(query):
    """List check-ins, newest first; `state=pending` shows what the portal has not taken yet."""
    return services.list_check_ins(query)


@blp.route("/check-ins/<int:check_in_id>")
@require_roles(*MONEY_STAFF)
@blp.response(200, CheckInSchema)
def get_check_in(check_in_id):
    """Show one check-in and where its delivery stands."""
    return services.get_check_in(check_in_id)


@blp.route("/check-ins/<int:check_in_id>/file")
@require_roles(*MONEY_STAFF)
@blp.response(200, content_type="application/xml")
def check_in_file(check_in_id):
    """Download the check-in file as it is (or was) sent to the portal."""
    return Response(services.get_check_in(check_in_id).payload, mimetype="application/xml")


@blp.route("/check-ins/<int:check_in_id>/retry", methods=["POST"])
@require_roles(*MONEY_STAFF)
@blp.response(200, CheckInSchema)
def retry_check_in(check_in_id):
    """Send a check-in the portal refused again, rebuilt from the visit's current data."""
    return services.retry_check_in(check_in_id)
