"""A district hospital runs alone on its LAN: its own stack (real processes on this run's engine) with every
address outside the site unreachable (the BHYT portal, the card provider, the alert webhook) still registers,
logs tests, bills and takes cash; what must go out (the check-in) waits and is listed. The compose profile `site`
and `make run-site` describe the same stack."""

import os
import random
import shutil
import subprocess

import pytest
import requests
import yaml

from bench.harness import free_port, keyed, open_visits, start_stack, token
from tests.support import PROJECT_ROOT, wait_until

TIMEOUT = 30


def unreachable() -> str:
    """An address on this machine where nothing listens: the link to the outside is down."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture(scope="module")
def site(engine):
    outside = {"BHYT_PORTAL_URL": unreachable(), "STRIPE_API_BASE": unreachable(),
               "LAB_ALERT_WEBHOOK_URL": unreachable(), "OUTBOX_MAX_BACKOFF_SECONDS": "1"}
    with start_stack(engine=engine, env_overrides=outside, workers=1) as running:
        yield running


def test_a_site_with_its_outside_links_down_logs_bills_and_takes_cash(site):
    gateway = site["gateway"]
    visit = open_visits(gateway, 1)[0]  # reception: a patient with a BHYT card, a visit
    run = requests.post(f"{gateway}/api/v1/lab/test-runs", headers=keyed(token(gateway, "labtech")), timeout=TIMEOUT,
                        json={**visit, "test_code": "GLU", "analyzer_code": "AU480"})
    assert run.status_code == 201, run.text
    cashier = token(gateway, "cashier")

    self_pay = self_pay_visit(gateway, cashier)
    assert requests.post(f"{gateway}/api/v1/lab/test-runs", headers=keyed(token(gateway, "labtech")),
                         timeout=TIMEOUT, json={**self_pay, "test_code": "GLU"}).status_code == 201

    def invoice():
        found = requests.get(f"{gateway}/api/v1/billing/invoices", params={"encounter_id": self_pay["encounter_id"]},
                             headers=cashier, timeout=TIMEOUT).json()
        return found[0] if found and found[0]["balance_amount"] > 0 else None

    bill = wait_until(invoice, timeout=60, message="the self-pay run's charge on the visit's bill")
    paid = requests.post(f"{gateway}/api/v1/billing/invoices/{bill['id']}/payments", headers=keyed(cashier),
                         timeout=TIMEOUT, json={"method": "cash", "amount": bill["balance_amount"],
                                                "reason": "Thu tiền mặt tại quầy thu ngân khoa khám bệnh"})
    assert paid.status_code == 201, paid.text
    check_ins = requests.get(f"{gateway}/api/v1/check-ins", params={"state": "pending"},
                             headers=token(gateway, "admin"), timeout=TIMEOUT).json()
    assert [c for c in check_ins if str(c["encounter_id"]) == visit["encounter_id"]], check_ins  # waits, listed


def self_pay_visit(gateway: str, cashier: dict) -> dict:
    """A patient without a BHYT card and their visit (the bill is theirs to pay in cash)."""
    cccd = f"024192{random.randrange(10**6):06d}"  # Bắc Giang, a woman born in 1992
    patient = requests.post(f"{gateway}/api/v1/patients", headers=cashier, timeout=TIMEOUT, json={
        "full_name": "Vàng Thị Mai", "birth_date": "1992-04-17", "sex": "female", "cccd": cccd,
        "phone": "0912345678", "address": "Bản Nà Phặc, Xã Sơn Cương, Huyện Sơn Động, Bắc Giang"})
    assert patient.status_code == 201, patient.text
    visit = requests.post(f"{gateway}/api/v1/encounters", headers=cashier, timeout=TIMEOUT,
                          json={"patient_id": patient.json()["id"], "kind": "outpatient", "department": "K01"})
    assert visit.status_code == 201, visit.text
    return {"encounter_id": str(visit.json()["id"]), "patient_id": str(patient.json()["id"])}


def compose_config(profile: str | None) -> subprocess.CompletedProcess:
    from tests.test_deployment import SECRETS

    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/tmp", **SECRETS,
           "SITE_HOSTNAME": "xetnghiem.bvhuyen-soncuong.lan"}
    profiles = ["--profile", profile] if profile else []
    return subprocess.run(["docker-compose", "-f", str(PROJECT_ROOT / "docker-compose.yml"), *profiles, "config"],
                          env=env, capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=60)


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose (Debian package) not installed")
def test_the_site_profile_adds_https_for_the_lan_in_front_of_the_gateway_only():
    site, plain = compose_config("site"), compose_config(None)
    assert site.returncode == 0 and plain.returncode == 0, site.stderr + plain.stderr
    services = yaml.safe_load(site.stdout)["services"]
    assert services["site-https"]["profiles"] == ["site"]  # `up` without the profile leaves it out
    assert [name for name, service in services.items() if service.get("profiles")] == ["site-https"]
    command = services["site-https"]["command"]
    assert command[command.index("--from") + 1] == "https://xetnghiem.bvhuyen-soncuong.lan"
    assert command[command.index("--to") + 1] == "gateway:8000" and "--internal-certs" in command


def test_nothing_in_the_site_stack_calls_outside_the_site_but_what_may_wait():
    services = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())["services"]
    inside = set(services)
    may_wait = {"BHYT_PORTAL_URL", "STRIPE_API_BASE"}  # check-ins wait and are listed; cards wait, cash works
    for name, service in services.items():
        for variable, value in (service.get("environment") or {}).items():
            if variable.endswith("_URL") and variable not in may_wait and value and "://" in str(value):
                host = str(value).split("://", 1)[1].split("@")[-1].split(":")[0].split("/")[0]
                assert host in inside, f"{name}: {variable} points outside the site ({value})"


def test_make_run_site_puts_the_gateway_alone_on_the_lan(monkeypatch):
    import manage

    monkeypatch.setenv("GATEWAY_BIND_HOST", "0.0.0.0")
    monkeypatch.delenv("BIND_HOST", raising=False)
    lines = dict(line.split(": ", 1) for line in manage.procfile().splitlines())
    assert "--bind 0.0.0.0:" in lines["gateway"]
    for service in ("lab_service", "pharmacy_service", "billing_service"):
        assert "--bind 127.0.0.1:" in lines[service]
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    assert "run-site:" in makefile and "GATEWAY_BIND_HOST" in makefile
