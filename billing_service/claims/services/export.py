"""Claim batch exports, streamed: the BHYT GIAMDINHHS XML (QĐ 130/4750) and a FHIR R5 Bundle."""

from collections.abc import Iterator
from dataclasses import dataclass

from flask import current_app
from peewee import fn

from billing_service.claims.bhyt_xml import iter_giamdinhhs
from billing_service.claims.fhir_export import iter_bundle_json
from billing_service.claims.mapping import iter_claim_visits
from billing_service.claims.models import Claim, ClaimBatch
from billing_service.claims.services.batches import get_claim_batch
from billing_service.claims.services.checks import guard_export
from billing_service.models import Invoice
from common import clock
from common.models import utcnow

DEFAULT_FACILITY_NAME = "Bệnh viện Đa khoa tỉnh"


@dataclass(frozen=True)
class Export:
    """A file about to be streamed: its chunks, media type and download name."""

    chunks: Iterator[bytes]
    mimetype: str
    filename: str
    patients: int  # how many patients the file names (for the read audit)


def export_claim_batch(batch_id: int, export_format: str) -> Export:
    """Prepare the batch's file in `export_format` once its pre-submission check allows it (409 otherwise); the
    file is read only as the chunks are iterated."""
    batch = get_claim_batch(batch_id)  # 404 before the first byte, never in the middle of a stream
    guard_export(batch)
    mark_sent(batch)
    name = f"{batch.facility_code}_{batch.period.replace('-', '')}_{batch.sequence:02d}"
    patients = batch_patients(batch.id)
    if export_format == "fhir":
        provider = current_app.config.get("BHYT_FACILITY_NAME") or DEFAULT_FACILITY_NAME
        return Export(iter_bundle_json(iter_claim_visits(batch), provider_name=provider),
                      "application/fhir+json", f"claims_{name}.fhir.json", patients)
    created_on = clock.local_day(batch.created_at)
    return Export(iter_giamdinhhs(batch.facility_code, created_on, batch.visit_count, iter_claim_visits(batch)),
                  "application/xml", f"GIAMDINHHS_{name}.xml", patients)


def mark_sent(batch) -> None:
    """Remember the batch's first download: from then on it is sent, and a recall corrects its lines instead of
    withdrawing them (billing_service/services/recall_money.py)."""
    if batch.exported_at is None:
        (ClaimBatch.update(exported_at=utcnow())
         .where((ClaimBatch.id == batch.id) & ClaimBatch.exported_at.is_null()).execute())


def batch_patients(batch_id: int) -> int:
    """How many patients a claim batch names."""
    return (Claim.select(fn.COUNT(fn.DISTINCT(Invoice.patient_id))).join(Invoice)
            .where(Claim.batch == batch_id).scalar() or 0)
