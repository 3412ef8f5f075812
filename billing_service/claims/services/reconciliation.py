"""Reconciliation of a settlement month: charges ↔ claim lines ↔ the insurer's remittance ↔ the patients' money.

Every check is one SQL query (joins, anti-joins, window functions) that returns only the rows that disagree, so a
month of a million charge lines is a handful of scans, never a Python loop over the month. The month's scope:
visits closed (discharged) in it, the claim batches of that month, and bank transfers received in it.

Kinds (amount = |expected − actual| in đồng):
- charged_not_claimed: a charge on a closed, insured visit of the month that is in no claim (hospital amounts).
- claimed_not_charged: a claimed line whose charge has since been reversed to nothing.
- amount_mismatch: a claimed line whose charge changed after claiming (hospital amount, else BHYT share), or an
  insurer approval above what was claimed.
- rejected_by_insurer: the insurer approved less than the claimed BHYT share (T_BHTT), with its reason.
- paid_less_than_approved: the insurer paid less than it approved.
- duplicate_charge: a second charge on the same bill with the same item code and source in the same minute.
- patient_share_unpaid / overpaid: the patient paid less / more than their share of the bill.
- payment_without_bill: a bank transfer no bill reference matched.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import peewee
from peewee import JOIN, fn

from billing_service import store
from billing_service.claims.models import Claim, ClaimBatch, ClaimLine
from billing_service.claims.precheck import Said, said
from billing_service.claims.services.periods import period_bounds
from billing_service.claims.sources import source_of
from billing_service.models import BankTransfer, EncounterSnapshot, Invoice, InvoiceLine


@dataclass(frozen=True)
class Month:
    """A settlement month and its UTC bounds."""

    period: str
    start: datetime
    end: datetime

    @classmethod
    def of(cls, period: str) -> "Month":
        """Return the month `period` (YYYY-MM, local time)."""
        return cls(period, *period_bounds(period))


def discrepancy(kind: str, expected: int, actual: int, detail: Said, **where) -> dict:
    """Return one discrepancy row; `where` names the visit, bill, line or claim line it is about. Its `detail` is
    English; `detail_code` and `detail_params` say the same for a screen to say in its user's language."""
    row = {"kind": kind, "encounter_id": None, "invoice_id": None, "invoice_line_id": None, "charge_key": None,
           "claim_line_id": None, "table": None, "line_no": None, "code": None}
    row.update(where)
    row.update(expected_amount=int(expected), actual_amount=int(actual), amount=abs(int(expected) - int(actual)),
               detail=detail.text, detail_code=detail.code, detail_params=detail.params)
    return row


def closed_in(month: Month):
    return ((EncounterSnapshot.status == "closed") & (EncounterSnapshot.discharged_at >= month.start)
            & (EncounterSnapshot.discharged_at < month.end))


def period_charges(month: Month, *columns) -> peewee.ModelSelect:
    """Select from the charges (quantity left > 0) of the visits closed in the month."""
    return (InvoiceLine.select(*columns).join(Invoice)
            .join(EncounterSnapshot, on=(EncounterSnapshot.encounter_id == Invoice.encounter_id))
            .where(closed_in(month) & (InvoiceLine.quantity > 0)))


def period_claim_lines(month: Month, *columns) -> peewee.ModelSelect:
    """Select from the claim lines of the month's batches."""
    return ClaimLine.select(*columns).join(Claim).join(ClaimBatch).where(ClaimBatch.period == month.period)


def charged_not_claimed(month: Month) -> Iterator[dict]:
    """Charges of closed, insured visits of the month that are in no claim."""
    query = (period_charges(month, Invoice.encounter_id, InvoiceLine.invoice, InvoiceLine.id, InvoiceLine.charge_key,
                            InvoiceLine.code, InvoiceLine.hospital_amount, InvoiceLine.insurer_amount)
             .join_from(InvoiceLine, ClaimLine, JOIN.LEFT_OUTER, on=(ClaimLine.invoice_line == InvoiceLine.id))
             .where(EncounterSnapshot.coverage_json.is_null(False) & ClaimLine.id.is_null())
             .order_by(Invoice.encounter_id, InvoiceLine.id).tuples())
    for encounter_id, invoice_id, line_id, charge_key, code, hospital, insurer in query.iterator():
        yield discrepancy("charged_not_claimed", hospital, 0,
                          said("charged_not_claimed", f"Charged {hospital} đ (BHYT share {insurer} đ) on a closed "
                               "insured visit, in no claim", hospital_amount=hospital, insurer_amount=insurer),
                          encounter_id=encounter_id, invoice_id=invoice_id, invoice_line_id=line_id,
                          charge_key=charge_key, code=code)


def claims_against_charges(month: Month) -> Iterator[dict]:
    """Claimed lines whose charge was reversed or changed after claiming."""
    query = (period_claim_lines(month, Claim.encounter_id, Claim.invoice, ClaimLine.invoice_line,
                                InvoiceLine.charge_key, ClaimLine.id, ClaimLine.xml_table, ClaimLine.line_no,
                                ClaimLine.code, ClaimLine.hospital_amount, ClaimLine.insurer_amount,
                                InvoiceLine.quantity, InvoiceLine.hospital_amount, InvoiceLine.insurer_amount)
             .join_from(ClaimLine, InvoiceLine)
             .where(ClaimLine.withdrawn_at.is_null()  # withdrawn by a recall before it was sent: nothing claimed
                    & ((InvoiceLine.quantity == 0) | (InvoiceLine.hospital_amount != ClaimLine.hospital_amount)
                       | (InvoiceLine.insurer_amount != ClaimLine.insurer_amount)))
             .order_by(Claim.encounter_id, ClaimLine.xml_table, ClaimLine.line_no).tuples())
    for (encounter_id, invoice_id, line_id, charge_key, claim_line_id, table, line_no, code, claimed, claimed_bhyt,
         quantity, charged, charged_bhyt) in query.iterator():
        where = {"encounter_id": encounter_id, "invoice_id": invoice_id, "invoice_line_id": line_id,
                 "charge_key": charge_key, "claim_line_id": claim_line_id, "table": table, "line_no": line_no,
                 "code": code}
        if quantity == 0:
            yield discrepancy("claimed_not_charged", 0, claimed,
                              said("charge_reversed_after_claim", f"Claimed {claimed} đ but the charge was reversed "
                                   "after the claim", claimed_amount=claimed), **where)
        elif charged != claimed:
            yield discrepancy("amount_mismatch", charged, claimed,
                              said("charge_changed_after_claim", f"Charged {charged} đ now, claimed {claimed} đ",
                                   charged_amount=charged, claimed_amount=claimed), **where)
        else:
            yield discrepancy("amount_mismatch", charged_bhyt, claimed_bhyt,
                              said("insurer_share_changed", f"BHYT share is {charged_bhyt} đ now, claimed "
                                   f"{claimed_bhyt} đ", charged_insurer_amount=charged_bhyt,
                                   claimed_insurer_amount=claimed_bhyt), **where)


def insurer_assessment(month: Month) -> Iterator[dict]:
    """Claimed lines the insurer rejected (in part), approved above the claim, or paid below its approval."""
    disagree = ((ClaimLine.approved_amount != ClaimLine.insurer_amount)
                | (ClaimLine.paid_amount < ClaimLine.approved_amount))
    query = (period_claim_lines(month, Claim.encounter_id, Claim.invoice, ClaimLine.invoice_line, ClaimLine.id,
                                ClaimLine.xml_table, ClaimLine.line_no, ClaimLine.code, ClaimLine.insurer_amount,
                                ClaimLine.approved_amount, ClaimLine.rejection_reason, ClaimLine.paid_amount,
                                InvoiceLine.charge_key, InvoiceLine.details_json)
             .join_from(ClaimLine, InvoiceLine)
             .where(ClaimLine.approved_amount.is_null(False) & disagree)
             .order_by(Claim.encounter_id, ClaimLine.xml_table, ClaimLine.line_no).tuples())
    for (encounter_id, invoice_id, line_id, claim_line_id, table, line_no, code, claimed, approved, reason,
         paid, charge_key, details_json) in query.iterator():
        where = {"encounter_id": encounter_id, "invoice_id": invoice_id, "invoice_line_id": line_id,
                 "claim_line_id": claim_line_id, "table": table, "line_no": line_no, "code": code}
        if approved < claimed:
            insurer_said = (said("insurer_reason", reason, reason=reason) if reason  # the insurer's own words
                            else said("no_reason_given", "No reason given"))
            yield discrepancy("rejected_by_insurer", claimed, approved, insurer_said, **where,
                              charge_key=charge_key, source=source_of(charge_key, json.loads(details_json or "{}")))
        elif approved > claimed:
            yield discrepancy("amount_mismatch", claimed, approved,
                              said("approved_above_claim", f"The insurer approved {approved} đ, more than the "
                                   f"{claimed} đ claimed", approved_amount=approved, claimed_amount=claimed), **where)
        if paid < approved:
            yield discrepancy("paid_less_than_approved", approved, paid,
                              said("paid_less_than_approved", f"Approved {approved} đ, paid {paid} đ",
                                   approved_amount=approved, paid_amount=paid), **where)


def duplicate_charges(month: Month) -> Iterator[dict]:
    """Charges repeating an earlier one of the same bill: same item code and source, same minute."""
    same = [InvoiceLine.invoice, InvoiceLine.code, InvoiceLine.source, store.minute_of(InvoiceLine.occurred_at)]
    copies = period_charges(
        month, Invoice.encounter_id.alias("encounter_id"), InvoiceLine.invoice.alias("invoice_id"),
        InvoiceLine.id.alias("line_id"), InvoiceLine.charge_key.alias("charge_key"), InvoiceLine.code.alias("code"),
        InvoiceLine.hospital_amount.alias("amount"),
        fn.ROW_NUMBER().over(partition_by=same, order_by=[InvoiceLine.id]).alias("copy_no"),
        fn.FIRST_VALUE(InvoiceLine.charge_key).over(partition_by=same, order_by=[InvoiceLine.id]).alias("first_key"),
    ).alias("copies")
    query = (InvoiceLine.select(copies.c.encounter_id, copies.c.invoice_id, copies.c.line_id, copies.c.charge_key,
                                copies.c.code, copies.c.amount, copies.c.first_key)
             .from_(copies).where(copies.c.copy_no > 1).order_by(copies.c.encounter_id, copies.c.line_id).tuples())
    for encounter_id, invoice_id, line_id, charge_key, code, amount, first_key in query.iterator():
        yield discrepancy("duplicate_charge", 0, amount,
                          said("same_item_and_minute", f"Same item and minute as charge {first_key}",
                               first_charge=first_key),
                          encounter_id=encounter_id, invoice_id=invoice_id, invoice_line_id=line_id,
                          charge_key=charge_key, code=code)


def patient_balances(month: Month) -> Iterator[dict]:
    """Bills of the month's visits where the patient paid less or more than their share."""
    share = Invoice.copay_amount + Invoice.patient_outside_amount
    paid = Invoice.paid_amount - Invoice.refunded_amount
    query = (Invoice.select(Invoice.encounter_id, Invoice.id, Invoice.reference, share, paid)
             .join(EncounterSnapshot, on=(EncounterSnapshot.encounter_id == Invoice.encounter_id))
             .where(closed_in(month) & (share != paid)).order_by(Invoice.encounter_id).tuples())
    for encounter_id, invoice_id, reference, share_amount, paid_amount in query.iterator():
        kind = "patient_share_unpaid" if paid_amount < share_amount else "overpaid"
        yield discrepancy(kind, share_amount, paid_amount,
                          said("patient_share_and_paid", f"Bill {reference}: patient share {share_amount} đ, paid "
                               f"{paid_amount} đ", reference=reference, share_amount=share_amount,
                               paid_amount=paid_amount),
                          encounter_id=encounter_id, invoice_id=invoice_id)


def payments_without_bill(month: Month) -> Iterator[dict]:
    """Bank transfers received in the month that no bill reference matched."""
    query = (BankTransfer.select(BankTransfer.transaction_id, BankTransfer.amount, BankTransfer.memo)
             .where((BankTransfer.state == "unmatched") & (BankTransfer.occurred_at >= month.start)
                    & (BankTransfer.occurred_at < month.end)).order_by(BankTransfer.id).tuples())
    for transaction_id, amount, memo in query.iterator():
        yield discrepancy("payment_without_bill", 0, amount,
                          said("transfer_matches_no_bill", f"Transfer {transaction_id} ({memo!r}) matches no bill",
                               transaction_id=transaction_id, memo=memo))


STEPS = (("charges not claimed", charged_not_claimed), ("claims against charges", claims_against_charges),
         ("insurer assessment", insurer_assessment), ("duplicate charges", duplicate_charges),
         ("patient balances", patient_balances), ("payments without a bill", payments_without_bill))
