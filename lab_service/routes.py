"""Lab HTTP endpoints: parse with a schema, call one service verb, return one schema."""

from flask_smorest import Blueprint

from common.auth import require_roles
from common.errors import NotFound
from common.idempotency import idempotent
from lab_service import services
from lab_service.models import Reagent
from lab_service.schemas import ReagentSchema

blp = Blueprint("lab", __name__, url_prefix="/api/v1/lab", description="Reagents, tests and test runs")
READERS = ("lab_tech", "lab_head")


@blp.route("/reagents")
@require_roles(*READERS)
@blp.response(200, ReagentSchema(many=True))
def list_reagents():
    """List the reagent catalogue."""
    return list(Reagent.select().order_by(Reagent.code))


@blp.route("/reagents", methods=["POST"])
@require_roles("lab_head")
@idempotent
@blp.arguments(ReagentSchema)
@blp.response(201, ReagentSchema)
def create_reagent(fields):
    """Add a reagent to the catalogue."""
    return services.create_reagent(fields)


@blp.route("/reagents/<code>")
@require_roles(*READERS)
@blp.response(200, ReagentSchema)
def get_reagent(code):
    """Show one reagent."""
    reagent = Reagent.get_or_none(Reagent.code == code)
    if reagent is None:
        raise NotFound(f"No reagent with code {code}", code="REAGENT_NOT_FOUND")
    return reagent
