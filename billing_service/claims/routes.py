"""Claims endpoints for finance: claim batches and their exports, remittances, reconciliation."""

import json

from flask import Response, request, stream_with_context, url_for
from flask_smorest import Blueprint

from billing_service.claims import services
from billing_service.claims.schemas import (
    ClaimBatchQuerySchema,
    ClaimBatchSchema,
    ClaimQuerySchema,
    ClaimSchema,
    ExportQuerySchema,
    InsurancePriceListSchema,
    InsurancePriceQuerySchema,
    InsurancePriceSchema,
    OverrideRequestSchema,
    OverrideSchema,
    PeriodSchema,
    PreCheckQuerySchema,
    PreCheckReportSchema,
    ReconciliationQuerySchema,
    ReconciliationRunSchema,
    ReconciliationSchema,
    RemittanceImportSchema,
    RunQuerySchema,
    StoredCountSchema,
)
from common.auth import MONEY_STAFF, current_principal, require_roles
from common.idempotency import idempotent
from common.openapi import also_answers
from common.paging import PagedQuerySchema
from common.read_audit import note_read, reads_patient_data

blp = Blueprint("billing_claims", __name__, url_prefix="/api/v1/billing",
                description="BHYT claims, remittances and reconciliation")
FINANCE = ("finance",)
REMITTANCE_BODY = {"required": True, "content": {
    "text/csv": {"schema": {"type": "string"}, "example": (
        "ma_lk,table,line_no,approved_amount,rejection_reason,paid_amount,payment_reference,paid_on\r\n"
        "LK-1,XML3,1,17200,,17200,BHXH-HN-2026-12-0042,2026-12-15\r\n")},
    "application/x-ndjson": {"schema": {"type": "string"}}}}


def _actor() -> str:
    return current_principal().subject


def _wants_csv(requested: str | None) -> bool:
    if requested:
        return requested == "csv"
    return request.accept_mimetypes.best_match(["application/json", "text/csv"]) == "text/csv"


def _csv_response(report: dict, name: str) -> Response:
    return Response(services.as_csv(report), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


@blp.route("/claim-batches", methods=["POST"])
@require_roles(*FINANCE)
@idempotent
@blp.arguments(PeriodSchema())
@blp.response(201, ClaimBatchSchema)
def create_claim_batch(fields):
    """Claim every closed, insured visit discharged in the month (409 when all are claimed already)."""
    return services.build_claim_batch(fields["period"], _actor())


@blp.route("/claim-batches")
@require_roles(*FINANCE)
@blp.arguments(ClaimBatchQuerySchema(), location="query")
@blp.response(200, ClaimBatchSchema(many=True))
def list_claim_batches(query):
    """List claim batches, newest first, optionally of one month."""
    return services.list_claim_batches(query)


@blp.route("/claim-batches/<int:batch_id>")
@require_roles(*FINANCE)
@blp.response(200, ClaimBatchSchema)
def get_claim_batch(batch_id):
    """Show a batch: its month, visits, lines and money totals."""
    return services.get_claim_batch(batch_id)


@blp.route("/claim-batches/<int:batch_id>/export")
@require_roles(*FINANCE)
@blp.arguments(ExportQuerySchema(), location="query")
@blp.response(200, content_type="application/xml")
@blp.doc(**also_answers("application/fhir+json", "the XML, or with format=fhir a FHIR R5 Bundle"))
def export_claim_batch(query, batch_id):
    """Download the batch as the BHYT GIAMDINHHS XML (format=bhyt-4750) or a FHIR R5 Bundle (format=fhir)."""
    export = services.export_claim_batch(batch_id, query["format"])
    note_read(f"claim-batch:{batch_id}:{query['format']}", patients=export.patients)
    return Response(stream_with_context(export.chunks), mimetype=export.mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{export.filename}"'})


@blp.route("/claim-batches/<int:batch_id>/check")
@require_roles(*FINANCE)
@blp.arguments(PreCheckQuerySchema(), location="query")
@blp.response(200, PreCheckReportSchema)
@blp.alt_response(200, content_type="text/csv", success=True, description="format=csv: the findings as CSV")
@reads_patient_data("claim-batch-check")
def check_claim_batch(query, batch_id):
    """Run the pre-submission rules over every line; each finding names its rule, severity and source."""
    report = services.check_claim_batch(batch_id)
    if query.get("severity"):
        report["findings"] = [f for f in report["findings"] if f["severity"] == query["severity"]]
    if _wants_csv(query.get("format")):
        return Response(services.findings_as_csv(report), mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="precheck_batch{batch_id}.csv"'})
    return report


@blp.route("/claim-batches/<int:batch_id>/override", methods=["POST"])
@require_roles(*FINANCE)
@blp.arguments(OverrideRequestSchema())
@blp.response(201, OverrideSchema)
def override_claim_batch(fields, batch_id):
    """Allow the export of a batch despite its current critical findings; who, why and what are kept."""
    return services.override_claim_batch(batch_id, fields["reason"], _actor())


@blp.route("/insurance-prices", methods=["POST"])
@require_roles(*FINANCE)
@blp.arguments(InsurancePriceListSchema())
@blp.response(201, StoredCountSchema)
def store_insurance_prices(fields):
    """Load rows of the BHYT price list (a row per code and start date replaces the one stored)."""
    return {"stored": services.store_insurance_prices(fields["prices"])}


@blp.route("/insurance-prices")
@require_roles(*FINANCE)
@blp.arguments(InsurancePriceQuerySchema(), location="query")
@blp.response(200, InsurancePriceSchema(many=True))
def list_insurance_prices(query):
    """Show the BHYT price list the pre-submission check uses."""
    return services.list_insurance_prices(query)


@blp.route("/claims")
@require_roles(*MONEY_STAFF)
@blp.arguments(ClaimQuerySchema(), location="query")
@blp.response(200, ClaimSchema(many=True))
@reads_patient_data("claims")
def list_claims(query):
    """List claims by visit (MA_LK) or batch, with each line's approval, rejection and payment."""
    return services.list_claims(query)


@blp.route("/claims/<int:claim_id>")
@require_roles(*MONEY_STAFF)
@blp.response(200, ClaimSchema)
@reads_patient_data("claim")
def get_claim(claim_id):
    """Show one claim with its lines and the insurer's answers."""
    return services.get_claim(claim_id)


@blp.route("/remittances", methods=["POST"])
@require_roles(*FINANCE)
@idempotent
@blp.doc(requestBody=REMITTANCE_BODY)
@blp.response(201, RemittanceImportSchema)
@blp.alt_response(200, schema=RemittanceImportSchema, success=True, description="a file imported before")
def import_remittance():
    """Import the insurer's assessment (CSV with header, or JSON lines); 200 and no change for a file seen before."""
    remittance, created = services.import_remittance(request.get_data(), request.mimetype, _actor())
    return remittance, 201 if created else 200


@blp.route("/remittances")
@require_roles(*FINANCE)
@blp.arguments(PagedQuerySchema(), location="query")
@blp.response(200, RemittanceImportSchema(many=True))
def list_remittances(query):
    """List remittance imports, newest first, with their row reports."""
    return services.list_remittances(query)


@blp.route("/remittances/<int:remittance_id>")
@require_roles(*FINANCE)
@blp.response(200, RemittanceImportSchema)
def get_remittance(remittance_id):
    """Show one remittance import's report: accepted, duplicate and rejected rows."""
    return services.get_remittance(remittance_id)


@blp.route("/reconciliation")
@require_roles(*FINANCE)
@blp.arguments(ReconciliationQuerySchema(), location="query")
@blp.response(200, ReconciliationSchema)
@blp.doc(**also_answers("text/csv", "the report; as CSV with format=csv or Accept: text/csv"))
def get_reconciliation(query):
    """Reconcile a month now: totals and every discrepancy (JSON, or CSV with format=csv / Accept: text/csv)."""
    report = services.reconcile(query["period"], kind=query.get("kind"))
    if _wants_csv(query.get("format")):
        return _csv_response(report, f"reconciliation_{query['period']}")
    return report


@blp.route("/reconciliation-runs", methods=["POST"])
@require_roles(*FINANCE)
@blp.arguments(PeriodSchema())
@blp.response(202, ReconciliationRunSchema)
def start_reconciliation_run(fields):
    """Reconcile a month in the background; poll the run for progress and the result.

    Not behind Idempotency-Key on purpose: that would hold the run's row in an open transaction while the job is
    queued, and a worker could start before it commits. A repeated POST only starts another read-only run.
    """
    run = services.start_reconciliation_run(fields["period"], _actor())
    location = url_for("billing_claims.get_reconciliation_run", run_id=run.id)
    return run, 202, {"Location": location}


@blp.route("/reconciliation-runs/<int:run_id>")
@require_roles(*FINANCE)
@blp.arguments(RunQuerySchema(), location="query")
@blp.response(200, ReconciliationRunSchema)
@blp.doc(**also_answers("text/csv", "the run; its result as CSV once done with format=csv"))
def get_reconciliation_run(query, run_id):
    """Show a run's state and progress, and its result once done (format=csv for the result as CSV)."""
    run = services.get_reconciliation_run(run_id)
    if run.state == "done" and _wants_csv(query.get("format")):
        return _csv_response(json.loads(run.result_json), f"reconciliation_{run.period}_run{run.id}")
    return run
