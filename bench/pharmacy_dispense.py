"""Pharmacy dispensing throughput: a 3-line prescription dispensed through the gateway, against the one-hop baseline.

Each request dispenses one unit of each of three lines (amoxicillin, metformin, amlodipine) FEFO, with an
Idempotency-Key, through the gateway to pharmacy_service on PostgreSQL: guarded decrements, ledger rows, three
charge.created outbox rows delivered to the gateway after commit. 16 concurrent clients, bounded time.
The baseline of bench/lab_log_test.py (bench/baseline_app.py: select for update, guarded update, insert) runs in the
same run, in turns with the dispenses (four turns of 5 s each by default) so a drift in the machine's speed hits
both alike.
Target: dispenses/s >= 0.4 x baseline. The ratio is printed last.

Run: .venv/bin/python -m bench.pharmacy_dispense [seconds]
"""

import itertools
import sys
from datetime import date, timedelta

import requests

from bench.harness import baseline_server, interleave, run_load, start_stack, token

CLIENTS = 16
PRESCRIPTIONS = 64  # in-flight dispenses rarely share a prescription, as at a real dispensing counter
DRUGS = ("40.158", "40.677", "40.509")  # amoxicillin 500 mg, metformin 850 mg, amlodipine 5 mg (seeded)


def stock_up(gateway: str, headers: dict) -> None:
    """Receive one large lot of each drug, so the run never runs out."""
    expires_on = (date.today() + timedelta(days=700)).isoformat()
    for index, code in enumerate(DRUGS):
        body = {"lot_number": f"BENCH{index:02d}", "expires_on": expires_on, "quantity": 50_000_000,
                "cost_amount": 300, "supplier": "Công ty CP Dược Hậu Giang"}
        response = requests.post(f"{gateway}/api/v1/pharmacy/drugs/{code}/lots", json=body, headers=headers,
                                  timeout=30)
        response.raise_for_status()


def prescriptions(gateway: str, headers: dict) -> list[dict]:
    """Create the pool of long-running prescriptions the load dispenses from, one unit per line each time."""
    created = []
    for number in range(PRESCRIPTIONS):
        body = {"encounter_id": str(100_000 + number), "patient_id": str(50_000 + number),
                "prescriber": "BS. Trần Thị Lan",
                "lines": [{"drug_code": code, "quantity": 1_000_000, "instructions": "Ngày 1 viên"} for code in DRUGS]}
        response = requests.post(f"{gateway}/api/v1/pharmacy/prescriptions", json=body, headers=headers, timeout=30)
        response.raise_for_status()
        created.append(response.json())
    return created


def pharmacy_load(gateway: str):
    """Stock up, create the prescription pool and warm up; return load(seconds, keep_latencies) dispensing through
    the gateway at 16 clients (every request with a fresh Idempotency-Key)."""
    headers = token(gateway, "pharmacist")
    stock_up(gateway, headers)
    pool = prescriptions(gateway, headers)

    def body(number: int) -> dict:
        """Dispense one unit of each line of the n-th prescription of the pool."""
        prescription = pool[number % len(pool)]
        return {"prescription_id": prescription["id"],
                "lines": [{"line_id": line["id"], "quantity": 1} for line in prescription["lines"]]}

    url = f"{gateway}/api/v1/pharmacy/dispenses"
    rounds = itertools.count()
    run_load(url, "POST", headers=headers, json_body_fn=body, clients=4, duration_s=2,
             headers_fn=lambda n: {"Idempotency-Key": f"warm-{n}"}, ok_statuses=(201,))

    def load(seconds: float, keep_latencies: list) -> dict:
        prefix = f"bench-{next(rounds)}"
        return run_load(url, "POST", headers=headers, json_body_fn=body, clients=CLIENTS, duration_s=seconds,
                        headers_fn=lambda n: {"Idempotency-Key": f"{prefix}-{n}"}, ok_statuses=(201,),
                        keep_latencies=keep_latencies)

    return load


def main(duration_s: int = 20) -> None:
    """Measure both in turns, `duration_s` each in all, and print the ratio last."""
    with baseline_server() as baseline_url, start_stack() as stack:
        dispense = pharmacy_load(stack["gateway"])
        run_load(f"{baseline_url}/consume", "POST", clients=4, duration_s=2)
        figures = interleave({
            "baseline": lambda seconds, kept: run_load(f"{baseline_url}/consume", "POST", clients=CLIENTS,
                                                       duration_s=seconds, keep_latencies=kept),
            "dispense": dispense}, duration_s, rounds=4)
    print(f"3-line dispense via gateway: {figures['dispense']}")
    print(f"one-hop baseline:            {figures['baseline']}")
    print(f"dispenses/s / baseline rps ratio (target >= 0.4): "
          f"{figures['dispense']['rps'] / figures['baseline']['rps']:.2f}")

if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
