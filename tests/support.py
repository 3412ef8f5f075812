"""Test helpers shared by every test module: engines, databases, live servers, tokens."""

import os
import secrets
import subprocess
import sys
import threading
import time
from contextlib import closing, contextmanager
from importlib import import_module
from pathlib import Path

import peewee
import psycopg2
import pytest
import requests
from flask.testing import FlaskClient
from werkzeug.datastructures import Headers
from werkzeug.serving import make_server

from bench.harness import IDEMPOTENCY_KEY, free_port, keyed  # noqa: F401 (free_port: the tests' own)
from common.auth import issue_token
from common.config import SERVICE_PORTS
from common.supervisor import STOP_GRACE

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SERVICES = tuple(SERVICE_PORTS)
CI = os.environ.get("CI", "").lower() == "true"
PG_HOST, PG_PORT = os.environ.get("TEST_PG_HOST", "127.0.0.1"), int(os.environ.get("TEST_PG_PORT", "5432"))
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
JWT_SECRET = "test-jwt-secret-that-is-long-enough-0123456789"
SERVICE_TOKEN = "test-service-token-0123456789abcdef"
USERS = {"lab_tech": "labtech", "lab_head": "labhead", "pharmacist": "pharmacist", "cashier": "cashier",
         "finance": "finance", "admin": "admin"}


# The sequences behind the serial or identity columns of the tables named in the parameter: a query's FROM clause.
OWNED_SEQUENCES = """
FROM pg_class seq
JOIN pg_sequence s ON s.seqrelid = seq.oid
JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = seq.oid
                 AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
JOIN pg_class tab ON tab.oid = d.refobjid
JOIN pg_attribute att ON att.attrelid = tab.oid AND att.attnum = d.refobjsubid
WHERE seq.relkind = 'S' AND tab.relname = ANY(%s)
"""


@contextmanager
def foreign_keys_unchecked(database: peewee.Database):
    """A transaction in which foreign keys are not checked, so rows go in or out in any table order: SQLite's
    foreign_keys pragma is off around it, PostgreSQL's session_replication_role is replica in it (the test
    server's superuser may set it; anyone else gets a ProgrammingError)."""
    postgres = isinstance(database, peewee.PostgresqlDatabase)
    if not postgres:
        database.execute_sql("PRAGMA foreign_keys = OFF")  # (no effect inside a transaction: set before it)
    try:
        with database.atomic():
            if postgres:
                database.execute_sql("SET LOCAL session_replication_role = replica")
            yield
    finally:
        if not postgres:
            database.execute_sql("PRAGMA foreign_keys = ON")


def postgres_reachable() -> bool:
    try:
        psycopg2.connect(dbname="postgres", user="postgres", host=PG_HOST, port=PG_PORT, connect_timeout=2).close()
        return True
    except psycopg2.OperationalError:
        return False


def redis_reachable() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except Exception:
        return False


def choose_engine() -> str:
    """The database engine of this run, from TEST_ENGINE: `sqlite` (in-process jobs, the `make run` default) or
    `postgres` (with Redis); unset, PostgreSQL when reachable, else SQLite. With CI=true PostgreSQL is required."""
    chosen = os.environ.get("TEST_ENGINE", "").strip().lower()
    if chosen not in ("", "sqlite", "postgres"):
        raise pytest.UsageError(f"TEST_ENGINE must be sqlite or postgres, not {chosen!r}")
    if chosen == "sqlite":
        return "sqlite"
    if postgres_reachable():
        return "postgres"
    if CI:
        raise pytest.UsageError("PostgreSQL at 127.0.0.1:5432 is not reachable and CI=true")
    if chosen == "postgres":
        pytest.exit("PostgreSQL at 127.0.0.1:5432 is not reachable: the PostgreSQL run is skipped", returncode=0)
    return "sqlite"


def on_postgres_run() -> None:
    """Skip a PostgreSQL-only check on the SQLite run (the PostgreSQL run makes it; there it is required in CI)."""
    if os.environ.get("TEST_ENGINE", "").strip().lower() == "sqlite":
        pytest.skip("checked by the PostgreSQL run")
    require_or_skip(postgres_reachable(), "PostgreSQL")


def require_or_skip(available: bool, what: str) -> None:
    """Skip when a real dependency is missing, except in CI where its absence is a failure."""
    if not available:
        if CI:
            pytest.fail(f"{what} is not reachable and CI=true: the tests must run on it")
        pytest.skip(f"{what} is not reachable")


def pg_admin():
    conn = psycopg2.connect(dbname="postgres", user="postgres", host=PG_HOST, port=PG_PORT)
    conn.autocommit = True
    return conn


def pg_url(name: str) -> str:
    return f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{name}"


def create_pg_database(name: str) -> str:
    """Create a database of the tests. Its commits do not wait for the WAL to reach the disk (synchronous_commit
    off: what a transaction wrote is seen by others as soon as it commits, as before; only a crash of the server
    could lose the last few, and the tests' databases do not outlive the run). The stacks of real processes
    (bench.harness.start_stack) make their own databases, with the server's settings."""
    with closing(pg_admin()) as conn, conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
        cur.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    return pg_url(name)


def drop_pg_database(name: str) -> None:
    with closing(pg_admin()) as conn, conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def unique_name(prefix: str = "t") -> str:
    return f"{prefix}{os.getpid()}_{secrets.token_hex(4)}"


QUEUE_PREFIX = unique_name("test") + ":"  # this run's rq queues, apart from other runs on the same Redis


def bearer(role: str, subject: str | None = None, ttl: int = 8 * 3600, secret: str = JWT_SECRET) -> dict:
    """Headers of a signed-in user with `role` (long-lived: modules build them at import, runs can be long)."""
    return {"Authorization": f"Bearer {issue_token(secret, subject or USERS[role], role, ttl)}"}


def service_headers(name: str = "test") -> dict:
    return {"X-Service-Token": SERVICE_TOKEN, "X-Service-Name": name}


NO_KEY = {IDEMPOTENCY_KEY: ""}  # sent as an empty header: the server takes it as missing (the 428 tests)


class KeyedClient(FlaskClient):
    """The test client of every app from `make_app`: a POST without an Idempotency-Key gets a fresh one, as the
    screens and every real client send it (the key is required on POSTs that move stock or money). A test that
    checks idempotency passes its own key; one that checks the 428 passes `NO_KEY`."""

    def post(self, *args, **kwargs):
        kwargs["headers"] = keyed(Headers(kwargs.get("headers") or {}))
        return super().post(*args, **kwargs)


class LiveServer:
    """A real HTTP server for an app, in a thread, on 127.0.0.1."""

    POLL_SECONDS = 0.02  # how often serve_forever looks for a shutdown (werkzeug's 0.5 s made each stop cost that)

    def __init__(self, app, port: int):
        self.server = make_server("127.0.0.1", port, app, threaded=True)
        self.url = f"http://127.0.0.1:{port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": self.POLL_SECONDS},
                                       daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def service_module(service: str):
    return import_module(service)


def wait_until(predicate, timeout: float = 20.0, interval: float = 0.1, message: str = "condition"):
    """Poll `predicate` until it returns a truthy value or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {message}")


def start_process(args: list[str], env: dict, log_path: Path) -> subprocess.Popen:
    """Start a real process of ours in its own process group, logging to a file."""
    log = open(log_path, "wb")
    return subprocess.Popen(args, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop_process(process: subprocess.Popen) -> None:
    """Stop a process we started (and its children) by its pid."""
    import signal

    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=5)


def healthy(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def wait_for_every_port_to_stop(ports: dict[str, int]) -> None:
    """Wait until no service of a stopped `make run` answers: make itself exits on the signal at once, and the
    supervisor then stops each process (SIGKILL after STOP_GRACE)."""
    wait_until(lambda: not any(healthy(f"http://127.0.0.1:{port}") for port in ports.values()),
               timeout=STOP_GRACE + 10, message="every process stops with make run")


PYTHON = sys.executable


def start_make_run(scratch_dir: Path, timeout: float = 120) -> tuple[subprocess.Popen, dict[str, int], Path]:
    """Start `make run` on free ports with its state in `scratch_dir`; return it once every service answers."""
    ports = {service: free_port() for service in SERVICES}
    env = {"PATH": f"{PROJECT_ROOT / '.venv' / 'bin'}:/usr/local/bin:/usr/bin:/bin", "VAR_DIR": str(scratch_dir),
           "WEB_CONCURRENCY": "1", "HOME": str(scratch_dir), "LOG_LEVEL": "WARNING"}
    env.update({f"{service.upper()}_PORT": str(port) for service, port in ports.items()})
    env["CARD_SANDBOX_PORT"] = str(free_port())  # not localstripe's 8420: another run's sandbox may hold it
    log_path = scratch_dir / "make-run.log"
    process = start_process(["make", "-s", "run"], env, log_path)
    try:
        for service, port in ports.items():
            wait_until(lambda port=port: healthy(f"http://127.0.0.1:{port}"), timeout=timeout,
                       message=f"{service} /healthz (log: {log_path.read_text()[-3000:]})")
    except BaseException:
        stop_process(process)
        raise
    return process, ports, log_path
