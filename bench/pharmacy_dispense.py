"""Pharmacy dispensing throughput on the real path: 3-line prescriptions of real open visits, against the baseline.

Each request dispenses one unit of each of three lines (amoxicillin, metformin, amlodipine) FEFO, with an
Idempotency-Key, through the gateway: guarded decrements, stock-card rows, three charge.created delivered after
commit to the gateway, attached to the prescription's visit (32 visits opened at reception, patients with CCCD and an
80 % BHYT card) and handed on to billing as invoice lines. The baseline is bench/lab_log_test.py's (select for update,
guarded update, insert) on the same engine; both are driven by wrk (16 connections) in turns (four turns of 5 s each
by default). Target: dispenses/s >= 0.4 x baseline. The ratio is printed last.

Run: .venv/bin/python -m bench.pharmacy_dispense [seconds] [--sqlite]
"""

import sys
from datetime import date, timedelta

import requests

from bench.billing_lag import billing_caught_up
from bench.harness import baseline_server, engine_argument, keyed, open_visits, start_stack, token
from bench.load import interleave_wrk, wrk
from common.bounds import MAX_LINE_QUANTITY

CONNECTIONS = 16
VISITS = 32
PRESCRIPTIONS_PER_VISIT = 2  # in-flight dispenses rarely share a prescription, as at a real dispensing counter
DRUGS = ("40.158", "40.677", "40.509")  # amoxicillin 500 mg, metformin 850 mg, amlodipine 5 mg (seeded)


def stock_up(gateway: str, headers: dict) -> None:
    """Receive one large lot of each drug, so the run never runs out."""
    expires_on = (date.today() + timedelta(days=700)).isoformat()
    for index, code in enumerate(DRUGS):
        body = {"lot_number": f"BENCH{index:02d}", "expires_on": expires_on, "quantity": 50_000_000,
                "cost_amount": 300, "supplier": "Công ty CP Dược Hậu Giang"}
        response = requests.post(f"{gateway}/api/v1/pharmacy/drugs/{code}/lots", json=body, headers=keyed(headers),
                                 timeout=30)
        response.raise_for_status()


def dispense_bodies(gateway: str, headers: dict, visits: list[dict]) -> list[dict]:
    """Prescribe to every visit and return one dispense body per prescription (one unit of each line)."""
    bodies = []
    for visit in visits * PRESCRIPTIONS_PER_VISIT:
        body = {**visit, "prescriber": "BS. Trần Thị Lan",
                "lines": [{"drug_code": code, "quantity": MAX_LINE_QUANTITY, "instructions": "Ngày 1 viên"}
                          for code in DRUGS]}
        response = requests.post(f"{gateway}/api/v1/pharmacy/prescriptions", json=body, headers=headers, timeout=30)
        response.raise_for_status()
        prescription = response.json()
        bodies.append({"prescription_id": prescription["id"],
                       "lines": [{"line_id": line["id"], "quantity": 1} for line in prescription["lines"]]})
    return bodies


def pharmacy_load(gateway: str):
    """Open the visits, stock up and prescribe; return load(seconds) dispensing through the gateway."""
    visits = open_visits(gateway, VISITS)
    headers = token(gateway, "pharmacist")
    stock_up(gateway, headers)
    bodies = dispense_bodies(gateway, headers, visits)
    url = f"{gateway}/api/v1/pharmacy/dispenses"
    return lambda seconds: wrk(url, bodies, headers, connections=CONNECTIONS, duration_s=seconds)


def main(duration_s: int = 20, engine: str = "postgres") -> None:
    """Measure both in turns, `duration_s` each in all, and print the ratio last."""
    with baseline_server(engine) as baseline_url, start_stack(engine=engine) as stack:
        dispense = pharmacy_load(stack["gateway"])
        figures = interleave_wrk({
            "baseline": lambda seconds: wrk(f"{baseline_url}/consume", connections=CONNECTIONS, duration_s=seconds),
            "dispense": dispense}, duration_s, rounds=4,
            settle={"dispense": billing_caught_up(stack, "pharmacy_service", "SELECT count(*) FROM dispense_line")})
    print(f"engine: {engine}")
    print(f"one-hop baseline:            {figures['baseline']}")
    print(f"3-line dispense via gateway: {figures['dispense']}")
    print(f"dispenses/s / baseline rps ratio (target >= 0.4): "
          f"{figures['dispense']['rps'] / figures['baseline']['rps']:.2f}")


if __name__ == "__main__":
    chosen, args = engine_argument(sys.argv[1:])
    main(int(args[0]) if args else 20, chosen)
