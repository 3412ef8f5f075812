"""Shared benchmark harness: bounded load from threads on 127.0.0.1, a full stack on PostgreSQL, the baseline.

Load only ever targets 127.0.0.1, with bounded request counts and durations.
"""

import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from contextlib import closing, contextmanager
from pathlib import Path

import psycopg2
import requests

from bench.people import random_cccd, random_vietnamese_name

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("gateway", "lab_service", "pharmacy_service", "billing_service")
PYTHON = sys.executable


# free_port hands out ports from a block that this process holds alone, claimed with an flock in the temp folder:
# runs at once (both engines, pytest-xdist workers, a benchmark) never get the same port. Bind-to-0 could give two
# processes the same one (a port one of them checked and let go is the next one the kernel hands out). The blocks lie
# below Linux's ephemeral range (32768-60999), where bind-to-0 and outgoing connections take their ports.
PORT_BLOCKS = range(10_000, 32_000, 1_000)
PORT_BLOCK_SIZE = 1_000
_ports = {"block": None, "next": 0, "lock_file": None}
_ports_lock = threading.Lock()


def _claim_port_block() -> int:
    import fcntl
    import tempfile

    folder = Path(tempfile.gettempdir()) / "hospital-ports"
    folder.mkdir(exist_ok=True)
    for start in PORT_BLOCKS:
        lock_file = open(folder / f"block-{start}.lock", "a")  # held open: the claim lasts as long as the process
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock_file.close()
            continue
        _ports.update(block=start, next=0, lock_file=lock_file, pid=os.getpid())
        return start
    raise RuntimeError(f"every port block in {folder} is held by another process")


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listens on and that no other process using free_port is handed."""
    with _ports_lock:
        if _ports["block"] is None or _ports.get("pid") != os.getpid():  # a forked child claims its own block
            _claim_port_block()
        for _ in range(PORT_BLOCK_SIZE):
            port = _ports["block"] + _ports["next"]
            _ports["next"] = (_ports["next"] + 1) % PORT_BLOCK_SIZE
            with closing(socket.socket()) as sock:
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    continue  # in use, or still closing: the next one
                return port
        raise RuntimeError(f"no free port in {_ports['block']}-{_ports['block'] + PORT_BLOCK_SIZE - 1}")


def percentile(sorted_values: list, fraction: float):
    if not sorted_values:
        return 0
    index = min(len(sorted_values) - 1, int(len(sorted_values) * fraction))
    return sorted_values[index]


def timed_loop(operation, clients: int = 16, duration_s: float = 10, max_operations: int = 20000,
               keep_latencies: list | None = None) -> dict:
    """Run `operation(state) -> bool` from `clients` threads until time or the count runs out; report rps and p99.

    `state` is per thread: a requests session and a `number` unique across threads (i, i + clients, ...).
    `keep_latencies`, when given, receives every latency (ns), so a caller can sum up several rounds.
    """
    latencies: list[int] = []
    counts = {"ok": 0, "errors": 0}
    lock = threading.Lock()
    deadline = time.perf_counter() + duration_s

    def worker(index: int):
        state = {"session": requests.Session(), "number": index}
        while time.perf_counter() < deadline and counts["ok"] + counts["errors"] < max_operations:
            started = time.perf_counter_ns()
            try:
                good = operation(state)
            except requests.RequestException:
                good = False
            elapsed = time.perf_counter_ns() - started
            state["number"] += clients
            with lock:
                latencies.append(elapsed)
                counts["ok" if good else "errors"] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if keep_latencies is not None:
        keep_latencies.extend(latencies)
    latencies.sort()
    return {"rps": round(counts["ok"] / wall, 1), "p50_ms": round(percentile(latencies, 0.50) / 1e6, 2),
            "p99_ms": round(percentile(latencies, 0.99) / 1e6, 2), "ok": counts["ok"], "errors": counts["errors"],
            "seconds": round(wall, 2)}


def run_load(url: str, method: str = "GET", headers: dict | None = None, json_body_fn=None, clients: int = 16,
             duration_s: float = 10, max_requests: int = 20000, headers_fn=None, ok_statuses=(200, 201),
             keep_latencies: list | None = None) -> dict:
    """Hit `url` from `clients` threads until `duration_s` passes or `max_requests` are sent; report rps and p99."""
    assert url.startswith("http://127.0.0.1"), "load only addresses on this machine"

    def request(state) -> bool:
        number = state["number"]
        merged = {**(headers or {}), **(headers_fn(number) if headers_fn else {})}
        body = json_body_fn(number) if json_body_fn else None
        response = state["session"].request(method, url, json=body, headers=merged, timeout=30)
        return response.status_code in ok_statuses

    return timed_loop(request, clients, duration_s, max_requests, keep_latencies)


def _admin():
    conn = psycopg2.connect(dbname="postgres", user="postgres", host="127.0.0.1", port=5432)
    conn.autocommit = True
    return conn


def _create_databases(names):
    if not names:
        return
    with closing(_admin()) as conn, conn.cursor() as cur:
        for name in names:
            cur.execute(f'CREATE DATABASE "{name}"')


def _drop_databases(names):
    if not names:
        return
    with closing(_admin()) as conn, conn.cursor() as cur:
        for name in names:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _wait_healthy(urls, processes, timeout=60):
    deadline = time.monotonic() + timeout
    for url in urls:
        while True:
            try:
                if requests.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                raise RuntimeError(f"{url} did not become healthy")
            time.sleep(0.05)


def _stop(processes):
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


# Debian's Chromium, as the browser tests and bench/pages.py launch it (a browser download cannot work here)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run")
WORKERS = 1  # as `make run` (WEB_CONCURRENCY): one gunicorn process per service, 8 threads


def gunicorn(app_spec: str, port: int, env: dict, workers: int = WORKERS, threads: int = 8, log=None):
    """Start one app under gunicorn (gthread) on 127.0.0.1:port, in its own process group."""
    args = [PYTHON, "-m", "gunicorn", "--config", "python:common.gunicorn_conf", "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers), "--worker-class", "gthread", "--no-control-socket", "--threads", str(threads),
            "--log-level", "warning", app_spec]
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT,
                            start_new_session=True)


class Stack:
    """The running services of start_stack: their URLs (stack["gateway"]), env, and stop/start per service."""

    def __init__(self, env: dict, ports: dict, workers: int, log_dir: Path | None = None):
        self.env, self.ports, self.workers, self.log_dir = env, ports, workers, log_dir
        self.urls = {s: f"http://127.0.0.1:{p}" for s, p in ports.items()}
        self.processes: dict[str, subprocess.Popen] = {}

    def __getitem__(self, name: str):
        return self.env if name == "env" else self.urls[name]

    def _log(self, name: str):
        return open(self.log_dir / f"{name}.log", "ab") if self.log_dir else None

    def start(self, service: str, wait: bool = True) -> None:
        """Start one service, or a sweeper or rq worker (a name starting with 'sweeper' or 'worker', so several
        can run), and wait until a service answers (unless `wait` is false: see `wait_healthy`)."""
        if service.startswith("sweeper"):
            self.processes[service] = _manage_process(["sweep"], self.env, self._log(service))
        elif service.startswith("worker"):
            self.processes[service] = _manage_process(["worker"], self.env, self._log(service))
        else:
            self.processes[service] = gunicorn(f"{service}:create_app()", self.ports[service], self.env,
                                               workers=self.workers, log=self._log(service))
            if wait:
                self.wait_healthy([service])

    def wait_healthy(self, services) -> None:
        """Wait until each of these services answers /healthz (fails when one of them exits)."""
        _wait_healthy([self.urls[s] for s in services], [self.processes[s] for s in services])

    def logs(self) -> str:
        """Everything the processes wrote so far (with a log_dir)."""
        return "".join(path.read_text(errors="replace") for path in sorted(self.log_dir.glob("*.log")))

    def stop(self, service: str) -> None:
        """Stop one process we started, by its pid."""
        process = self.processes.pop(service, None)
        if process is not None:
            _stop([process])

    def stop_all(self) -> None:
        _stop(list(self.processes.values()))
        self.processes.clear()


def _manage_process(args: list[str], env: dict, log=None) -> subprocess.Popen:
    return subprocess.Popen([PYTHON, "-m", "manage", *args], cwd=ROOT, env=env, stdout=log or subprocess.DEVNULL,
                            stderr=subprocess.STDOUT, start_new_session=True)


@contextmanager
def start_stack(env_overrides: dict | None = None, sweeper: bool = True, redis_url: str | None = None,
                workers: int = WORKERS, seed: bool = True, engine: str = "postgres", log_dir: Path | None = None):
    """Run the four services under gunicorn (plus sweeper, and an rq worker when `redis_url` is given); yield a
    Stack. `engine`: "postgres" (fresh databases on 127.0.0.1:5432) or "sqlite" (the `make run` default: SQLite
    files in a fresh VAR_DIR, jobs in-process). `log_dir`: where each process writes its log."""
    run_id = f"bench_{secrets.token_hex(3)}"
    names = [f"{run_id}_{s}" for s in SERVICES] if engine == "postgres" else []
    ports = {s: free_port() for s in SERVICES}
    env = dict(os.environ, APP_ENV="development", LOG_LEVEL="WARNING", JWT_SECRET=secrets.token_urlsafe(32),
               SERVICE_TOKEN=secrets.token_urlsafe(32), BANK_WEBHOOK_SECRET=secrets.token_urlsafe(32),
               STRIPE_WEBHOOK_SECRET=secrets.token_urlsafe(32), VAR_DIR=f"/tmp/{run_id}", QUEUE_PREFIX=f"{run_id}:")
    for name in ("REDIS_URL", "DATABASE_URL", *(f"{s.upper()}_DATABASE_URL" for s in SERVICES)):
        env.pop(name, None)
    for service in SERVICES:
        if engine == "postgres":
            env[f"{service.upper()}_DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{run_id}_{service}"
        env[f"{service.upper()}_PORT"] = str(ports[service])
        env[f"{service.upper()}_URL"] = f"http://127.0.0.1:{ports[service]}"
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(env_overrides or {})
    _create_databases(names)
    stack = Stack(env, ports, workers, log_dir)
    try:
        steps = "manage.migrate(); manage.seed()" if seed else "manage.migrate()"  # one interpreter for both
        subprocess.run([PYTHON, "-c", f"import manage; {steps}"], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for service in SERVICES:  # all four start at once (each imports for about a second), then answer
            stack.start(service, wait=False)
        stack.wait_healthy(SERVICES)
        if sweeper:
            stack.start("sweeper")
        if redis_url:
            stack.start("worker")
        yield stack
    finally:
        stack.stop_all()
        _drop_databases(names)
        shutil.rmtree(env["VAR_DIR"], ignore_errors=True)


def engine_argument(argv: list[str]) -> tuple[str, list[str]]:
    """Split `--sqlite` (the `make run` default engine) off a bench's arguments: (engine, the other arguments)."""
    rest = [arg for arg in argv if arg != "--sqlite"]
    return ("sqlite" if len(rest) != len(argv) else "postgres"), rest


def open_visits(gateway_url: str, count: int) -> list[dict]:
    """Register `count` insured patients at the gateway (CCCD, an 80 % BHYT card) and open a visit for each, as
    reception does; return [{"encounter_id", "patient_id"}], so the load's charges land on real visits and travel
    on to billing."""
    headers = token(gateway_url, "cashier")
    visits, year = [], time.gmtime().tm_year
    for number in range(count):
        cccd = random_cccd()
        patient = requests.post(f"{gateway_url}/api/v1/patients", headers=headers, timeout=30, json={
            "full_name": random_vietnamese_name(), "birth_date": f"19{cccd[4:6]}-0{1 + number % 9}-1{number % 9}",
            "sex": "male" if cccd[3] == "0" else "female", "cccd": cccd, "phone": f"09{random.randrange(10**8):08d}",
            "address": f"{number + 1} Trần Hưng Đạo, Phường Cửa Nam, Quận Hoàn Kiếm, Hà Nội"})
        patient.raise_for_status()
        patient_id = patient.json()["id"]
        card = requests.post(f"{gateway_url}/api/v1/patients/{patient_id}/coverages", headers=headers, timeout=30,
                             json={"card_number": "DN401" + cccd[-10:], "registered_facility": "01013",
                                   "benefit_level": 80, "valid_from": f"{year}-01-01", "valid_to": f"{year}-12-31"})
        card.raise_for_status()
        visit = requests.post(f"{gateway_url}/api/v1/encounters", headers=headers, timeout=30,
                              json={"patient_id": patient_id, "kind": "outpatient", "department": "K01"})
        visit.raise_for_status()
        visits.append({"encounter_id": str(visit.json()["id"]), "patient_id": str(patient_id)})
    return visits


@contextmanager
def baseline_server(engine: str = "postgres"):
    """Run the one-hop baseline app under the same gunicorn settings as the services, on `engine`; yield its URL."""
    from bench import baseline_app

    name = f"bench_baseline_{secrets.token_hex(3)}"
    if engine == "sqlite":
        name = f"/tmp/{name}.db"
    else:
        _create_databases([name])
    process = None
    try:
        baseline_app.prepare(name)
        port = free_port()
        process = gunicorn("bench.baseline_app:create_app()", port, dict(os.environ, BASELINE_DATABASE_NAME=name))
        _wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        if process is not None:
            _stop([process])
        if engine == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(name + suffix).unlink(missing_ok=True)
        else:
            _drop_databases([name])


def _wait_for_port(port: int, process, timeout: int = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with closing(socket.create_connection(("127.0.0.1", port), timeout=1)):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


IDEMPOTENCY_KEY = "Idempotency-Key"


def keyed(headers=None, key: str | None = None) -> dict:
    """`headers` plus an Idempotency-Key (a fresh UUID unless `key`), as every client of a POST that moves stock or
    money must send (428 without); a key already in `headers` is kept."""
    merged = dict(headers.items() if hasattr(headers, "items") else headers or {})
    merged.setdefault(IDEMPOTENCY_KEY, key or str(uuid.uuid4()))
    return merged


def token(gateway_url: str, username: str, password: str = "demo") -> dict:
    """Sign a demo user in through the gateway and return auth headers."""
    response = requests.post(f"{gateway_url}/api/v1/auth/token", json={"username": username, "password": password},
                             timeout=10)
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
