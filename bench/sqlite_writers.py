"""Writers of one process on one SQLite file: SQLite's busy handler against common.db's writer queue.

8 threads (as a `make run` service has) run write transactions on one SQLite file (WAL, BEGIN IMMEDIATE, the
pragmas of common.db) at a fixed offered rate of 200/s in all (open loop: each is due at its time, whatever the
others do): an insert, 2 ms of work with the write lock held, COMMIT; one in 50 holds the lock 100 ms, as a commit
does when the disk stalls (traced on `make run`'s default under the 50/s lab bench: commits of 0.6-0.7 s). Once through
peewee's plain SqliteDatabase, where a writer that finds the lock taken sleeps in SQLite's busy handler (steps
that grow to 100 ms), once through common.db.SqliteWriters, where it waits on this process's writer lock and is
woken when the lock is let go. Same file layout, same work, in turns (plain, queued, plain, queued). Prints the p99
of a transaction's time (from when it was due to COMMIT done) of each, and last the ratio queued / plain.

Run: .venv/bin/python -m bench.sqlite_writers [transactions per thread]
"""

import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import peewee

from bench.harness import percentile
from common.db import SQLITE_PRAGMAS, SqliteWriters

THREADS = 8
RATE = 200  # transactions per second, all threads together
WORK_S = 0.002
STALL_S, STALL_EVERY = 0.1, 50


def run(database_class, folder: Path, per_thread: int) -> list[float]:
    """Every transaction's time in ms (in the order they ended), `per_thread` on each of THREADS threads."""
    db = database_class(str(folder / f"{database_class.__name__}.db"), pragmas=SQLITE_PRAGMAS,
                        check_same_thread=False, lock_type="IMMEDIATE")
    db.execute_sql("CREATE TABLE IF NOT EXISTS entry (id INTEGER PRIMARY KEY, thread INTEGER, body TEXT)")
    times: list[float] = []
    lock = threading.Lock()
    start = time.perf_counter() + 0.05

    def writer(number: int) -> None:
        mine = []
        for index in range(per_thread):
            sequence = index * THREADS + number  # the transactions of all threads, due one after another
            due = start + sequence / RATE
            time.sleep(max(0.0, due - time.perf_counter()))
            with db.atomic():
                db.execute_sql("INSERT INTO entry (thread, body) VALUES (?, ?)", (number, "x" * 200))
                time.sleep(STALL_S if sequence % STALL_EVERY == 0 else WORK_S)  # the verb's work, the lock held
            mine.append((time.perf_counter() - due) * 1000)
        db.close()
        with lock:
            times.extend(mine)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.close()
    return times


def main(per_thread: int = 250) -> None:
    folder = Path(tempfile.mkdtemp(prefix="sqlite_writers_"))
    try:
        figures = {"plain": [], "queued": []}
        for _round in range(2):
            figures["plain"] += run(peewee.SqliteDatabase, folder, per_thread)
            figures["queued"] += run(SqliteWriters, folder, per_thread)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    p99 = {}
    for name, times in figures.items():
        times.sort()
        p99[name] = percentile(times, 0.99)
        print(f"{name:7s} p50 {percentile(times, 0.5):6.1f} ms  p99 {p99[name]:6.1f} ms  max {times[-1]:6.1f} ms "
              f"({len(times)} transactions, {THREADS} threads)")
    print(f"p99 queued / plain (lower is better): {p99['queued'] / p99['plain']:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 250)
