"""Bench endpoints: log test and QC runs, void runs, the worklist, physical counts and wastage."""

from flask_smorest import Blueprint

from common.auth import LAB_STAFF, require_roles
from common.idempotency import idempotent
from common.read_audit import reads_patient_data
from lab_service import services
from lab_service.schemas import (
    CountSchema,
    MovementSchema,
    QcRunRequestSchema,
    TestRunQuerySchema,
    TestRunRequestSchema,
    TestRunSchema,
    VoidSchema,
    WastageSchema,
    WorklistOrderSchema,
    WorklistQuerySchema,
)

blp = Blueprint("lab_runs", __name__, url_prefix="/api/v1/lab", description="Test runs, worklist, counts")


@blp.route("/test-runs", methods=["POST"])
@require_roles(*LAB_STAFF)
@idempotent
@blp.arguments(TestRunRequestSchema())
@blp.response(201, TestRunSchema)
def log_test_run(fields):
    """Log a patient test: reagent comes off stock FEFO and the charge goes to the visit."""
    return services.log_test_run(fields)


@blp.route("/test-runs")
@require_roles(*LAB_STAFF)
@blp.arguments(TestRunQuerySchema(), location="query")
@blp.response(200, TestRunSchema(many=True))
@reads_patient_data("test-runs")
def list_test_runs(query):
    """List runs, newest first."""
    return services.list_runs(query)


@blp.route("/test-runs/<int:run_id>")
@require_roles(*LAB_STAFF, "finance")  # finance opens the run a claim finding or rejection points at
@blp.response(200, TestRunSchema)
@reads_patient_data("test-run")
def get_test_run(run_id):
    """Show a run with what it consumed."""
    return services.describe_run(run_id)


@blp.route("/test-runs/<int:run_id>/void", methods=["POST"])
@require_roles("lab_head")
@idempotent
@blp.arguments(VoidSchema())
@blp.response(200, TestRunSchema)
def void_test_run(body, run_id):
    """Void a run: reagent goes back on the same lots and the charge is reversed."""
    return services.void_test_run(run_id, body["reason"])


@blp.route("/qc-runs", methods=["POST"])
@require_roles(*LAB_STAFF)
@idempotent
@blp.arguments(QcRunRequestSchema())
@blp.response(201, TestRunSchema)
def log_qc_run(fields):
    """Log a QC or calibration run: it consumes reagent and is never billed."""
    return services.log_qc_run(fields)


@blp.route("/worklist", methods=["POST"])
@require_roles(*LAB_STAFF)
@idempotent(required=False)
@blp.arguments(WorklistOrderSchema())
@blp.response(201, WorklistOrderSchema)
def order_test(fields):
    """Put an ordered test on the worklist."""
    return services.order_test(fields)


@blp.route("/worklist")
@require_roles(*LAB_STAFF)
@blp.arguments(WorklistQuerySchema(), location="query")
@blp.response(200, WorklistOrderSchema(many=True))
@reads_patient_data("worklist")
def list_worklist(query):
    """List the worklist (open orders by default), oldest first."""
    return services.list_worklist(query)


@blp.route("/reagent-lots/<int:lot_id>/counts", methods=["POST"])
@require_roles("lab_head")
@idempotent
@blp.arguments(CountSchema())
@blp.response(201, MovementSchema)
def count_lot(body, lot_id):
    """Record a physical count; the difference becomes an adjustment row."""
    return services.count_lot(lot_id, body["counted_quantity"], body["reason"])


@blp.route("/reagent-lots/<int:lot_id>/wastage", methods=["POST"])
@require_roles(*LAB_STAFF)
@idempotent
@blp.arguments(WastageSchema())
@blp.response(201, MovementSchema)
def record_wastage(body, lot_id):
    """Record reagent that was spilt, broken or discarded."""
    return services.record_wastage(lot_id, body["quantity"], body["reason"])
