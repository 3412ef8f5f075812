"""The reconciliation report of a month: totals and every discrepancy, as JSON or CSV."""

import csv
import io
from collections.abc import Callable

from peewee import fn

from billing_service import store
from billing_service.claims.models import DISCREPANCY_KINDS, ClaimLine
from billing_service.claims.services.reconciliation import (
    STEPS,
    Month,
    closed_in,
    period_charges,
    period_claim_lines,
)
from billing_service.models import EncounterSnapshot, Invoice, InvoiceLine, db
from common.models import utcnow

Progress = Callable[[str, int], None]
CSV_COLUMNS = ("kind", "encounter_id", "invoice_id", "invoice_line_id", "charge_key", "claim_line_id", "table",
               "line_no", "code", "expected_amount", "actual_amount", "amount", "detail")


def _ints(row) -> list[int]:
    return [int(value or 0) for value in row]  # PostgreSQL sums bigints as numeric


def _charge_totals(month: Month) -> dict:
    visits, insured = (EncounterSnapshot.select(fn.COUNT(EncounterSnapshot.id),
                                                fn.COUNT(EncounterSnapshot.coverage_json))
                       .where(closed_in(month)).tuples().get())
    lines, hospital, insurer, patient = _ints(period_charges(
        month, fn.COUNT(InvoiceLine.id), fn.SUM(InvoiceLine.hospital_amount), fn.SUM(InvoiceLine.insurer_amount),
        fn.SUM(InvoiceLine.copay_amount + InvoiceLine.patient_outside_amount)).tuples().get())
    return {"visit_count": visits, "insured_visit_count": insured, "charged_line_count": lines,
            "charged_amount": hospital, "charged_insurer_amount": insurer, "charged_patient_amount": patient}


def _claim_totals(month: Month) -> dict:
    claims, lines, hospital, insurer, answered, approved, paid = _ints(period_claim_lines(
        month, fn.COUNT(fn.DISTINCT(ClaimLine.claim)), fn.COUNT(ClaimLine.id), fn.SUM(ClaimLine.hospital_amount),
        fn.SUM(ClaimLine.insurer_amount), fn.COUNT(ClaimLine.approved_amount), fn.SUM(ClaimLine.approved_amount),
        fn.SUM(ClaimLine.paid_amount)).tuples().get())
    return {"claimed_visit_count": claims, "claimed_line_count": lines, "claimed_amount": hospital,
            "claimed_insurer_amount": insurer, "assessed_line_count": answered,
            "unassessed_line_count": lines - answered, "approved_amount": approved, "insurer_paid_amount": paid}


def _patient_totals(month: Month) -> dict:
    share, paid = _ints(Invoice.select(fn.SUM(Invoice.copay_amount + Invoice.patient_outside_amount),
                                       fn.SUM(Invoice.paid_amount - Invoice.refunded_amount))
                        .join(EncounterSnapshot, on=(EncounterSnapshot.encounter_id == Invoice.encounter_id))
                        .where(closed_in(month)).tuples().get())
    return {"patient_share_amount": share, "patient_paid_amount": paid}


def _by_kind(discrepancies: list[dict]) -> dict:
    counts = {kind: {"count": 0, "amount": 0} for kind in DISCREPANCY_KINDS}
    for row in discrepancies:
        counts[row["kind"]]["count"] += 1
        counts[row["kind"]]["amount"] += row["amount"]
    return counts


def reconcile(period: str, progress: Progress | None = None, kind: str | None = None) -> dict:
    """Compute the month's reconciliation: totals and every discrepancy (or those of one kind)."""
    month = Month.of(period)
    report = progress or (lambda step, percent: None)
    discrepancies: list[dict] = []
    for number, (step, check) in enumerate(STEPS):
        report(step, number * 100 // (len(STEPS) + 1))
        with db.atomic():
            store.roomy_session()
            discrepancies.extend(check(month))
    report("totals", len(STEPS) * 100 // (len(STEPS) + 1))
    by_kind = _by_kind(discrepancies)
    with db.atomic():
        store.roomy_session()
        figures = {**_charge_totals(month), **_claim_totals(month), **_patient_totals(month)}
    totals = {**figures,
              "patient_unpaid_amount": by_kind["patient_share_unpaid"]["amount"],
              "overpaid_amount": by_kind["overpaid"]["amount"],
              "unmatched_transfer_amount": by_kind["payment_without_bill"]["amount"],
              "discrepancy_count": len(discrepancies), "by_kind": by_kind}
    if kind:
        discrepancies = [row for row in discrepancies if row["kind"] == kind]
    return {"period": period, "currency": "VND", "generated_at": utcnow().isoformat(), "totals": totals,
            "discrepancies": discrepancies}


def as_csv(report: dict) -> str:
    """Render a report as CSV: the totals first (kind "total", name in detail), then one row per discrepancy."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for name, value in report["totals"].items():
        if name == "by_kind":
            for kind, figures in value.items():
                writer.writerow({"kind": "total", "detail": f"{kind}_count", "amount": figures["count"]})
                writer.writerow({"kind": "total", "detail": f"{kind}_amount", "amount": figures["amount"]})
        else:
            writer.writerow({"kind": "total", "detail": name, "amount": value})
    writer.writerows(report["discrepancies"])
    return out.getvalue()
