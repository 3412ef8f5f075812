"""Out of the box: `make run` starts a card sandbox (localstripe) with billing's webhook registered, and the demo's
bank and card terminal (`python -m manage bank-transfer` / `card-terminal`) pay a bill through the signed
notifications, as real processes on this run's databases."""

import subprocess
import uuid

import pytest
import requests

import manage
from tests.billing.factories import (
    BANK_ACCOUNT,
    BANK_SECRET,
    BILLING_CONFIG,
    BLOOD_COUNT,
    HBA1C,
    STRIPE_SECRET,
    charge,
    encounter,
    invoice_of,
    post_charge,
)
from tests.support import PROJECT_ROOT, PYTHON, bearer, free_port, start_process, stop_process, wait_until

CASHIER = bearer("cashier")


def demo_env(scratch_dir, service_ports, database_urls, **extra) -> dict:
    """The environment of a demo command: development, this run's billing database and ports, known secrets."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(scratch_dir), "VAR_DIR": str(scratch_dir),
           "APP_ENV": "development", "LOG_LEVEL": "WARNING", "BANK_WEBHOOK_SECRET": BANK_SECRET,
           "STRIPE_WEBHOOK_SECRET": STRIPE_SECRET, "HOSPITAL_BANK_ACCOUNT": BANK_ACCOUNT, "HOSPITAL_BANK_BIN": "970415",
           "BILLING_SERVICE_DATABASE_URL": database_urls["billing_service"]}
    env.update({f"{service.upper()}_PORT": str(port) for service, port in service_ports.items()})
    env.update(extra)
    return env


def run_manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "-m", "manage", *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                          timeout=60)


def self_pay_bill(client) -> dict:
    """A self-pay visit: blood count and HbA1c, 147 200 đồng to pay."""
    visit = encounter(level=None)
    post_charge(client, charge(BLOOD_COUNT, key="lab:test-run:3"), visit)
    post_charge(client, charge(HBA1C, key="lab:test-run:4"), visit)
    return invoice_of(client)


def test_make_run_starts_the_card_sandbox_unless_another_provider_is_configured(monkeypatch):
    monkeypatch.delenv("STRIPE_API_BASE", raising=False)
    monkeypatch.delenv("CARD_SANDBOX_PORT", raising=False)
    assert "card_sandbox: " in manage.procfile() and manage.procfile().rstrip().endswith("manage card-sandbox")
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:8420/")
    assert "card_sandbox: " in manage.procfile()
    monkeypatch.setenv("STRIPE_API_BASE", "https://cards.nganhang.example")
    assert "card_sandbox" not in manage.procfile()


def test_the_card_sandbox_has_billings_webhook_and_the_demo_terminal_pays_a_card_request(
        make_app, live_server, service_ports, database_urls, scratch_dir):
    port = free_port()
    sandbox = f"http://127.0.0.1:{port}"
    billing = make_app("billing_service", **BILLING_CONFIG, STRIPE_API_BASE=sandbox)
    live_server(billing)
    env = demo_env(scratch_dir, service_ports, database_urls, CARD_SANDBOX_PORT=str(port))
    process = start_process([PYTHON, "-m", "manage", "card-sandbox"], env, scratch_dir / "card-sandbox.log")
    try:
        wait_until(lambda: _answers(sandbox) or process.poll() is not None, message="the card sandbox")
        assert process.poll() is None, (scratch_dir / "card-sandbox.log").read_text()
        client = billing.test_client()
        bill = self_pay_bill(client)
        asked = client.post(f"/api/v1/billing/invoices/{bill['id']}/payment-requests", json={"method": "card"},
                            headers={**CASHIER, "Idempotency-Key": str(uuid.uuid4())})
        assert asked.status_code == 201, asked.get_json()
        played = run_manage("card-terminal", bill["reference"], env=env)
        assert played.returncode == 0 and "succeeded" in played.stdout, played.stdout + played.stderr
        wait_until(lambda: invoice_of(client)["state"] == "paid", message="the sandbox's signed webhook")
        assert [p["method"] for p in invoice_of(client)["payments"]] == ["card"]
    finally:
        stop_process(process)


def _answers(url: str) -> bool:
    try:
        return requests.get(f"{url}/v1/payment_intents", headers={"Authorization": "Bearer sk_test_up"},
                            timeout=1).status_code == 200
    except requests.RequestException:
        return False


def test_the_demo_bank_pays_a_bills_vietqr_through_the_gateway(make_app, live_server, service_ports, database_urls,
                                                                scratch_dir):
    billing = make_app("billing_service", **BILLING_CONFIG)
    live_server(billing)
    live_server(make_app("gateway"))
    client = billing.test_client()
    bill = self_pay_bill(client)
    env = demo_env(scratch_dir, service_ports, database_urls)
    nothing_waits = run_manage("bank-transfer", bill["reference"], env=env)
    assert nothing_waits.returncode != 0 and "no VietQR waiting" in nothing_waits.stderr
    issued = client.post(f"/api/v1/billing/invoices/{bill['id']}/payment-requests", json={"method": "vietqr"},
                         headers={**CASHIER, "Idempotency-Key": str(uuid.uuid4())})
    assert issued.status_code == 201
    sent = run_manage("bank-transfer", bill["reference"].lower(), env=env)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert "147.200 đ for HD000001" in sent.stdout and '"status":"matched"' in sent.stdout
    paid = invoice_of(client)
    assert paid["state"] == "paid" and paid["payments"][0]["method"] == "bank_transfer"


@pytest.mark.parametrize("command", ["bank-transfer", "card-terminal"])
def test_the_demo_bank_and_terminal_refuse_a_production_hospital(command, scratch_dir, service_ports, database_urls):
    env = demo_env(scratch_dir, service_ports, database_urls, APP_ENV="production")
    refused = run_manage(command, "HD000001", env=env)
    assert refused.returncode != 0 and "demo hospitals only" in refused.stderr
