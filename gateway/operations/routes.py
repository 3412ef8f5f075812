"""Admin's overview of deliveries between the services that need a person."""

from flask_smorest import Blueprint

from common.auth import require_roles
from gateway.operations import services
from gateway.operations.schemas import IntegrityOverviewSchema, OutboxOverviewQuerySchema, OutboxOverviewSchema

blp = Blueprint("operations", __name__, url_prefix="/api/v1/admin", description="What admin must look at")


@blp.route("/outbox")
@require_roles("admin")
@blp.arguments(OutboxOverviewQuerySchema(), location="query")
@blp.response(200, OutboxOverviewSchema)
def outbox_overview(query):
    """Every service's outbox messages rejected for good (default) or stuck (pending and failing), in one list."""
    return services.outbox_overview(query["state"], query["limit"])


@blp.route("/integrity")
@require_roles("admin")
@blp.response(200, IntegrityOverviewSchema)
def integrity_overview():
    """Every service's ledger chains checked now: per stream, the first row that does not match."""
    return services.integrity_overview()
