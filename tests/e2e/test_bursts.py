"""The stack `make run` starts, under a burst, on the run's engine: SQLite with in-process jobs (the default a
newcomer gets) or PostgreSQL + Redis. 32 technicians log a test at once on stock for 20 tests; 32 pharmacists
dispense at once on stock for 20 units. Exactly 20 succeed and 12 are told the stock is short, nothing answers 5xx,
the stock ends at 0 with a balanced ledger, and each success is one charge on its visit and one invoice line.
"""

import threading
from collections import Counter
from datetime import date, timedelta

import pytest
import requests

from bench.harness import open_visits, start_stack, token
from tests.support import keyed, wait_until

TIMEOUT = 60
BURST, STOCK_FOR = 32, 20
EXPIRES = (date.today() + timedelta(days=300)).isoformat()


@pytest.fixture(scope="module")
def stack(engine, request, tmp_path_factory):
    redis_url = request.getfixturevalue("redis_url") if engine == "postgres" else None
    logs = tmp_path_factory.mktemp("logs")
    with start_stack(engine=engine, redis_url=redis_url, log_dir=logs,
                     env_overrides={"OUTBOX_MAX_BACKOFF_SECONDS": "1", "LOG_LEVEL": "INFO"}) as running:
        yield running
        assert_no_server_errors(running)


def assert_no_server_errors(stack) -> None:
    """No request answered 5xx and nothing crashed, in any process's log."""
    logs = stack.logs()
    assert '"status": 5' not in logs and "Traceback" not in logs, logs[-5000:]


def at_once(calls: list) -> list[requests.Response]:
    """Run the calls from as many threads, released together."""
    barrier, answers = threading.Barrier(len(calls)), [None] * len(calls)

    def run(index: int, call) -> None:
        barrier.wait()
        answers[index] = call()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def ok(response, status: int = 200):
    assert response.status_code == status, f"{response.request.method} {response.url}: {response.text[:800]}"
    return response.json()


def charges_and_lines(gateway: str, visits: list[dict], finance: dict) -> tuple[int, int]:
    """How many charges the visits hold at the gateway, and how many invoice lines at billing."""
    charges = lines = 0
    for visit in visits:
        charges += len(ok(requests.get(f"{gateway}/api/v1/charges", params={"encounter_id": visit["encounter_id"]},
                                       headers=finance, timeout=TIMEOUT)))
        for invoice in ok(requests.get(f"{gateway}/api/v1/billing/invoices", headers=finance, timeout=TIMEOUT,
                                       params={"encounter_id": visit["encounter_id"]})):
            lines += len(ok(requests.get(f"{gateway}/api/v1/billing/invoices/{invoice['id']}", headers=finance,
                                         timeout=TIMEOUT))["lines"])
    return charges, lines


def test_32_technicians_logging_at_once_on_stock_for_20_get_20_runs_and_12_refusals(stack):
    gateway = stack["gateway"]
    head, tech, finance = token(gateway, "labhead"), token(gateway, "labtech"), token(gateway, "finance")
    ok(requests.post(f"{gateway}/api/v1/lab/reagents", headers=head, timeout=TIMEOUT, json={
        "code": "CRP-BURST-R1", "name": "Thuốc thử CRP (lô thử tải)", "manufacturer": "Roche Diagnostics",
        "base_unit": "µL", "unit_cost_amount": 35}), 201)
    ok(requests.post(f"{gateway}/api/v1/lab/tests", headers=head, timeout=TIMEOUT, json={
        "code": "CRP-BURST", "name": "Định lượng CRP", "loinc": "1988-5", "service_code": "23.0107.1567",
        "price_amount": 53_800, "insurance_price_amount": 53_800,
        "recipe": [{"reagent_code": "CRP-BURST-R1", "quantity": 150}]}), 201)
    ok(requests.post(f"{gateway}/api/v1/lab/reagents/CRP-BURST-R1/lots", headers=keyed(head), timeout=TIMEOUT, json={
        "lot_number": "CRP2611B", "expires_on": EXPIRES, "quantity": 150 * STOCK_FOR, "cost_amount": 105_000}), 201)
    visits = open_visits(gateway, BURST)

    answers = at_once([lambda visit=visit, n=n: requests.post(
        f"{gateway}/api/v1/lab/test-runs", headers={**tech, "Idempotency-Key": f"burst-run-{n}"}, timeout=TIMEOUT,
        json={**visit, "test_code": "CRP-BURST"}) for n, visit in enumerate(visits)])

    assert Counter(answer.status_code for answer in answers) == {201: STOCK_FOR, 409: BURST - STOCK_FOR}
    assert {answer.json()["code"] for answer in answers if answer.status_code == 409} == {"INSUFFICIENT_STOCK"}
    reagent = ok(requests.get(f"{gateway}/api/v1/lab/reagents/CRP-BURST-R1", headers=head, timeout=TIMEOUT))
    ledger = ok(requests.get(f"{gateway}/api/v1/lab/reagents/CRP-BURST-R1/ledger", headers=head, timeout=TIMEOUT))
    assert reagent["on_hand"] == 0 and ledger["balance"] == 0
    assert sorted(e["quantity"] for e in ledger["entries"]) == [-150] * STOCK_FOR + [150 * STOCK_FOR]
    logged = [v for v, answer in zip(visits, answers, strict=True) if answer.status_code == 201]
    assert wait_until(lambda: charges_and_lines(gateway, logged, finance) == (STOCK_FOR, STOCK_FOR), timeout=60,
                      interval=0.5, message="a charge and an invoice line per logged test")
    assert charges_and_lines(gateway, visits, finance) == (STOCK_FOR, STOCK_FOR)


def test_32_pharmacists_dispensing_at_once_on_stock_for_20_get_20_dispenses_and_12_refusals(stack):
    gateway = stack["gateway"]
    pharmacist, finance = token(gateway, "pharmacist"), token(gateway, "finance")
    ok(requests.post(f"{gateway}/api/v1/pharmacy/drugs", headers=pharmacist, timeout=TIMEOUT, json={
        "code": "40.158-T", "name": "Amoxicillin (lô thử tải)", "active_ingredient": "Amoxicillin",
        "strength": "500 mg", "dosage_form": "Viên nang cứng", "route": "Uống", "atc_code": "J01CA04",
        "registration_number": "VD-25731-16", "base_unit": "capsule", "price_amount": 1_050}), 201)
    lot = ok(requests.post(f"{gateway}/api/v1/pharmacy/drugs/40.158-T/lots", headers=keyed(pharmacist), timeout=TIMEOUT,
                           json={"lot_number": "AMX2611T", "expires_on": EXPIRES, "quantity": STOCK_FOR,
                                 "cost_amount": 800, "supplier": "Công ty CP Dược Hậu Giang"}), 201)
    visits = open_visits(gateway, BURST)
    prescriptions = [ok(requests.post(f"{gateway}/api/v1/pharmacy/prescriptions", headers=pharmacist,
                                      timeout=TIMEOUT, json={**visit, "prescriber": "BS. Nguyễn Văn Hùng", "lines": [
                                          {"drug_code": "40.158-T", "quantity": 1, "instructions": "Ngày 1 viên"}]}),
                        201) for visit in visits]

    answers = at_once([lambda p=p, n=n: requests.post(
        f"{gateway}/api/v1/pharmacy/dispenses", headers={**pharmacist, "Idempotency-Key": f"burst-dispense-{n}"},
        timeout=TIMEOUT, json={"prescription_id": p["id"], "lines": [{"line_id": p["lines"][0]["id"], "quantity": 1}]})
        for n, p in enumerate(prescriptions)])

    assert Counter(answer.status_code for answer in answers) == {201: STOCK_FOR, 409: BURST - STOCK_FOR}
    assert {answer.json()["code"] for answer in answers if answer.status_code == 409} == {"INSUFFICIENT_STOCK"}
    assert ok(requests.get(f"{gateway}/api/v1/pharmacy/lots/{lot['id']}", headers=pharmacist,
                           timeout=TIMEOUT))["quantity_on_hand"] == 0
    card = ok(requests.get(f"{gateway}/api/v1/pharmacy/drugs/40.158-T/ledger", headers=pharmacist, timeout=TIMEOUT))
    changes = [entry["quantity_change"] for entry in card]
    assert sorted(changes) == [-1] * STOCK_FOR + [STOCK_FOR] and sum(changes) == 0
    dispensed = [v for v, answer in zip(visits, answers, strict=True) if answer.status_code == 201]
    assert wait_until(lambda: charges_and_lines(gateway, dispensed, finance) == (STOCK_FOR, STOCK_FOR), timeout=60,
                      interval=0.5, message="a charge and an invoice line per dispense")
    assert charges_and_lines(gateway, visits, finance) == (STOCK_FOR, STOCK_FOR)
