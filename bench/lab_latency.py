"""Latency of logging a test at a steady offered rate on the real path: p99 at 50 logged tests/s, open loop.

Requests leave at a fixed rate whether or not earlier ones were answered (an open loop, as benches at a busy lab
send them), each a glucose test on one of 32 real open visits, so every charge travels on to the gateway and
billing during the measurement; latency counts from the moment a request was due. Target: p99 < 100 ms at
50/s. The p99 is printed last.

Run: .venv/bin/python -m bench.lab_latency [seconds] [rate] [--sqlite]
"""

import sys
import uuid

from bench.harness import engine_argument, open_visits, start_stack, token
from bench.lab_log_test import VISITS, stock_up, test_run_bodies
from bench.load import open_loop


def main(duration_s: int = 30, rate: float = 50, engine: str = "postgres") -> None:
    with start_stack(engine=engine) as stack:
        gateway = stack["gateway"]
        bodies = test_run_bodies(open_visits(gateway, VISITS))
        stock_up(gateway, token(gateway, "labhead"))
        headers = token(gateway, "labtech")
        url = f"{gateway}/api/v1/lab/test-runs"

        def body(number: int) -> dict:
            return bodies[number % len(bodies)]

        def key(_number: int) -> dict:
            return {**headers, "Idempotency-Key": str(uuid.uuid4())}

        open_loop(url, rate, 3, body, key, ok_statuses=(201,))  # warm up
        figures = open_loop(url, rate, duration_s, body, key, ok_statuses=(201,))
    print(f"engine: {engine}")
    print(f"logged tests at a fixed offered rate: {figures}")
    print(f"p99 ms at {rate:g}/s (target < 100): {figures['p99_ms']}")


if __name__ == "__main__":
    chosen, args = engine_argument(sys.argv[1:])
    main(int(args[0]) if args else 30, float(args[1]) if len(args) > 1 else 50, chosen)
