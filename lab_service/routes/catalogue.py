"""Catalogue endpoints: reagents and their lots, analyzers, tests with recipes (lab head manages, all read)."""

from flask_smorest import Blueprint

from common.auth import LAB_STAFF, require_roles
from common.idempotency import idempotent
from common.paging import page
from lab_service import services
from lab_service.models import Analyzer, Reagent
from lab_service.schemas import (
    AnalyzerSchema,
    CatalogueQuerySchema,
    LabTestSchema,
    LotSchema,
    ReagentChangesSchema,
    ReagentSchema,
    ReagentStockSchema,
    RecipeSchema,
    StockCardQuerySchema,
    StockCardSchema,
)

blp = Blueprint("lab_catalogue", __name__, url_prefix="/api/v1/lab", description="Reagents, lots, analyzers, tests")


@blp.route("/reagents")
@require_roles(*LAB_STAFF)
@blp.arguments(CatalogueQuerySchema(), location="query")
@blp.response(200, ReagentSchema(many=True))
def list_reagents(query):
    """List the reagent catalogue by code."""
    return page(Reagent.select(), Reagent.code, query, descending=False)


@blp.route("/reagents", methods=["POST"])
@require_roles("lab_head")
@idempotent(required=False)
@blp.arguments(ReagentSchema())
@blp.response(201, ReagentSchema)
def create_reagent(fields):
    """Add a reagent to the catalogue."""
    return services.create_reagent(fields)


@blp.route("/reagents/<code>")
@require_roles(*LAB_STAFF)
@blp.response(200, ReagentStockSchema)
def get_reagent(code):
    """Show a reagent with its lots and usable on-hand per lot and in total."""
    return services.reagent_stock(code)


@blp.route("/reagents/<code>", methods=["PATCH"])
@require_roles("lab_head")
@blp.arguments(ReagentChangesSchema())
@blp.response(200, ReagentSchema)
def update_reagent(changes, code):
    """Change a reagent's reorder level, cost, QC release or stability."""
    return services.update_reagent(code, changes)


@blp.route("/reagents/<code>/ledger")
@require_roles(*LAB_STAFF)
@blp.arguments(StockCardQuerySchema(), location="query")
@blp.response(200, StockCardSchema)
def get_stock_card(query, code):
    """Show the reagent's stock card: the latest ledger rows with the running balance (older rows: the next page's
    cursor)."""
    return services.stock_card(code, query)


@blp.route("/reagents/<code>/lots", methods=["POST"])
@require_roles("lab_head")
@idempotent
@blp.arguments(LotSchema())
@blp.response(201, LotSchema)
def receive_lot(fields, code):
    """Receive a lot into stock (quarantined if the reagent needs QC release)."""
    return services.receive_lot(code, fields)


@blp.route("/reagents/<code>/lots/<int:lot_id>/release", methods=["POST"])
@require_roles("lab_head")
@blp.response(200, LotSchema)
def release_lot(code, lot_id):
    """Release a quarantined lot after QC passed."""
    return services.release_lot(code, lot_id)


@blp.route("/reagents/<code>/lots/<int:lot_id>/quarantine", methods=["POST"])
@require_roles("lab_head")
@blp.response(200, LotSchema)
def quarantine_lot(code, lot_id):
    """Put a released lot back in quarantine (QC failed, a recall notice) until it is released again."""
    return services.quarantine_lot(code, lot_id)


@blp.route("/reagents/<code>/lots/<int:lot_id>/open", methods=["POST"])
@require_roles(*LAB_STAFF)
@blp.response(200, LotSchema)
def open_lot(code, lot_id):
    """Open a lot; its in-use stability clock starts."""
    return services.open_lot(code, lot_id)


@blp.route("/analyzers")
@require_roles(*LAB_STAFF)
@blp.arguments(CatalogueQuerySchema(), location="query")
@blp.response(200, AnalyzerSchema(many=True))
def list_analyzers(query):
    """List the analyzers by code."""
    return page(Analyzer.select(), Analyzer.code, query, descending=False)


@blp.route("/analyzers", methods=["POST"])
@require_roles("lab_head")
@idempotent(required=False)
@blp.arguments(AnalyzerSchema())
@blp.response(201, AnalyzerSchema)
def create_analyzer(fields):
    """Add an analyzer."""
    return services.create_analyzer(fields)


@blp.route("/tests")
@require_roles(*LAB_STAFF)
@blp.arguments(CatalogueQuerySchema(), location="query")
@blp.response(200, LabTestSchema(many=True))
def list_tests(query):
    """List the test catalogue with recipes, by code."""
    return services.list_lab_tests(query)


@blp.route("/tests", methods=["POST"])
@require_roles("lab_head")
@idempotent(required=False)
@blp.arguments(LabTestSchema())
@blp.response(201, LabTestSchema)
def create_test(fields):
    """Add a test with its LOINC, BHYT service code, prices and reagent recipe."""
    return services.create_lab_test(fields)


@blp.route("/tests/<code>")
@require_roles(*LAB_STAFF)
@blp.response(200, LabTestSchema)
def get_test(code):
    """Show a test with its recipe."""
    return services.lab_test_view(services.lab_test_by_code(code))


@blp.route("/tests/<code>/recipe", methods=["PUT"])
@require_roles("lab_head")
@blp.arguments(RecipeSchema())
@blp.response(200, LabTestSchema)
def replace_recipe(body, code):
    """Replace a test's recipe for runs logged from now on."""
    return services.replace_recipe(code, body["recipe"])
