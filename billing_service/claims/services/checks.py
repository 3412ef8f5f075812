"""Pre-submission check of a claim batch and its audited override; the export asks `guard_export` first.

The rules live in billing_service.claims.precheck. The check reads the batch a page of visits at a time, like the
exporter, so a month of a large hospital never sits in memory. An override records who, why and exactly which
critical findings it covers (their fingerprint): if the batch's findings change afterwards, it needs a new one.
"""

import csv
import hashlib
import io
import json
import logging
from collections import Counter

from billing_service.claims.mapping import department_code, visit_doctor_code
from billing_service.claims.models import Claim, ClaimBatch, ClaimBatchOverride, ClaimLine, InsurancePrice
from billing_service.claims.precheck import (
    FUNDING_PARTS,
    PRICE_LIST_MISSING,
    RULES,
    CheckedVisit,
    PriceList,
    check_visit,
    finding,
    said,
)
from billing_service.claims.services.batches import get_claim_batch
from billing_service.claims.sources import source_of
from billing_service.models import EncounterSnapshot, InvoiceLine, db
from common.errors import ApiError, Conflict
from common.models import utcnow

log = logging.getLogger(__name__)
PAGE_SIZE = 500
LINE_COLUMNS = (
    ClaimLine.id, ClaimLine.claim, ClaimLine.invoice_line, ClaimLine.xml_table, ClaimLine.line_no, ClaimLine.code,
    ClaimLine.quantity, ClaimLine.unit_price_amount, ClaimLine.insurance_unit_price_amount, ClaimLine.insurance_scope,
    ClaimLine.insurance_rate, ClaimLine.hospital_amount, ClaimLine.insured_amount, ClaimLine.insurer_amount,
    ClaimLine.copay_amount, ClaimLine.patient_outside_amount, ClaimLine.other_funding_amount,
    *[getattr(ClaimLine, name) for name in FUNDING_PARTS], InvoiceLine.charge_key, InvoiceLine.source,
    InvoiceLine.unit, InvoiceLine.occurred_at, InvoiceLine.details_json, InvoiceLine.ordered_by_code,
    InvoiceLine.performed_by_code, InvoiceLine.quantity.alias("current_quantity"),
    InvoiceLine.hospital_amount.alias("current_hospital_amount"),
    InvoiceLine.insurer_amount.alias("current_insurer_amount"),
)


def _price_list() -> PriceList:
    rows = InsurancePrice.select(InsurancePrice.code, InsurancePrice.valid_from, InsurancePrice.valid_to,
                                 InsurancePrice.price_amount).tuples()
    return PriceList(list(rows))


def _checked_visit(claim: Claim, snapshot: EncounterSnapshot) -> CheckedVisit:
    return CheckedVisit(ma_lk=claim.encounter_id, card=snapshot.coverage, opened_at=snapshot.opened_at,
                        discharged_at=snapshot.discharged_at, diagnosis_main=snapshot.diagnosis_main or "",
                        doctor_code=visit_doctor_code(snapshot), department_code=department_code(snapshot.department))


def _line_source(line: dict) -> dict | None:
    return source_of(line["charge_key"], line["details"])


def _lines_of(claim_ids: list[int]) -> dict[int, list[dict]]:
    rows = (ClaimLine.select(*LINE_COLUMNS).join(InvoiceLine)
            .where(ClaimLine.claim.in_(claim_ids) & ClaimLine.withdrawn_at.is_null())
            .order_by(ClaimLine.claim, ClaimLine.xml_table, ClaimLine.line_no).dicts())
    grouped: dict[int, list[dict]] = {claim_id: [] for claim_id in claim_ids}
    for row in rows:
        row["details"] = json.loads(row.pop("details_json") or "{}")
        grouped[row["claim"]].append(row)
    return grouped


def batch_findings(batch: ClaimBatch) -> tuple[list[dict], int]:
    """Run the rule set over every line of the batch; return (findings, lines checked)."""
    prices, findings, checked, last_stt = _price_list(), [], 0, 0
    if not prices.loaded:
        findings.append(finding(PRICE_LIST_MISSING, said("no_price_list", "No BHYT price list is loaded: prices and "
                                                     "scope were not checked (POST /api/v1/billing/insurance-prices)")))
    while True:
        page = list(Claim.select(Claim, EncounterSnapshot)
                    .join(EncounterSnapshot, on=(EncounterSnapshot.encounter_id == Claim.encounter_id), attr="snapshot")
                    .where((Claim.batch == batch.id) & (Claim.stt > last_stt)).order_by(Claim.stt).limit(PAGE_SIZE))
        if not page:
            return findings, checked
        lines = _lines_of([claim.id for claim in page])
        for claim in page:
            checked += len(lines[claim.id])
            findings.extend(check_visit(_checked_visit(claim, claim.snapshot), lines[claim.id], prices, _line_source))
        last_stt = page[-1].stt


def _fingerprint(findings: list[dict]) -> str:
    """Identify a set of critical findings: the same findings give the same fingerprint, in any order."""
    keys = sorted((f["rule"], f["ma_lk"] or "", f["table"] or "", f["line_no"] or 0) for f in findings)
    return hashlib.sha256(json.dumps(keys, ensure_ascii=False).encode()).hexdigest()


def _latest_override(batch: ClaimBatch) -> ClaimBatchOverride | None:
    return (ClaimBatchOverride.select().where(ClaimBatchOverride.batch == batch.id)
            .order_by(ClaimBatchOverride.id.desc()).first())


def _report(batch: ClaimBatch, findings: list[dict], checked: int) -> dict:
    critical = [f for f in findings if f["severity"] == "critical"]
    override = _latest_override(batch)
    covered = bool(critical) and override is not None and override.fingerprint == _fingerprint(critical)
    counts = Counter(f["rule"] for f in findings)
    return {
        "batch_id": batch.id, "period": batch.period, "checked_at": utcnow(), "visit_count": batch.visit_count,
        "line_count": checked, "critical_count": len(critical),
        "warning_count": len(findings) - len(critical),
        "overridable": all(f["overridable"] for f in critical),
        "exportable": not critical or (covered and all(f["overridable"] for f in critical)),
        "override": override if covered else None,
        "rules": [{"rule": rule.name, "severity": rule.severity, "overridable": rule.overridable,
                   "count": counts[rule.name]} for rule in RULES],
        "findings": findings,
    }


def check_claim_batch(batch_id: int) -> dict:
    """Run the pre-submission rules over every line of a batch and report each finding with its source."""
    batch = get_claim_batch(batch_id)
    return _report(batch, *batch_findings(batch))


def override_claim_batch(batch_id: int, reason: str, actor: str) -> ClaimBatchOverride:
    """Let a batch with critical findings be exported anyway: record who, why and which findings (audited)."""
    with db.atomic():
        batch = get_claim_batch(batch_id)
        findings, _ = batch_findings(batch)
        critical = [f for f in findings if f["severity"] == "critical"]
        if not critical:
            raise Conflict(f"Batch {batch.id} has no critical finding to override", code="NOTHING_TO_OVERRIDE")
        fixed_first = sorted({f["rule"] for f in critical if not f["overridable"]})
        if fixed_first:
            raise Conflict(f"These findings must be fixed, not overridden: {', '.join(fixed_first)}",
                           code="FINDINGS_CANNOT_BE_OVERRIDDEN", rules=fixed_first)
        override = ClaimBatchOverride.create(
            batch=batch.id, reason=reason, critical_count=len(critical), fingerprint=_fingerprint(critical),
            findings_json=json.dumps(critical, ensure_ascii=False, default=str), created_by=actor)
    log.warning("claim batch %s exported over %s critical findings by %s: %s", batch.id, len(critical), actor,
                reason)
    return override


def guard_export(batch: ClaimBatch) -> None:
    """Refuse to export a batch whose critical findings are not covered by an override."""
    report = _report(batch, *batch_findings(batch))
    if not report["exportable"]:
        raise ApiError(f"Batch {batch.id} has {report['critical_count']} critical finding(s): fix them or override "
                       "the batch", code="CLAIM_BATCH_HAS_CRITICAL_FINDINGS", status=409,
                       critical_count=report["critical_count"], overridable=report["overridable"],
                       check_url=f"/api/v1/billing/claim-batches/{batch.id}/check")


FINDING_COLUMNS = ("severity", "rule", "ma_lk", "table", "line_no", "code", "message", "source_url", "lots")


def findings_as_csv(report: dict) -> str:
    """Return the findings as CSV, one row each, with the source's address and the lots it drew on."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FINDING_COLUMNS, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for row in report["findings"]:
        source = row["source"] or {}
        lots = source.get("reagent_lots") or source.get("drug_lots") or []
        writer.writerow({**row, "source_url": source.get("url", ""),
                         "lots": "; ".join(str(lot.get("lot_number")) for lot in lots)})
    return out.getvalue()
