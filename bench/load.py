"""Load generators for the benches, on 127.0.0.1 only and bounded in time: wrk (a C load generator whose own CPU
cost is small) for closed-loop throughput, and an open loop at a fixed offered rate for latency percentiles."""

import json
import re
import secrets
import shutil
import subprocess
import threading
import time
from pathlib import Path

import requests

from bench.harness import ROOT, percentile

WRK_SCRIPT = ROOT / "bench" / "wrk" / "bodies.lua"


def wrk(url: str, bodies: list[dict] | None = None, headers: dict | None = None, connections: int = 16,
        duration_s: float = 5, key_prefix: str | None = None) -> dict:
    """Load `url` with wrk (a C load generator: its own CPU cost is small) for `duration_s` at `connections`
    concurrent POSTs, each with the next of `bodies` and a fresh Idempotency-Key; report rps, latencies, errors."""
    assert url.startswith("http://127.0.0.1"), "load only addresses on this machine"
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian package wrk): apt-get install -y wrk")
    folder = Path(f"/tmp/wrk_{secrets.token_hex(4)}")
    folder.mkdir()
    try:
        bodies_path = folder / "bodies.jsonl"
        bodies_path.write_text("".join(json.dumps(body, ensure_ascii=False) + "\n" for body in bodies or []))
        args = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{max(1, round(duration_s))}s", "--timeout", "30s",
                "--latency", "-s", str(WRK_SCRIPT), url, "--", str(bodies_path) if bodies else "",
                key_prefix or f"wrk-{secrets.token_hex(4)}", *(f"{k}: {v}" for k, v in (headers or {}).items())]
        output = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return _wrk_figures(output)


def _wrk_figures(output: str) -> dict:
    def millis(text: str) -> float:
        number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
        return round(float(number) * {"us": 0.001, "ms": 1, "s": 1000}[unit], 2)

    total = int(re.search(r"(\d+) requests in ([\d.]+)(m?s)", output).group(1))
    seconds_text = re.search(r"requests in ([\d.]+)(m?s)", output)
    seconds = float(seconds_text.group(1)) / (1000 if seconds_text.group(2) == "ms" else 1)
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = int(failed.group(1)) if failed else 0
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    percentiles = dict(re.findall(r"^\s+(50|99)(?:\.000)?%\s+(\S+)$", output, re.MULTILINE))
    return {"rps": round((total - errors) / seconds, 1), "ok": total - errors, "errors": errors,
            "seconds": round(seconds, 2),  # wrk leaves its latency table out on some short turns: no figure then
            "p50_ms": millis(percentiles["50"]) if "50" in percentiles else None,
            "p99_ms": millis(percentiles["99"]) if "99" in percentiles else None}


def interleave_wrk(loads: dict, duration_s: float, rounds: int = 4, pause_s: float = 1.0,
                   warm_up_s: float = 3.0, settle: dict | None = None) -> dict[str, dict]:
    """Measure several wrk loads in turns (a, b, a, b...), `duration_s` in all for each; sum up each one's turns.

    `loads` maps a name to `load(seconds) -> figures` (a wrk call). Taking turns makes a ratio between them fair
    when the machine's speed drifts during the run; the pause lets one load's background work (outbox deliveries,
    the billing hand-off, alerts) settle before the next is measured. p99 is the worst turn's (None when no turn
    had a latency table). Each load first runs one turn of `warm_up_s` at its full concurrency that is not counted:
    on a stack just started, the first counted lab turn ran at two thirds of the later turns' rate (105 against
    150-160 logged tests/s, 2026-12-02), which a warm-up of 2 s at 4 connections did not remove.

    `settle` maps a load's name to settle() -> {"behind", "made", "seconds"} (`billing_lag.billing_caught_up`), run
    after each of its turns, the warm-up too: the next turn starts once that turn's work is done, and the figures
    say how much of it was still to do when the turn ended ("settle": the largest share behind, the longest wait).
    """
    settle = settle or {}
    for name, load in loads.items():
        time.sleep(pause_s)
        load(warm_up_s)
        if name in settle:
            settle[name]()
    totals = {name: {"ok": 0, "errors": 0, "seconds": 0.0, "p99_ms": None, "p50_ms": []} for name in loads}
    settled = {name: {"behind": 0.0, "seconds": 0.0} for name in settle}
    for _round in range(rounds):
        for name, load in loads.items():
            time.sleep(pause_s)
            figures = load(duration_s / rounds)
            total = totals[name]
            for field in ("ok", "errors", "seconds"):
                total[field] += figures[field]
            if figures["p99_ms"] is not None:
                total["p99_ms"] = max(total["p99_ms"] or 0.0, figures["p99_ms"])
                total["p50_ms"].append(figures["p50_ms"])
            if name in settle:
                caught_up = settle[name]()
                share = caught_up["behind"] / caught_up["made"] if caught_up["made"] else 0.0
                settled[name] = {"behind": round(max(settled[name]["behind"], share), 3),
                                 "seconds": max(settled[name]["seconds"], caught_up["seconds"])}
    return {name: {"rps": round(t["ok"] / t["seconds"], 1), "ok": t["ok"], "errors": t["errors"],
                   "seconds": round(t["seconds"], 2),
                   "p50_ms": sorted(t["p50_ms"])[len(t["p50_ms"]) // 2] if t["p50_ms"] else None,
                   "p99_ms": t["p99_ms"], "rounds": rounds,
                   **({"settle": settled[name]} if name in settled else {})} for name, t in totals.items()}


def open_loop(url: str, rate: float, duration_s: float, body_fn, headers_fn, ok_statuses=(200, 201)) -> dict:
    """Send POSTs at a fixed rate (open loop: each request leaves at its scheduled time, whether or not the earlier
    ones have been answered) for `duration_s`; latency counts from the scheduled time. Report p50/p99 and errors."""
    assert url.startswith("http://127.0.0.1"), "load only addresses on this machine"
    from concurrent.futures import ThreadPoolExecutor

    sessions = threading.local()
    latencies, failures = [], []
    lock = threading.Lock()

    def send(number: int, scheduled: float) -> None:
        session = getattr(sessions, "session", None) or requests.Session()
        sessions.session = session
        try:
            response = session.post(url, json=body_fn(number), headers=headers_fn(number), timeout=30)
            good = response.status_code in ok_statuses
        except requests.RequestException:
            good = False
        elapsed = time.perf_counter() - scheduled
        with lock:
            (latencies if good else failures).append(elapsed)

    count = int(rate * duration_s)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=64) as pool:
        for number in range(count):
            scheduled = started + number / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(send, number, scheduled)
    latencies.sort()
    return {"rate": rate, "sent": count, "ok": len(latencies), "errors": len(failures),
            "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
            "p99_ms": round(percentile(latencies, 0.99) * 1000, 1)}
