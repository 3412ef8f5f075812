"""Gateway charge intake and patient record reads, on the seeded visits of a fresh stack on PostgreSQL.

(a) bench/baseline_app.py: one-hop Flask + peewee (select for update, guarded update, insert).
(b) POST /internal/charges with the service token: store once by key, attach to an open visit, write the billing
    hand-off (charge + visit + card valid that day) to the outbox, deliver it to billing after commit.
(c) GET /api/v1/patients/<id>/record as the cashier once the visits hold those charges: visits, charges, recall
    warnings, and billing's bills and payments fetched on the reader's behalf.
16 concurrent clients on 127.0.0.1, bounded time each. Figures printed last: intake rps / baseline rps, record p99.
Run: .venv/bin/python -m bench.gateway_charges [seconds]
"""

import sys
from datetime import UTC, datetime

import requests

from bench.harness import baseline_server, run_load, start_stack, token

CLIENTS = 16


def open_visits(gateway: str, headers: dict) -> list[dict]:
    """Return the seeded open visits (id and patient id)."""
    response = requests.get(f"{gateway}/api/v1/encounters?status=open", headers=headers, timeout=10)
    response.raise_for_status()
    return response.json()


def charge_body_fn(visits: list[dict], prefix: str):
    """Build the n-th glucose charge as lab_service sends it, spread over the open visits."""

    def body(number: int) -> dict:
        visit = visits[number % len(visits)]
        return {"key": f"lab:test-run:{prefix}{number}", "source": "lab", "source_id": f"{prefix}{number}",
                "encounter_id": visit["id"], "patient_id": visit["patient_id"], "item_kind": "service",
                "code": "23.0075.1494", "name": "Định lượng Glucose [Máu]", "unit": "lần", "quantity": 1,
                "unit_price_amount": 21_500, "insurance_unit_price_amount": 21_500, "insurance_covered": True,
                "insurance_rate": 100, "amount": 21_500, "cost_amount": 3_660,
                "occurred_at": datetime.now(UTC).isoformat(), "details": {"loinc": "2345-7"}}

    return body


def measure_gateway(duration_s: int) -> tuple[dict, dict]:
    """Measure charge intake, then record reads, on a fresh stack."""
    with start_stack() as stack:
        gateway = stack["gateway"]
        cashier = token(gateway, "cashier")
        visits = open_visits(gateway, cashier)
        internal = {"X-Service-Token": stack["env"]["SERVICE_TOKEN"], "X-Service-Name": "lab_service"}
        url = f"{gateway}/internal/charges"
        run_load(url, "POST", headers=internal, json_body_fn=charge_body_fn(visits, "warm-"), clients=4,
                 duration_s=2, ok_statuses=(201,))
        intake = run_load(url, "POST", headers=internal, json_body_fn=charge_body_fn(visits, "bench-"),
                          clients=CLIENTS, duration_s=duration_s, max_requests=5000, ok_statuses=(201,))
        record_url = f"{gateway}/api/v1/patients/{visits[0]['patient_id']}/record?visits=20"
        run_load(record_url, headers=cashier, clients=4, duration_s=2)
        record = run_load(record_url, headers=cashier, clients=CLIENTS, duration_s=duration_s, max_requests=5000)
    return intake, record


def measure_baseline(duration_s: int) -> dict:
    """Run the one-hop baseline at 16 clients; return the load figures."""
    with baseline_server() as url:
        run_load(f"{url}/consume", "POST", clients=4, duration_s=2)
        return run_load(f"{url}/consume", "POST", clients=CLIENTS, duration_s=duration_s)


def main(duration_s: int = 10) -> None:
    """Measure all three and print the comparable figures last."""
    baseline = measure_baseline(duration_s)
    intake, record = measure_gateway(duration_s)
    print(f"(a) one-hop baseline:                {baseline}")
    print(f"(b) charge intake + billing hand-off: {intake}")
    print(f"(c) patient record with billing:      {record}")
    print(f"record p99 {record['p99_ms']} ms; intake p99 {intake['p99_ms']} ms")
    print(f"charge intake rps / baseline rps: {intake['rps'] / baseline['rps']:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
