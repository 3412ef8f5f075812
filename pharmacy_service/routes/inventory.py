"""Catalogue, receiving, lots (count, adjust, quarantine, recall), the stock card, stock and alerts."""

from flask_smorest import Blueprint

from common.auth import require_roles
from common.idempotency import idempotent
from common.paging import page
from common.read_audit import reads_patient_data
from pharmacy_service import services
from pharmacy_service.models import Alert, Drug
from pharmacy_service.schemas import (
    AdjustmentInSchema,
    AlertQuerySchema,
    AlertSchema,
    CatalogueQuerySchema,
    CountInSchema,
    DrugDetailSchema,
    DrugSchema,
    LedgerQuerySchema,
    LotSchema,
    ReasonInSchema,
    RecallInSchema,
    RecallSchema,
    ReceiveLotSchema,
    RecipientSchema,
    StockEntrySchema,
    StockQuerySchema,
    StockRowSchema,
)

blp = Blueprint("pharmacy_inventory", __name__, url_prefix="/api/v1/pharmacy",
                description="Drugs, lots, counts, recalls, stock and alerts")
PHARMACIST = "pharmacist"


@blp.route("/drugs")
@require_roles(PHARMACIST)
@blp.arguments(CatalogueQuerySchema(), location="query")
@blp.response(200, DrugSchema(many=True))
def list_drugs(query):
    """List the drug catalogue by code."""
    return page(Drug.select(), Drug.code, query, descending=False)


@blp.route("/drugs", methods=["POST"])
@require_roles(PHARMACIST)
@idempotent(required=False)
@blp.arguments(DrugSchema())
@blp.response(201, DrugSchema)
def create_drug(fields):
    """Add a drug to the catalogue."""
    return services.create_drug(fields)


@blp.route("/drugs/<code>")
@require_roles(PHARMACIST)
@blp.response(200, DrugDetailSchema)
def get_drug(code):
    """Show a drug with the on-hand quantity of each of its lots."""
    return services.get_drug(code)


@blp.route("/drugs/<code>/ledger")
@require_roles(PHARMACIST)
@blp.arguments(LedgerQuerySchema(), location="query")
@blp.response(200, StockEntrySchema(many=True))
def get_stock_card(query, code):
    """Read the drug's stock card (append-only ledger), newest first, with running balances."""
    return services.stock_card(code, query)


@blp.route("/drugs/<code>/lots", methods=["POST"])
@require_roles(PHARMACIST)
@idempotent
@blp.arguments(ReceiveLotSchema())
@blp.response(201, LotSchema)
def receive_lot(fields, code):
    """Receive a lot of this drug, typed in or scanned from the pack's GS1 DataMatrix."""
    return services.receive_lot(fields, code)


@blp.route("/lots", methods=["POST"])
@require_roles(PHARMACIST)
@idempotent
@blp.arguments(ReceiveLotSchema())
@blp.response(201, LotSchema)
def receive_scanned_lot(fields):
    """Receive a lot by scanning its GS1 DataMatrix alone: the GTIN finds the drug."""
    return services.receive_lot(fields)


@blp.route("/lots/<int:lot_id>")
@require_roles(PHARMACIST, "finance")  # finance opens the lot a claim finding points at
@blp.response(200, LotSchema)
def get_lot(lot_id):
    """Show one lot."""
    return services.get_lot(lot_id)


@blp.route("/lots/<int:lot_id>/counts", methods=["POST"])
@require_roles(PHARMACIST)
@idempotent
@blp.arguments(CountInSchema())
@blp.response(201, StockEntrySchema)
def count_lot(fields, lot_id):
    """Record a physical count of the lot's shelf stock; the difference goes on the stock card."""
    return services.count_lot(lot_id, fields)


@blp.route("/lots/<int:lot_id>/adjustments", methods=["POST"])
@require_roles(PHARMACIST)
@idempotent
@blp.arguments(AdjustmentInSchema())
@blp.response(201, StockEntrySchema)
def adjust_lot(fields, lot_id):
    """Add or remove shelf stock for a stated reason."""
    return services.adjust_lot(lot_id, fields)


@blp.route("/lots/<int:lot_id>/quarantine", methods=["POST"])
@require_roles(PHARMACIST)
@blp.arguments(ReasonInSchema())
@blp.response(200, LotSchema)
def quarantine_lot(fields, lot_id):
    """Hold a lot back from dispensing (suspected quality problem, pending inspection)."""
    return services.set_lot_status(lot_id, "quarantined", fields["reason"])


@blp.route("/lots/<int:lot_id>/release", methods=["POST"])
@require_roles(PHARMACIST)
@blp.arguments(ReasonInSchema())
@blp.response(200, LotSchema)
def release_lot(fields, lot_id):
    """Return a quarantined lot to dispensing."""
    return services.set_lot_status(lot_id, "available", fields["reason"])


@blp.route("/lots/<int:lot_id>/recall", methods=["POST"])
@require_roles(PHARMACIST)
@idempotent
@blp.arguments(RecallInSchema())
@blp.response(201, RecallSchema)
def recall_lot(fields, lot_id):
    """Recall a lot: block it at once, flag every visit that received it and, as the recall's `money` says, take
    back the charge of what each patient kept (billing reverses it, or writes a credit note on a paid bill)."""
    return services.recall_lot(lot_id, fields)


@blp.route("/lots/<int:lot_id>/recipients")
@require_roles(PHARMACIST)
@blp.response(200, RecipientSchema(many=True))
@reads_patient_data("lot-recipients")
def lot_recipients(lot_id):
    """List every patient and visit that received this lot."""
    return services.lot_recipients(lot_id)


@blp.route("/stock")
@require_roles(PHARMACIST)
@blp.arguments(StockQuerySchema(), location="query")
@blp.response(200, StockRowSchema(many=True))
def stock(query):
    """Show on-hand, usable and quarantined stock and its value at cost, for every drug by code (paged)."""
    return services.stock_report(query)


@blp.route("/alerts")
@require_roles(PHARMACIST)
@blp.arguments(AlertQuerySchema(), location="query")
@blp.response(200, AlertSchema(many=True))
def list_alerts(query):
    """List pharmacy alerts (open by default), newest first."""
    selection = Alert.select(Alert, Drug).join(Drug)
    if query["status"] != "all":
        selection = selection.where(Alert.status == query["status"])
    if query.get("kind"):
        selection = selection.where(Alert.kind == query["kind"])
    if query.get("drug_code"):
        selection = selection.where(Drug.code == query["drug_code"])
    return page(selection, Alert.id, query)
