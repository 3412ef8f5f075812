"""Lab test logging throughput: a glucose test logged through the gateway, against the one-hop baseline.

(a) bench/baseline_app.py: minimal Flask + peewee on the same PostgreSQL (select for update, guarded update, insert).
(b) POST /api/v1/lab/test-runs through the gateway with an Idempotency-Key: a glucose test on the AU480 (seeded
    recipe: reaction volume + dead volume per run), FEFO over the seeded lots and a large bench lot, guarded
    decrements, ledger rows, the test run, a charge.created outbox row delivered to the gateway after commit, and
    the alert check after commit.
Each at 16 concurrent clients on 127.0.0.1 for a bounded time, in turns (a, b, a, b, ...: four turns of 5 s each by
default) so a drift in the machine's speed during the run hits both alike. Target: (b) >= 0.5 x (a) in requests/s
and p99 of (b) < 50 ms. The ratio is printed last.

Run: .venv/bin/python -m bench.lab_log_test [seconds]
"""

import itertools
import sys
from datetime import date, timedelta

import requests

from bench.harness import baseline_server, interleave, run_load, start_stack, token

CLIENTS = 16
VISITS = 64


def stock_up(gateway: str, headers: dict) -> None:
    """Receive one large glucose lot so the run never runs out (the seeded lots are used first, FEFO)."""
    body = {"lot_number": "GLBENCH01", "expires_on": (date.today() + timedelta(days=700)).isoformat(),
            "quantity": 10**10, "cost_amount": 3 * 10**10, "supplier": "Công ty TNHH Thiết bị Y tế Việt Đức"}
    response = requests.post(f"{gateway}/api/v1/lab/reagents/GLU-R1/lots", json=body, headers=headers, timeout=30)
    response.raise_for_status()


def test_run_body(number: int) -> dict:
    """Build the body of the n-th logged glucose test, spread over a pool of visits."""
    visit = number % VISITS
    return {"encounter_id": f"ENC-2026-{200_000 + visit}", "patient_id": f"BN-{300_000 + visit}",
            "test_code": "GLU", "analyzer_code": "AU480",
            "results": [{"loinc": "2345-7", "value": "5.6", "unit": "mmol/L", "flag": "N"}]}


def lab_load(gateway: str):
    """Stock up and warm up; return load(seconds, keep_latencies) logging glucose tests through the gateway at 16
    clients (every request with a fresh Idempotency-Key)."""
    stock_up(gateway, token(gateway, "labhead"))
    headers = token(gateway, "labtech")
    url = f"{gateway}/api/v1/lab/test-runs"
    rounds = itertools.count()
    run_load(url, "POST", headers=headers, json_body_fn=test_run_body, clients=4, duration_s=2,
             headers_fn=lambda n: {"Idempotency-Key": f"warm-{n}"}, ok_statuses=(201,))

    def load(seconds: float, keep_latencies: list) -> dict:
        prefix = f"bench-{next(rounds)}"
        return run_load(url, "POST", headers=headers, json_body_fn=test_run_body, clients=CLIENTS,
                        duration_s=seconds, headers_fn=lambda n: {"Idempotency-Key": f"{prefix}-{n}"},
                        ok_statuses=(201,), keep_latencies=keep_latencies)

    return load


def main(duration_s: int = 20) -> None:
    """Measure both in turns, `duration_s` each in all, and print the ratio last."""
    with baseline_server() as baseline_url, start_stack() as stack:
        log_tests = lab_load(stack["gateway"])
        run_load(f"{baseline_url}/consume", "POST", clients=4, duration_s=2)
        figures = interleave({
            "baseline": lambda seconds, kept: run_load(f"{baseline_url}/consume", "POST", clients=CLIENTS,
                                                       duration_s=seconds, keep_latencies=kept),
            "lab": log_tests}, duration_s, rounds=4)
    baseline, logged = figures["baseline"], figures["lab"]
    print(f"(a) one-hop baseline:         {baseline}")
    print(f"(b) test run via the gateway: {logged}")
    print(f"p99 (b) {logged['p99_ms']} ms (target < 50 ms)")
    print(f"test-runs/s / baseline rps ratio (target >= 0.5): {logged['rps'] / baseline['rps']:.2f}")

if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
