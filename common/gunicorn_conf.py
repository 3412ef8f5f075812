"""gunicorn settings every service process starts with (`gunicorn --config python:common.gunicorn_conf ...`:
`make run`, docker-compose, the benches).

Once a worker has loaded its app, everything built at start-up (Flask, marshmallow schemas, peewee models, the
translations: some 80,000 objects that live as long as the process) is collected once and frozen out of
the garbage collector's reach. Without it, each full collection walked all of them again: 45-110 ms with the GIL
held, every few seconds under load, and every request in flight in that process waited (measured in the fourth
session of 2026-12-01; afterwards a full collection took under 1 ms).

The interpreter's switch interval is 1 ms instead of 5: while one thread works in Python (an inbox batch, a flush),
a request thread back from the database waits for the GIL up to the interval at each of its round trips. At 50
logged tests/s the p99 fell from a median of 111 ms to 94 ms over six alternating runs; throughput did not move
(docs/performance.md has the figures, and the smaller change against the session's start commit).
"""

import gc
import sys

SWITCH_INTERVAL_SECONDS = 0.001


def post_worker_init(_worker) -> None:
    gc.collect()
    gc.freeze()
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
