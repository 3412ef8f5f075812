"""Lab test logging throughput on the real path: glucose tests on real open visits, against the one-hop baseline.

(a) bench/baseline_app.py: minimal Flask + peewee on the same engine (select for update, guarded update, insert).
(b) POST /api/v1/lab/test-runs through the gateway with an Idempotency-Key: a glucose test on the AU480 (seeded
    recipe), FEFO over the seeded lots and a large bench lot, guarded decrements, ledger rows, the run, and its
    charge.created delivered after commit to the gateway, attached to one of 32 visits opened at reception (patients
    with CCCD and an 80 % BHYT card), and handed on to billing as an invoice line: the whole life of a charge runs
    on the same two cores while the load is measured.
Both are driven by wrk (16 connections) in turns (a, b, a, b...: four turns of 5 s each by default) so a drift in the
machine's speed hits both alike. Target: (b) >= 0.5 x (a) in requests/s. The ratio is printed last.

Run: .venv/bin/python -m bench.lab_log_test [seconds] [--sqlite]
"""

import sys
from datetime import date, timedelta

import requests

from bench.billing_lag import billing_caught_up
from bench.harness import baseline_server, engine_argument, keyed, open_visits, start_stack, token
from bench.load import interleave_wrk, wrk

CONNECTIONS = 16
VISITS = 32
RESULTS = [{"loinc": "2345-7", "value": "5.6", "unit": "mmol/L", "flag": "N"}]


def stock_up(gateway: str, headers: dict) -> None:
    """Receive one large glucose lot so the run never runs out (the seeded lots are used first, FEFO)."""
    body = {"lot_number": "GLBENCH01", "expires_on": (date.today() + timedelta(days=700)).isoformat(),
            "quantity": 10**8, "cost_amount": 3 * 10**8, "supplier": "Công ty TNHH Thiết bị Y tế Việt Đức"}
    response = requests.post(f"{gateway}/api/v1/lab/reagents/GLU-R1/lots", json=body, headers=keyed(headers),
                             timeout=30)
    response.raise_for_status()


def test_run_bodies(visits: list[dict]) -> list[dict]:
    """One glucose test body per open visit (the load uses them in turn)."""
    return [{"encounter_id": visit["encounter_id"], "patient_id": visit["patient_id"], "test_code": "GLU",
             "analyzer_code": "AU480", "results": RESULTS} for visit in visits]


def lab_load(gateway: str):
    """Open the visits and stock up; return load(seconds) logging glucose tests through the gateway."""
    bodies = test_run_bodies(open_visits(gateway, VISITS))
    stock_up(gateway, token(gateway, "labhead"))
    headers = token(gateway, "labtech")
    url = f"{gateway}/api/v1/lab/test-runs"
    return lambda seconds: wrk(url, bodies, headers, connections=CONNECTIONS, duration_s=seconds)


def main(duration_s: int = 20, engine: str = "postgres") -> None:
    """Measure both in turns, `duration_s` each in all, and print the ratio last."""
    with baseline_server(engine) as baseline_url, start_stack(engine=engine) as stack:
        log_tests = lab_load(stack["gateway"])
        figures = interleave_wrk({
            "baseline": lambda seconds: wrk(f"{baseline_url}/consume", connections=CONNECTIONS, duration_s=seconds),
            "lab": log_tests}, duration_s, rounds=4,
            settle={"lab": billing_caught_up(stack, "lab_service", "SELECT count(*) FROM test_run WHERE billed")})
    baseline, logged = figures["baseline"], figures["lab"]
    print(f"engine: {engine}")
    print(f"(a) one-hop baseline:         {baseline}")
    print(f"(b) test run via the gateway: {logged}")
    print(f"test-runs/s / baseline rps ratio (target >= 0.5): {logged['rps'] / baseline['rps']:.2f}")


if __name__ == "__main__":
    chosen, args = engine_argument(sys.argv[1:])
    main(int(args[0]) if args else 20, chosen)
