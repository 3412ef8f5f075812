"""Claims of visits as finance and the patient record see them: lines, the insurer's answer, a status."""

import json

from billing_service.claims.models import Claim, ClaimBatch, ClaimLine
from billing_service.claims.sources import source_of
from billing_service.models import InvoiceLine
from common.errors import NotFound
from common.paging import page


def _status(lines: list[dict]) -> str:
    """Return submitted, partially_assessed, rejected, partially_rejected, approved or paid."""
    answered = [line for line in lines if line["approved_amount"] is not None]
    if not answered:
        return "submitted"
    if len(answered) < len(lines):
        return "partially_assessed"
    if all(line["approved_amount"] == 0 for line in lines) and any(line["insurer_amount"] for line in lines):
        return "rejected"
    if any(line["approved_amount"] < line["insurer_amount"] for line in lines):
        return "partially_rejected"
    return "paid" if all(line["paid_amount"] >= line["approved_amount"] for line in lines) else "approved"


def claim_view(claim: Claim) -> dict:
    """Return a claim with its lines, each with the insurer's latest answer and its source, and the claim's status and
    totals."""
    rows = (ClaimLine.select(ClaimLine, InvoiceLine.charge_key, InvoiceLine.details_json).join(InvoiceLine)
            .where(ClaimLine.claim == claim.id).order_by(ClaimLine.xml_table, ClaimLine.line_no))
    lines = [{"id": line.id, "invoice_line_id": line.invoice_line_id, "xml_table": line.xml_table,
              "line_no": line.line_no, "code": line.code, "quantity": line.quantity,
              "benefit_level": line.benefit_level, "hospital_amount": line.hospital_amount,
              "insured_amount": line.insured_amount, "insurer_amount": line.insurer_amount,
              "copay_amount": line.copay_amount, "patient_outside_amount": line.patient_outside_amount,
              "approved_amount": line.approved_amount, "rejection_reason": line.rejection_reason,
              "paid_amount": line.paid_amount,
              "source": source_of(line.invoice_line.charge_key, json.loads(line.invoice_line.details_json or "{}"))}
             for line in rows]
    return {
        "id": claim.id, "batch_id": claim.batch_id, "period": claim.batch.period, "encounter_id": claim.encounter_id,
        "invoice_id": claim.invoice_id, "stt": claim.stt, "status": _status(lines), "line_count": len(lines),
        "rejected_line_count": sum(1 for line in lines if (line["approved_amount"] is not None
                                                           and line["approved_amount"] < line["insurer_amount"])),
        "hospital_amount": sum(line["hospital_amount"] for line in lines),
        "insurer_amount": sum(line["insurer_amount"] for line in lines),
        "approved_amount": sum(line["approved_amount"] or 0 for line in lines),
        "paid_amount": sum(line["paid_amount"] for line in lines), "lines": lines,
    }


def get_claim(claim_id: int) -> dict:
    """Return one claim with its lines or raise 404."""
    claim = Claim.select(Claim, ClaimBatch).join(ClaimBatch).where(Claim.id == claim_id).first()
    if claim is None:
        raise NotFound(f"No claim {claim_id}", code="CLAIM_NOT_FOUND")
    return claim_view(claim)


def list_claims(query: dict) -> list[dict]:
    """Return claims by visit or batch, newest first, with their lines and status."""
    selection = Claim.select(Claim, ClaimBatch).join(ClaimBatch)
    if query.get("encounter_id"):
        selection = selection.where(Claim.encounter_id == query["encounter_id"])
    if query.get("batch_id"):
        selection = selection.where(Claim.batch == query["batch_id"])
    return [claim_view(claim) for claim in page(selection, Claim.id, query)]

