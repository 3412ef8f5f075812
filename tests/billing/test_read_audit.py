"""Reads of patient data through the gateway are audited: finance's XML and FHIR downloads with who, when, which
batch and how many patients; a bill with its patient; the services' marks never reach the client."""

from datetime import datetime, timedelta

import pytest

from tests.billing.factories import BILLING_CONFIG
from tests.billing.test_claims_support import FINANCE, PERIOD, an_october_visit
from tests.support import bearer

ADMIN = bearer("admin")


@pytest.fixture
def gateway(make_app, live_server):
    billing = make_app("billing_service", **BILLING_CONFIG)
    an_october_visit(billing.test_client())
    live_server(billing)
    return make_app("gateway").test_client()


def audit(gateway):
    return gateway.get("/api/v1/audit?limit=200", headers=ADMIN).get_json()


def test_finance_downloading_the_xml_and_fhir_files_is_audited_with_batch_and_patients(gateway):
    batch = gateway.post("/api/v1/billing/claim-batches", json={"period": PERIOD},
                         headers={**FINANCE, "Idempotency-Key": "october-claims"})
    assert batch.status_code == 201, batch.get_json()
    batch_id = batch.get_json()["id"]
    before = datetime.now().astimezone() - timedelta(seconds=5)

    download = gateway.get(f"/api/v1/billing/claim-batches/{batch_id}/export?format=bhyt-4750", headers=FINANCE)
    assert download.status_code == 200 and download.data
    assert not any(name.startswith("X-Audit") for name in download.headers.keys())
    assert gateway.get(f"/api/v1/billing/claim-batches/{batch_id}/export?format=fhir",
                       headers=FINANCE).status_code == 200

    lines = {line["action"]: line for line in audit(gateway)}
    xml = lines[f"GET /api/v1/billing/claim-batches/{batch_id}/export"]
    assert (xml["actor"], xml["role"], xml["status_code"]) == ("finance", "finance", 200)
    assert datetime.fromisoformat(xml["occurred_at"]) >= before
    fhir_lines = [line for line in audit(gateway) if line["details"] and line["details"]["subject"].endswith(":fhir")]
    assert [line["details"] for line in fhir_lines] == [{"subject": f"claim-batch:{batch_id}:fhir", "patients": 1}]
    xml_lines = [line for line in audit(gateway)
                 if line["details"] and line["details"]["subject"] == f"claim-batch:{batch_id}:bhyt-4750"]
    assert [line["details"]["patients"] for line in xml_lines] == [1]


def test_reading_a_bill_is_audited_with_its_patient(gateway):
    [invoice] = gateway.get("/api/v1/billing/invoices", headers=FINANCE).get_json()
    assert gateway.get(f"/api/v1/billing/invoices/{invoice['id']}", headers=bearer("cashier")).status_code == 200
    lines = audit(gateway)
    bill = next(line for line in lines if line["action"] == f"GET /api/v1/billing/invoices/{invoice['id']}")
    assert (bill["actor"], bill["role"], bill["patient_id"]) == ("cashier", "cashier", invoice["patient_id"])
    assert bill["details"] == {"subject": f"invoice:{invoice['id']}", "patients": 1}
    listing = next(line for line in lines if line["action"] == "GET /api/v1/billing/invoices")
    assert listing["details"] == {"subject": "invoices", "patients": 1}
    gateway_chain = gateway.get("/api/v1/gateway/integrity", headers=ADMIN).get_json()
    assert gateway_chain["clean"]
