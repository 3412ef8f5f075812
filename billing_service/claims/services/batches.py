"""Claim batches: every closed, insured visit discharged in a month becomes one claim, its charges the claim lines.

The batch is built in SQL (INSERT ... SELECT with ROW_NUMBER), so a month of a large hospital is one statement per
table, not a Python loop. A visit is claimed once (claim.encounter_id is unique): posting a month again builds a
supplementary batch with the visits closed since, or answers 409 when there are none.
"""

import peewee
from flask import current_app
from peewee import JOIN, Case, Value, fn

from billing_service.claims.models import Claim, ClaimBatch, ClaimLine
from billing_service.claims.services.periods import period_bounds
from billing_service.models import EncounterSnapshot, Invoice, InvoiceLine, db
from common.errors import ApiError, Conflict, get_or_404
from common.models import utcnow
from common.paging import page

DEFAULT_FACILITY_CODE = "01001"  # MA_CSKCB of the demo hospital; production sets BHYT_FACILITY_CODE
TOTAL_COLUMNS = ("hospital_amount", "insured_amount", "insurer_amount", "copay_amount", "patient_outside_amount",
                 "other_funding_amount")
FUNDING_PART_COLUMNS = ("state_budget_funding_amount", "foreign_aid_funding_amount", "domestic_aid_funding_amount",
                        "other_source_funding_amount")  # T_NGUONKHAC_NSNN, _VTNN, _VTTN, _CL


def facility_code() -> str:
    """Return the hospital's 5-character BHYT facility code (MA_CSKCB)."""
    return current_app.config.get("BHYT_FACILITY_CODE") or DEFAULT_FACILITY_CODE


def _claimable_visits(start, end) -> peewee.ModelSelect:
    """Select (encounter, invoice) of closed, insured visits discharged in [start, end) not claimed yet."""
    billed = InvoiceLine.select(InvoiceLine.id).where((InvoiceLine.invoice == Invoice.id) & (InvoiceLine.quantity > 0))
    return (EncounterSnapshot
            .select(EncounterSnapshot.encounter_id, Invoice.id, EncounterSnapshot.discharged_at)
            .join(Invoice, on=(Invoice.encounter_id == EncounterSnapshot.encounter_id))
            .join(Claim, JOIN.LEFT_OUTER, on=(Claim.encounter_id == EncounterSnapshot.encounter_id))
            .where((EncounterSnapshot.status == "closed") & EncounterSnapshot.coverage_json.is_null(False)
                   & (EncounterSnapshot.discharged_at >= start) & (EncounterSnapshot.discharged_at < end)
                   & Claim.id.is_null() & fn.EXISTS(billed)))


def _insert_claims(batch: ClaimBatch, start, end) -> int:
    """Insert one claim per claimable visit, numbered (STT) by discharge time; return how many."""
    visits = _claimable_visits(start, end)
    stt = fn.ROW_NUMBER().over(order_by=[EncounterSnapshot.discharged_at, EncounterSnapshot.encounter_id])
    rows = visits.select(Value(batch.id), EncounterSnapshot.encounter_id, Invoice.id, stt,
                         Value(Claim.created_at.db_value(utcnow())))
    Claim.insert_from(rows, [Claim.batch, Claim.encounter_id, Claim.invoice, Claim.stt, Claim.created_at]).execute()
    return Claim.select().where(Claim.batch == batch.id).count()


def _insert_claim_lines(batch: ClaimBatch) -> None:
    """Copy every charge left on the batch's bills into claim lines, numbered per table (XML2/XML3) per visit."""
    table = Case(None, [(InvoiceLine.item_kind == "drug", "XML2")], "XML3")
    line_no = fn.ROW_NUMBER().over(partition_by=[Claim.id, table], order_by=[InvoiceLine.occurred_at, InvoiceLine.id])
    paid_by_card = InvoiceLine.insurance_covered & ~InvoiceLine.self_pay
    rows = (InvoiceLine
            .select(Claim.id, InvoiceLine.id, Claim.encounter_id, table, line_no, InvoiceLine.code,
                    InvoiceLine.quantity, InvoiceLine.unit_price_amount, InvoiceLine.insurance_unit_price_amount,
                    Case(None, [(InvoiceLine.insurance_covered, 1)], 2),
                    Case(None, [(paid_by_card, InvoiceLine.insurance_rate)], 0),
                    InvoiceLine.benefit_level, *[getattr(InvoiceLine, c) for c in TOTAL_COLUMNS],
                    *[getattr(InvoiceLine, c) for c in FUNDING_PART_COLUMNS], Value(0))
            .join(Claim, on=(Claim.invoice == InvoiceLine.invoice))
            .where((Claim.batch == batch.id) & (InvoiceLine.quantity > 0)))
    fields = [ClaimLine.claim, ClaimLine.invoice_line, ClaimLine.ma_lk, ClaimLine.xml_table, ClaimLine.line_no,
              ClaimLine.code, ClaimLine.quantity, ClaimLine.unit_price_amount, ClaimLine.insurance_unit_price_amount,
              ClaimLine.insurance_scope, ClaimLine.insurance_rate, ClaimLine.benefit_level,
              *[getattr(ClaimLine, c) for c in TOTAL_COLUMNS], *[getattr(ClaimLine, c) for c in FUNDING_PART_COLUMNS],
              ClaimLine.paid_amount]
    ClaimLine.insert_from(rows, fields).execute()


def _store_totals(batch: ClaimBatch) -> ClaimBatch:
    """Store the batch's visit and line counts and money totals, summed from its claim lines."""
    sums = (ClaimLine.select(fn.COUNT(fn.DISTINCT(ClaimLine.claim)), fn.COUNT(ClaimLine.id),
                             *[fn.COALESCE(fn.SUM(getattr(ClaimLine, c)), 0) for c in TOTAL_COLUMNS])
            .join(Claim).where(Claim.batch == batch.id).tuples().get())
    totals = {column: int(value) for column, value in zip(TOTAL_COLUMNS, sums[2:], strict=True)}
    ClaimBatch.update(visit_count=sums[0], line_count=sums[1], **totals).where(ClaimBatch.id == batch.id).execute()
    return ClaimBatch.get_by_id(batch.id)


def _existing_batches(period: str) -> list[ClaimBatch]:
    return list(ClaimBatch.select().where(ClaimBatch.period == period).order_by(ClaimBatch.sequence))


def build_claim_batch(period: str, actor: str) -> ClaimBatch:
    """Claim every closed, insured visit of the month not claimed yet, as one new batch."""
    start, end = period_bounds(period)
    try:
        with db.atomic():
            earlier = _existing_batches(period)
            batch = ClaimBatch.create(period=period, sequence=len(earlier) + 1, facility_code=facility_code(),
                                      created_by=actor)
            if not _insert_claims(batch, start, end):
                raise _nothing_to_claim(period, earlier)
            _insert_claim_lines(batch)
            return _store_totals(batch)
    except peewee.IntegrityError:  # a concurrent build of the same month claimed these visits first
        raise Conflict(f"Claims for {period} are being built by someone else right now; look at the month's "
                       "batches", code="CLAIM_BATCH_EXISTS", batch_ids=[b.id for b in _existing_batches(period)]
                       ) from None


def _nothing_to_claim(period: str, earlier: list[ClaimBatch]) -> ApiError:
    if earlier:
        return Conflict(f"Every closed, insured visit of {period} is already in a claim batch",
                        code="CLAIM_BATCH_EXISTS", batch_ids=[b.id for b in earlier])
    return ApiError(f"No closed, insured visit with charges was discharged in {period}", code="NO_CLAIMABLE_VISITS",
                    status=422)


def get_claim_batch(batch_id: int) -> ClaimBatch:
    """Return a batch or raise 404."""
    return get_or_404(ClaimBatch, ClaimBatch.id == batch_id,
                      detail=f"No claim batch {batch_id}", code="CLAIM_BATCH_NOT_FOUND")


def list_claim_batches(query: dict) -> list[ClaimBatch]:
    """Return one page of batches, newest first, optionally of one month."""
    selection = ClaimBatch.select()
    if query.get("period"):
        selection = selection.where(ClaimBatch.period == query["period"])
    return page(selection, ClaimBatch.id, query)
