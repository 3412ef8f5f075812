"""On PostgreSQL, under real concurrency: never oversold, losers get 409, the ledger balances, and every
successful dispense becomes exactly one charge at the gateway, even when the gateway was down at the time."""

import threading
import uuid

import pytest
import requests

from common.outbox import sweep
from tests.pharmacy.conftest import PHARMACIST, add_drug, prescribe, receive
from tests.support import bearer, wait_until


@pytest.fixture
def pharmacy_server(engine, make_app, live_server):
    """The pharmacy as a real threaded HTTP server on PostgreSQL; its gateway is not started yet."""
    app = make_app("pharmacy_service", OUTBOX_MAX_BACKOFF_SECONDS=1, HTTP_TIMEOUT_MS=1000)
    return app, live_server(app)


def burst(url: str, requests_to_send: list[tuple[str, dict]]) -> list[requests.Response]:
    """Send every (path, body) at the same moment from its own thread, each with its own Idempotency-Key."""
    start = threading.Barrier(len(requests_to_send))
    results: list = [None] * len(requests_to_send)

    def send(index: int, path: str, body: dict) -> None:
        headers = {**PHARMACIST, "Idempotency-Key": str(uuid.uuid4())}
        start.wait()
        results[index] = requests.post(url + path, json=body, headers=headers, timeout=30)

    threads = [threading.Thread(target=send, args=(i, path, body)) for i, (path, body) in enumerate(requests_to_send)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def dispense_all(prescription: dict) -> tuple[str, dict]:
    lines = [{"line_id": line["id"], "quantity": line["quantity"]} for line in prescription["lines"]]
    return f"/api/v1/pharmacy/prescriptions/{prescription['id']}/dispenses", {"lines": lines}


def assert_ledger_balances(client, code: str) -> None:
    """Each lot's stock-card entries add up to what is on the shelf and in quarantine, and nothing is negative."""
    drug = client.get(f"/api/v1/pharmacy/drugs/{code}", headers=PHARMACIST).get_json()
    card = client.get(f"/api/v1/pharmacy/drugs/{code}/ledger?limit=5000", headers=PHARMACIST).get_json()
    for lot in drug["lots"]:
        entries = [e for e in card if e["lot_id"] == lot["id"]]
        assert sum(e["quantity_change"] for e in entries if e["bucket"] == "shelf") == lot["quantity_on_hand"] >= 0
        assert sum(e["quantity_change"] for e in entries if e["bucket"] == "quarantine") == lot["quantity_quarantined"]


def test_32_pharmacists_dispensing_against_stock_for_20_never_oversell_and_bill_once(pharmacy_server, make_app,
                                                                                      live_server):
    app, url = pharmacy_server
    client = app.test_client()
    paracetamol = add_drug(client, "paracetamol")["code"]
    receive(client, paracetamol, "PCM2605A", expires_in_days=150, quantity=120)
    receive(client, paracetamol, "PCM2712G", expires_in_days=500, quantity=80)
    prescriptions = [prescribe(client, [(paracetamol, 10)], encounter_id=f"ENC-2026-{9000 + i}",
                               patient_id=f"BN-{7000 + i}") for i in range(32)]

    responses = burst(url, [dispense_all(p) for p in prescriptions])  # the gateway is down all along

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 20 + [409] * 12
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"INSUFFICIENT_STOCK"}
    stock = client.get("/api/v1/pharmacy/stock", headers=PHARMACIST).get_json()[0]
    assert (stock["on_hand"], stock["usable"]) == (0, 0)
    assert_ledger_balances(client, paracetamol)
    pending = client.get("/api/v1/pharmacy/outbox?state=pending", headers=PHARMACIST).get_json()
    assert len(pending) == 20 and all(row["attempts"] >= 1 for row in pending)

    gateway = make_app("gateway")
    live_server(gateway)
    with app.app_context():
        wait_until(lambda: sweep() and not client.get("/api/v1/pharmacy/outbox?state=pending",
                                                       headers=PHARMACIST).get_json(),
                   timeout=20, message="the outbox to drain into the gateway")

    charges = gateway.test_client().get("/api/v1/charges?limit=1000", headers=bearer("cashier")).get_json()
    won = [r.json() for r in responses if r.status_code == 201]
    assert sorted(c["key"] for c in charges) == sorted(line["charge_key"] for d in won for line in d["lines"])
    assert sorted(c["encounter_id"] for c in charges) == sorted(d["encounter_id"] for d in won)
    assert sum(c["amount"] for c in charges) == 20 * 10 * 350


def test_crossing_multi_line_prescriptions_do_not_deadlock(pharmacy_server):
    app, url = pharmacy_server
    client = app.test_client()
    metformin = add_drug(client, "metformin")["code"]
    amlodipine = add_drug(client, "amlodipine")["code"]
    losartan = add_drug(client, "losartan")["code"]
    for code in (metformin, amlodipine, losartan):
        receive(client, code, f"LOT-{code}", expires_in_days=300, quantity=1_000)
    orders = [[(metformin, 60), (amlodipine, 30), (losartan, 30)], [(losartan, 30), (amlodipine, 30), (metformin, 60)]]
    prescriptions = [prescribe(client, orders[i % 2], encounter_id=f"ENC-2026-{8000 + i}") for i in range(16)]

    responses = burst(url, [dispense_all(p) for p in prescriptions])

    assert [r.status_code for r in responses] == [201] * 16
    stock = {row["drug_code"]: row["on_hand"] for row in client.get("/api/v1/pharmacy/stock",
                                                                      headers=PHARMACIST).get_json()}
    assert stock == {metformin: 1_000 - 16 * 60, amlodipine: 1_000 - 16 * 30, losartan: 1_000 - 16 * 30}
    for code in (metformin, amlodipine, losartan):
        assert_ledger_balances(client, code)


def test_a_recall_racing_with_dispenses_finds_every_patient_who_got_the_lot(pharmacy_server):
    app, url = pharmacy_server
    client = app.test_client()
    amlodipine = add_drug(client, "amlodipine")["code"]
    recalled = receive(client, amlodipine, "AML2604K", expires_in_days=150, quantity=100)
    receive(client, amlodipine, "AML2612L", expires_in_days=420, quantity=1_000)
    prescriptions = [prescribe(client, [(amlodipine, 10)], encounter_id=f"ENC-2026-{7000 + i}",
                               patient_id=f"BN-{6000 + i}") for i in range(16)]
    recall = (f"/api/v1/pharmacy/lots/{recalled['id']}/recall", {"reason": "Cục QLD đình chỉ lưu hành lô AML2604K"})

    responses = burst(url, [dispense_all(p) for p in prescriptions] + [recall])

    assert [r.status_code for r in responses] == [201] * 17
    got_the_lot = {d["encounter_id"] for d in (r.json() for r in responses[:16])
                   if any(lot["lot_number"] == "AML2604K" for lot in d["lines"][0]["lots"])}
    assert {v["encounter_id"] for v in responses[16].json()["recipients"]} == got_the_lot
    after = client.post("/api/v1/pharmacy/prescriptions", headers=PHARMACIST, json={
        "encounter_id": "ENC-2026-7999", "patient_id": "BN-6999", "prescriber": "BS. Hồ Thị Nga",
        "lines": [{"drug_code": amlodipine, "quantity": 10}]}).get_json()
    path, body = dispense_all(after)
    lots = client.post(path, json=body, headers=PHARMACIST).get_json()["lines"][0]["lots"]
    assert [lot["lot_number"] for lot in lots] == ["AML2612L"]
    assert_ledger_balances(client, amlodipine)
