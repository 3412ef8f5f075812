"""Gateway overhead: an authenticated GET straight to lab_service vs the same GET through the gateway.

16 concurrent clients on 127.0.0.1 for a bounded time each. Target: gateway throughput >= 0.6 x direct.
Run: .venv/bin/python -m bench.gateway_overhead [seconds]
"""

import sys

from bench.harness import run_load, start_stack, token


def main(duration_s: int = 10) -> None:
    with start_stack() as stack:
        headers = token(stack["gateway"], "labtech")
        path = "/api/v1/lab/reagents"
        run_load(stack["lab_service"] + path, headers=headers, clients=4, duration_s=2)  # warm both paths
        run_load(stack["gateway"] + path, headers=headers, clients=4, duration_s=2)
        direct = run_load(stack["lab_service"] + path, headers=headers, clients=16, duration_s=duration_s)
        through = run_load(stack["gateway"] + path, headers=headers, clients=16, duration_s=duration_s)
    print(f"direct   GET {path}: {direct}")
    print(f"gateway  GET {path}: {through}")
    print(f"p99 direct {direct['p99_ms']} ms, p99 via gateway {through['p99_ms']} ms")
    print(f"gateway/direct throughput ratio: {through['rps'] / direct['rps']:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
