"""The cashier's demo hospital: billing live with known bank and card secrets on a real localstripe, lab and the
gateway live with the demo seeds, and a bill on Nguyễn Văn An's open visit (a glucose test logged at the lab)."""

from datetime import UTC, datetime

import pytest
import requests

from seeds import seed_service
from tests.billing.conftest import localstripe, localstripe_server  # noqa: F401 (fixtures)
from tests.billing.factories import BANK_ACCOUNT, BANK_SECRET, BILLING_CONFIG, STRIPE_SECRET
from tests.screens.conftest import SCREEN_SETTINGS, Hospital
from tests.support import bearer, service_headers, wait_until

CASHIER = bearer("cashier")
AN_VISIT = "1"  # Nguyễn Văn An, BHYT DN4010123456789 at 80 %: his open visit (seeds/demo_visits.py)
BILL_TOTAL = 21_500 + 350_000 + 60_000  # glucose, 10 × ceftriaxone 1 g, 5 × a multivitamin outside the BHYT list
__all__ = ("BANK_ACCOUNT", "BANK_SECRET", "CASHIER", "desk", "localstripe", "localstripe_server")


@pytest.fixture
def desk(make_app, live_server, localstripe) -> Hospital:  # noqa: F811 (the fixture imported above)
    """The demo hospital live, with a bill (a glucose test) on visit 1; `desk.bill` is that bill."""
    billing = make_app("billing_service", **BILLING_CONFIG, STRIPE_API_BASE=localstripe)
    billing_url = live_server(billing)
    registration = {"url": f"{billing_url}/api/v1/billing/webhooks/stripe", "secret": STRIPE_SECRET}
    requests.post(f"{localstripe}/_config/webhooks/billing", data=registration, timeout=5).raise_for_status()
    lab_app = make_app("lab_service")
    gateway_app = make_app("gateway", **SCREEN_SETTINGS)
    live_server(lab_app)
    hospital = Hospital(gateway_app, live_server(gateway_app), lab_app, None)
    for app in (lab_app, gateway_app):
        with app.app_context():
            seed_service(app.config["SERVICE_NAME"])
    run = {"encounter_id": AN_VISIT, "patient_id": "1", "test_code": "GLU", "analyzer_code": "AU480"}
    logged = hospital.client().post("/api/v1/lab/test-runs", json=run, headers=bearer("lab_tech"))
    assert logged.status_code == 201, logged.get_json()
    for event in (ceftriaxone(), multivitamin()):
        sent = hospital.client().post("/internal/charges", json=event, headers=service_headers("pharmacy_service"))
        assert sent.status_code == 201, sent.get_json()
    hospital.bill = wait_until(lambda: _bill_of(hospital, AN_VISIT), message="the glucose test's bill")
    hospital.localstripe = localstripe
    return hospital


def _bill_of(hospital: Hospital, visit: str) -> dict | None:
    bills = hospital.client().get(f"/api/v1/billing/invoices?encounter_id={visit}", headers=CASHIER).get_json()
    if not bills or bills[0]["hospital_amount"] != BILL_TOTAL:
        return None
    return hospital.client().get(f"/api/v1/billing/invoices/{bills[0]['id']}", headers=CASHIER).get_json()


def _dispensed(line_id: int, code: str, name: str, unit_price: int, quantity: int, covered: bool, atc: str) -> dict:
    return {"key": f"pharmacy:dispense-line:{line_id}", "source": "pharmacy", "source_id": str(line_id),
            "encounter_id": AN_VISIT, "patient_id": "1", "item_kind": "drug", "code": code, "name": name,
            "unit": "lọ" if covered else "viên", "quantity": quantity, "unit_price_amount": unit_price,
            "insurance_unit_price_amount": unit_price if covered else 0, "insurance_covered": covered,
            "insurance_rate": 100, "amount": quantity * unit_price, "cost_amount": quantity * unit_price * 7 // 10,
            "occurred_at": datetime.now(UTC).isoformat(), "details": {"atc": atc}}


def ceftriaxone() -> dict:
    """Ten vials of ceftriaxone 1 g, in the BHYT list."""
    return _dispensed(1, "40.268", "Ceftriaxone 1g (bột pha tiêm)", 35_000, 10, True, "J01DD04")


def multivitamin() -> dict:
    """Five effervescent multivitamin tablets, outside the BHYT list (the patient pays them whole)."""
    return _dispensed(2, "VTM-BEROCCA", "Berocca Performance (viên sủi)", 12_000, 5, False, "A11AA03")
