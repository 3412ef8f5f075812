"""Charges reach the visit at the gateway exactly once, even when 32 technicians log at once and it is down."""

import threading
from datetime import date, timedelta

import pytest
import requests

from common import outbox
from tests.lab.catalogue import GLUCOSE_REAGENT, GLUCOSE_TEST, HEAD, TECH, add_reagent, add_test, ok, receive
from tests.support import bearer, keyed, wait_until

SOON = (date.today() + timedelta(days=60)).isoformat()
CASHIER = bearer("cashier")


@pytest.fixture
def stack(make_app, live_server):
    """The lab and the gateway as real servers; requests go through the gateway's test client."""
    lab_app = make_app("lab_service")
    live_server(lab_app)
    gateway_app = make_app("gateway")
    live_server(gateway_app)
    gateway = gateway_app.test_client()
    add_reagent(gateway, GLUCOSE_REAGENT)
    add_test(gateway, GLUCOSE_TEST)
    receive(gateway, "GLU-R1", "GL2603A", 20_000, SOON)
    return gateway


def charges_of(gateway, encounter_id):
    return ok(gateway.get(f"/api/v1/charges?encounter_id={encounter_id}", headers=CASHIER))


def test_a_test_logged_through_the_gateway_lands_as_a_charge_on_the_visit(stack):
    body = {"encounter_id": "ENC-2026-004512", "patient_id": "BN-0045120", "test_code": "GLU",
            "results": [{"loinc": "2345-7", "value": "6.1", "unit": "mmol/L"}]}
    run = ok(stack.post("/api/v1/lab/test-runs", json=body, headers={**TECH, "Idempotency-Key": "k-4512"}), 201)
    [charge] = charges_of(stack, "ENC-2026-004512")
    assert charge["key"] == f"lab:test-run:{run['id']}" and charge["source"] == "lab"
    assert (charge["code"], charge["name"]) == ("23.0075.1494", "Định lượng Glucose [Máu]")
    assert (charge["quantity"], charge["amount"], charge["cost_amount"]) == (1, 21_500, 3000)
    assert charge["patient_id"] == "BN-0045120"


def test_voiding_through_the_gateway_reverses_the_charge(stack):
    body = {"encounter_id": "ENC-2026-004513", "patient_id": "BN-0045130", "test_code": "GLU"}
    run = ok(stack.post("/api/v1/lab/test-runs", json=body, headers=TECH), 201)
    ok(stack.post(f"/api/v1/lab/test-runs/{run['id']}/void", json={"reason": "Mẫu bị vỡ, không có kết quả"},
                  headers=HEAD))
    [charge] = charges_of(stack, "ENC-2026-004513")
    assert (charge["reversed_quantity"], charge["reversed_amount"]) == (1, 21_500)


def test_32_concurrent_logs_against_stock_for_20_tests(engine, make_app, live_server):
    lab_app = make_app("lab_service", OUTBOX_MAX_BACKOFF_SECONDS=1)
    lab_url = live_server(lab_app)
    gateway_app = make_app("gateway")  # built, but not serving: the gateway is down during the burst
    lab = lab_app.test_client()
    add_reagent(lab, GLUCOSE_REAGENT)
    add_test(lab, GLUCOSE_TEST)
    receive(lab, "GLU-R1", "GL2603A", 20 * 200, SOON)

    start, answers, lock = threading.Barrier(32), [], threading.Lock()

    def technician(number):
        body = {"encounter_id": f"ENC-2026-1{number:05d}", "patient_id": f"BN-1{number:06d}", "test_code": "GLU"}
        start.wait()
        response = requests.post(f"{lab_url}/api/v1/lab/test-runs", json=body, timeout=60,
                                 headers={**TECH, "Idempotency-Key": f"burst-{number}"})
        with lock:
            answers.append((response.status_code, response.json()))

    threads = [threading.Thread(target=technician, args=(n,)) for n in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] * 20 + [409] * 12
    assert {body["code"] for status, body in answers if status == 409} == {"INSUFFICIENT_STOCK"}
    reagent = ok(lab.get("/api/v1/lab/reagents/GLU-R1", headers=TECH))
    assert reagent["on_hand"] == 0 and reagent["lots"][0]["book_quantity"] == 0
    card = ok(lab.get("/api/v1/lab/reagents/GLU-R1/ledger", headers=TECH))
    receipts = sum(e["quantity"] for e in card["entries"] if e["kind"] == "receipt")
    consumed = -sum(e["quantity"] for e in card["entries"] if e["kind"] == "consumption")
    assert (receipts, consumed, card["balance"]) == (4000, 4000, 0)
    pending = ok(lab.get("/api/v1/lab/outbox?state=pending", headers=HEAD))
    assert len(pending) == 20

    live_server(gateway_app)  # the gateway comes back
    gateway = gateway_app.test_client()

    def all_delivered():
        with lab_app.app_context():
            outbox.sweep()
        return len(ok(gateway.get("/api/v1/charges?limit=1000", headers=CASHIER))) == 20 and not ok(
            lab.get("/api/v1/lab/outbox?state=pending", headers=HEAD))

    wait_until(all_delivered, timeout=30, interval=0.3, message="20 charges at the gateway")
    charges = ok(gateway.get("/api/v1/charges?limit=1000", headers=CASHIER))
    won = {f"lab:test-run:{body['id']}" for status, body in answers if status == 201}
    assert {c["key"] for c in charges} == won and sum(c["amount"] for c in charges) == 20 * 21_500


def test_two_heads_voiding_the_same_run_at_once_return_its_reagent_once(engine, make_app, live_server):
    lab_app = make_app("lab_service")
    lab_url = live_server(lab_app)
    lab = lab_app.test_client()
    add_reagent(lab, GLUCOSE_REAGENT)
    add_test(lab, GLUCOSE_TEST)
    receive(lab, "GLU-R1", "GL2603A", 1000, SOON)
    run = ok(lab.post("/api/v1/lab/test-runs", json={"encounter_id": "ENC-2026-000777", "patient_id": "BN-0000777",
                                                     "test_code": "GLU"}, headers=TECH), 201)
    start, statuses = threading.Barrier(2), []

    def lab_head():
        start.wait()
        response = requests.post(f"{lab_url}/api/v1/lab/test-runs/{run['id']}/void",
                                 json={"reason": "Trùng chỉ định"}, headers=keyed(HEAD), timeout=30)
        statuses.append(response.status_code)

    threads = [threading.Thread(target=lab_head) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 409]
    assert ok(lab.get("/api/v1/lab/reagents/GLU-R1", headers=TECH))["on_hand"] == 1000
    reversals = [m for m in ok(lab.get("/api/v1/lab/outbox", headers=HEAD)) if m["event_type"] == "charge.reversed"]
    assert len(reversals) == 1
