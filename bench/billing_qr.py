"""VietQR issue: a cashier's payment request plus its PNG through the gateway vs bare qrcode PNG generation.

8 concurrent clients for a bounded time each, in the same run. One operation through the stack is
POST /api/v1/billing/invoices/<id>/payment-requests {"method": "vietqr"} followed by GET .../qr.png, both via the
gateway, spread over 64 patients' bills. The bare operation is qrcode rendering a payload of the same size to PNG in
this process from 8 threads. Target: our p99 <= 3 x the bare p99. The ratio is printed last.
Run: .venv/bin/python -m bench.billing_qr [seconds]
"""

import io
import secrets
import sys
from datetime import UTC, datetime

import qrcode
import requests

from bench.harness import start_stack, timed_loop, token
from billing_service.vietqr import build_payload

CLIENTS = 8
BILLS = 64
MAX_OPERATIONS = 20_000


def bare_png(_state) -> bool:
    """Render a VietQR-sized payload to PNG with qrcode's defaults, in process."""
    payload = build_payload("970415", "113366668888", 147_200 + _state["number"], purpose="HD000042")
    buffer = io.BytesIO()
    qrcode.make(payload).save(buffer, format="PNG")
    return buffer.tell() > 0


def open_bills(stack: dict) -> list[int]:
    """Put a 147 200 đồng self-pay charge on 64 visits, straight into billing (setup, not measured)."""
    headers = {"X-Service-Token": stack["env"]["SERVICE_TOKEN"], "X-Service-Name": "bench"}
    now = datetime.now(UTC).isoformat()
    for n in range(BILLS):
        patient = {"id": f"BN{n:06d}", "full_name": "Nguyễn Văn An", "birth_date": "1985-03-12", "sex": "male",
                   "cccd": f"0010850{n:05d}", "address": "12 Phố Huế, Hai Bà Trưng, Hà Nội"}
        visit = {"id": f"BENCH-{n}", "kind": "outpatient", "department": "K01", "in_network": True,
                 "opened_at": now, "patient": patient, "coverage": None}
        charge = {"key": f"lab:test-run:bench-{n}", "source": "lab", "source_id": str(n), "encounter_id": visit["id"],
                  "patient_id": patient["id"], "item_kind": "service", "code": "23.0083.1523",
                  "name": "Định lượng HbA1c [Máu]", "unit": "Lần", "quantity": 1, "unit_price_amount": 147_200,
                  "insurance_unit_price_amount": 147_200, "insurance_covered": True, "amount": 147_200,
                  "occurred_at": now}
        response = requests.post(f"{stack['billing_service']}/internal/charges", json={"charge": charge,
                                 "encounter": visit}, headers=headers, timeout=10)
        response.raise_for_status()
    listing = requests.get(f"{stack['billing_service']}/api/v1/billing/invoices", params={"limit": BILLS},
                           headers=token(stack["gateway"], "finance"), timeout=10).json()
    return [invoice["id"] for invoice in listing]


def through_gateway(gateway: str, headers: dict, bills: list[int]):
    run = secrets.token_hex(4)

    def operation(state) -> bool:
        number, session = state["number"], state["session"]
        issued = session.post(f"{gateway}/api/v1/billing/invoices/{bills[number % len(bills)]}/payment-requests",
                              json={"method": "vietqr"}, timeout=30,
                              headers={**headers, "Idempotency-Key": f"bench-{run}-{number}"})
        if issued.status_code != 201:
            return False
        png = session.get(gateway + issued.json()["qr_png_url"], headers=headers, timeout=30)
        return png.status_code == 200 and png.content.startswith(b"\x89PNG")

    return operation


def main(duration_s: int = 10) -> None:
    with start_stack() as stack:
        bills = open_bills(stack)
        headers = token(stack["gateway"], "cashier")
        operation = through_gateway(stack["gateway"], headers, bills)
        timed_loop(operation, 2, 2)  # warm connections and workers
        timed_loop(bare_png, 2, 1)
        ours = timed_loop(operation, CLIENTS, duration_s, MAX_OPERATIONS)
        bare = timed_loop(bare_png, CLIENTS, duration_s, MAX_OPERATIONS)
    print(f"bare qrcode PNG ({CLIENTS} threads in process): {bare}")
    print(f"VietQR request + PNG via gateway ({CLIENTS} clients): {ours}")
    print(f"p99 ours {ours['p99_ms']} ms, p99 bare {bare['p99_ms']} ms (target ratio <= 3)")
    print(f"p99 ratio ours/bare: {ours['p99_ms'] / bare['p99_ms']:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
