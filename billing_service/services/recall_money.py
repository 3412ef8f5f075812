"""A recall puts the money right, line by line (a charge.reversed that carries `recall_id`).

The reversal itself is applied as any other (the line reduced, the bill split again at the visit's level); then:
- an unpaid bill: nothing more, the patient owes less;
- a paid bill (money received): a credit note (CN + id) with what came off the line and the refund due to the
  patient (what they paid beyond their new share); finance gives it back with the existing refunds;
- the line on a claim whose batch was not sent yet (never downloaded): the claim line is withdrawn, i.e. set to the
  line's money now (taken out of the file when nothing is left) and the batch totals follow;
- the line on a batch already sent: the claim line stays as sent (that is what the insurer holds) and the
  correction of the insurer's share is recorded; reconciliation lists it as claimed but not charged.
All inside the reversal's transaction, with the bill locked.
"""

from billing_service.claims.models import Claim, ClaimBatch, ClaimLine
from billing_service.models import Invoice, InvoiceLine, RecallAdjustment
from billing_service.services.invoices import record_ledger
from common.models import utcnow

MONEY_COLUMNS = ("quantity", "hospital_amount", "insured_amount", "insurer_amount", "copay_amount",
                 "patient_outside_amount", "other_funding_amount", "state_budget_funding_amount",
                 "foreign_aid_funding_amount", "domestic_aid_funding_amount", "other_source_funding_amount")
BATCH_TOTALS = ("hospital_amount", "insured_amount", "insurer_amount", "copay_amount", "patient_outside_amount",
                "other_funding_amount")
CREDIT_NOTE_PREFIX = "CN"
SYSTEM_ACTOR = "system:recall"


def settle_recalled_line(event: dict, before_line: InvoiceLine, before: Invoice, after: Invoice) -> RecallAdjustment:
    """Record what a recall reversal did to a line's money and fix its claim line (see the module)."""
    line = InvoiceLine.get_by_id(before_line.id)
    paid = before.net_paid_amount > 0
    refund_due = max(after.overpaid_amount - before.overpaid_amount, 0)
    claim_action, claim_line_id, correction = _fix_claim_line(line, event["reason"])
    adjustment = RecallAdjustment.create(
        invoice=before.id, line=line.id, reversal_key=event["key"], recall_id=event["recall_id"],
        outcome="credit_note" if paid else "reversed",
        hospital_amount=before_line.hospital_amount - line.hospital_amount,
        insurer_amount=before_line.insurer_amount - line.insurer_amount,
        patient_amount=(before_line.copay_amount + before_line.patient_outside_amount
                        - line.copay_amount - line.patient_outside_amount),
        refund_due_amount=refund_due, claim_action=claim_action, claim_line_id=claim_line_id,
        insurer_correction_amount=correction, reason=event["reason"][:500], created_at=utcnow())
    if paid:
        number = f"{CREDIT_NOTE_PREFIX}{adjustment.id:06d}"
        RecallAdjustment.update(credit_note_number=number).where(RecallAdjustment.id == adjustment.id).execute()
        adjustment.credit_note_number = number
        record_ledger(before.id, "credit_note", f"credit-note:{number}", SYSTEM_ACTOR,
                      note=f"recall {event['recall_id']}: refund due {refund_due} đ")
    return adjustment


def _fix_claim_line(line: InvoiceLine, reason: str) -> tuple[str, int | None, int]:
    """Withdraw the line's claim line while its batch is not sent, else say how much the insurer's share falls."""
    claim_line = (ClaimLine.select(ClaimLine, Claim, ClaimBatch).join(Claim).join(ClaimBatch)
                  .where(ClaimLine.invoice_line == line.id).first())
    if claim_line is None:
        return "none", None, 0
    batch = claim_line.claim.batch
    if batch.exported_at is not None:
        return "corrected", claim_line.id, claim_line.insurer_amount - line.insurer_amount
    changes = {column: getattr(line, column) for column in MONEY_COLUMNS}
    changes["benefit_level"] = line.benefit_level
    if line.quantity == 0:
        changes.update(withdrawn_at=utcnow(), withdrawn_reason=reason[:500])
    ClaimLine.update(**changes).where(ClaimLine.id == claim_line.id).execute()
    ClaimBatch.update(
        line_count=ClaimBatch.line_count - (1 if line.quantity == 0 else 0),
        **{column: getattr(ClaimBatch, column) - (getattr(claim_line, column) - getattr(line, column))
           for column in BATCH_TOTALS}).where(ClaimBatch.id == batch.id).execute()
    return "withdrawn", claim_line.id, 0
