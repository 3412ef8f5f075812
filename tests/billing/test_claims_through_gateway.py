"""Finance works the claims through the gateway: build, download (streamed), import the remittance, reconcile."""

import csv
import io

import pytest

from billing_service.claims.bhyt_xml import parse_giamdinhhs
from tests.billing.factories import BILLING_CONFIG
from tests.billing.test_claims_support import FINANCE, PERIOD, an_october_visit
from tests.billing.test_remittance import ASSESSMENT


@pytest.fixture
def gateway(make_app, live_server):
    """The gateway in front of a live billing service holding one closed October visit."""
    billing = make_app("billing_service", **BILLING_CONFIG)
    an_october_visit(billing.test_client())
    live_server(billing)
    return make_app("gateway").test_client()


def test_finance_goes_from_claims_to_reconciliation_through_the_gateway(gateway):
    batch = gateway.post("/api/v1/billing/claim-batches", json={"period": PERIOD},
                         headers={**FINANCE, "Idempotency-Key": "october-claims"})
    assert batch.status_code == 201, batch.get_json()
    batch_id = batch.get_json()["id"]

    download = gateway.get(f"/api/v1/billing/claim-batches/{batch_id}/export?format=bhyt-4750", headers=FINANCE)
    assert download.status_code == 200
    assert download.mimetype == "application/xml"
    assert download.headers["Content-Disposition"] == 'attachment; filename="GIAMDINHHS_01001_202610_01.xml"'
    [record] = parse_giamdinhhs(download.data)
    assert (record["ma_lk"], record["xml1"]["T_BHTT"]) == ("LK-2026-1001", "378000")

    fhir = gateway.get(f"/api/v1/billing/claim-batches/{batch_id}/export?format=fhir", headers=FINANCE)
    assert fhir.mimetype == "application/fhir+json" and fhir.get_json()["resourceType"] == "Bundle"

    remittance = gateway.post("/api/v1/billing/remittances", data=ASSESSMENT.encode(), content_type="text/csv",
                              headers=FINANCE)
    assert remittance.status_code == 201, remittance.get_json()
    assert remittance.get_json()["accepted_count"] == 3

    report = gateway.get(f"/api/v1/billing/reconciliation?period={PERIOD}&format=csv", headers=FINANCE)
    assert report.status_code == 200 and report.mimetype == "text/csv"
    kinds = [row["kind"] for row in csv.DictReader(io.StringIO(report.get_data(as_text=True)))
             if row["kind"] != "total"]
    assert kinds == ["rejected_by_insurer", "paid_less_than_approved", "patient_share_unpaid"]
