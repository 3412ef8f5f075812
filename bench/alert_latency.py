"""How soon the lab head sees an alert: from the commit of the logged test that takes a reagent below its reorder
level to the alert being open, p99 over repeated crossings.

Each crossing: a receipt lifts the bench reagent just above its reorder level (its alert closes), then one logged
test takes it below again; the time runs from that test's 201 (its commit is done) until `GET /api/v1/lab/alerts`
shows the alert open. With `--redis` the alert check runs in the rq worker (PostgreSQL + Redis), else in-process.
Target: p99 <= 1 s. The p99 is printed last.

Run: .venv/bin/python -m bench.alert_latency [crossings] [--sqlite | --redis]
"""

import sys
import time
from datetime import date, timedelta

import requests

from bench.harness import engine_argument, keyed, percentile, start_stack, token

REAGENT, TEST = "BENCH-ALERT-R1", "BENCH-ALERT"
PER_TEST, REORDER_LEVEL = 100, 1000
REDIS_URL = "redis://127.0.0.1:6379/14"


def catalogue(gateway: str, head: dict) -> None:
    """A reagent with a reorder level, a test that takes PER_TEST of it, and stock half a test below the level."""
    requests.post(f"{gateway}/api/v1/lab/reagents", headers=head, timeout=30, json={
        "code": REAGENT, "name": "Thuốc thử đo thời gian cảnh báo", "manufacturer": "Roche Diagnostics",
        "base_unit": "µL", "reorder_level": REORDER_LEVEL, "unit_cost_amount": 12}).raise_for_status()
    requests.post(f"{gateway}/api/v1/lab/tests", headers=head, timeout=30, json={
        "code": TEST, "name": "Xét nghiệm đo cảnh báo", "loinc": "2345-7", "service_code": "23.0075.1494",
        "price_amount": 21500, "recipe": [{"reagent_code": REAGENT, "quantity": PER_TEST}]}).raise_for_status()
    receive(gateway, head, "BENCH-L0", REORDER_LEVEL - PER_TEST // 2)  # below the level: each crossing lifts it


def receive(gateway: str, head: dict, lot_number: str, quantity: int) -> None:
    requests.post(f"{gateway}/api/v1/lab/reagents/{REAGENT}/lots", headers=keyed(head), timeout=30, json={
        "lot_number": lot_number, "expires_on": (date.today() + timedelta(days=400)).isoformat(),
        "quantity": quantity}).raise_for_status()


def alert_open(gateway: str, head: dict) -> bool:
    alerts = requests.get(f"{gateway}/api/v1/lab/alerts", params={"reagent_code": REAGENT}, headers=head, timeout=30)
    return any(alert["kind"] == "below_reorder_level" for alert in alerts.json())


def wait_for(condition, timeout: float = 30.0) -> float:
    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > timeout:
            raise RuntimeError("the alert did not change in time")
        time.sleep(0.01)
    return time.perf_counter() - started


def crossing(gateway: str, head: dict, tech: dict, number: int) -> float:
    """Lift the stock above the level, wait for the alert to close, cross it with one test; seconds to open."""
    receive(gateway, head, f"BENCH-L{number}", PER_TEST)
    wait_for(lambda: not alert_open(gateway, head))
    logged = requests.post(f"{gateway}/api/v1/lab/test-runs", headers=keyed(tech), timeout=30, json={
        "encounter_id": "ENC-BENCH", "patient_id": "BN-BENCH", "test_code": TEST})
    logged.raise_for_status()
    return wait_for(lambda: alert_open(gateway, head))


def main(crossings: int = 50, engine: str = "postgres", redis: bool = False) -> None:
    with start_stack(engine=engine, redis_url=REDIS_URL if redis else None) as stack:
        gateway = stack["gateway"]
        head, tech = token(gateway, "labhead"), token(gateway, "labtech")
        catalogue(gateway, head)
        crossing(gateway, head, tech, 1)  # warm-up, not counted: the rq worker may still be building its apps
        latencies = sorted(crossing(gateway, head, tech, number) for number in range(2, crossings + 2))
    print(f"engine: {engine}, jobs: {'rq worker (Redis)' if redis else 'in-process'}, crossings: {crossings}")
    print(f"p50 {percentile(latencies, 0.5) * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms")
    print(f"alert open after the crossing commit, p99 ms (target <= 1000): {percentile(latencies, 0.99) * 1000:.0f}")


if __name__ == "__main__":
    with_redis = "--redis" in sys.argv
    chosen, args = engine_argument([arg for arg in sys.argv[1:] if arg != "--redis"])
    main(int(args[0]) if args else 50, chosen, with_redis)
