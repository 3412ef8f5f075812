"""Scaled out on PostgreSQL + Redis: two processes of each service, two sweepers and two rq workers share the work
of a burst of 500 logged tests, and every test is exactly one charge on its visit and one invoice line."""

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
import requests

from bench.harness import open_visits, start_stack, token
from tests.support import keyed, on_postgres_run, wait_until

TIMEOUT = 60
TESTS, VISITS = 500, 25


@pytest.fixture(scope="module")
def stack(request, tmp_path_factory):
    on_postgres_run()
    redis_url = request.getfixturevalue("redis_url")
    with start_stack(redis_url=redis_url, workers=2, log_dir=tmp_path_factory.mktemp("logs"),
                     env_overrides={"OUTBOX_MAX_BACKOFF_SECONDS": "1", "LOG_LEVEL": "INFO"}) as running:
        running.start("sweeper-2")
        running.start("worker-2")
        yield running
        logs = running.logs()
        assert '"status": 5' not in logs and "Traceback" not in logs, logs[-5000:]


def test_a_burst_of_500_logged_tests_is_500_charges_and_500_invoice_lines(stack):
    gateway = stack["gateway"]
    head, tech, finance = token(gateway, "labhead"), token(gateway, "labtech"), token(gateway, "finance")
    requests.post(f"{gateway}/api/v1/lab/reagents/GLU-R1/lots", headers=keyed(head), timeout=TIMEOUT, json={
        "lot_number": "GL2612X", "expires_on": (date.today() + timedelta(days=300)).isoformat(),
        "quantity": 10**7, "cost_amount": 3 * 10**7}).raise_for_status()
    visits = open_visits(gateway, VISITS)

    def log(number: int) -> int:
        return requests.post(f"{gateway}/api/v1/lab/test-runs", timeout=TIMEOUT,
                             headers={**tech, "Idempotency-Key": f"scale-{number}"},
                             json={**visits[number % VISITS], "test_code": "GLU", "analyzer_code": "AU480"}).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        assert list(pool.map(log, range(TESTS))) == [201] * TESTS

    def counts() -> tuple[int, int, int]:
        charges, keys, lines = 0, set(), 0
        for visit in visits:
            stored = requests.get(f"{gateway}/api/v1/charges", params={"encounter_id": visit["encounter_id"]},
                                  headers=finance, timeout=TIMEOUT).json()
            charges += len(stored)
            keys |= {charge["key"] for charge in stored}
            for invoice in requests.get(f"{gateway}/api/v1/billing/invoices", headers=finance, timeout=TIMEOUT,
                                        params={"encounter_id": visit["encounter_id"]}).json():
                lines += len(requests.get(f"{gateway}/api/v1/billing/invoices/{invoice['id']}", headers=finance,
                                          timeout=TIMEOUT).json()["lines"])
        return charges, len(keys), lines

    assert wait_until(lambda: counts() == (TESTS, TESTS, TESTS), timeout=120, interval=1,
                      message="500 charges and 500 invoice lines")
    pending = [requests.get(f"{stack[service]}/api/v1/{area}/outbox", params={"state": "pending"},
                            headers=token(gateway, role), timeout=TIMEOUT).json()
               for service, area, role in (("gateway", "gateway", "finance"), ("gateway", "lab", "labhead"))]
    assert pending == [[], []]
