"""Fixtures: a fresh database per service per run (PostgreSQL when reachable), apps, live servers, tokens."""

import os
import random
import shutil
import tempfile
from pathlib import Path

import peewee
import pytest

from common.db import run_migrations
from tests.support import (
    JWT_SECRET,
    OWNED_SEQUENCES,
    QUEUE_PREFIX,
    REDIS_URL,
    SERVICE_TOKEN,
    SERVICES,
    KeyedClient,
    LiveServer,
    choose_engine,
    create_pg_database,
    drop_pg_database,
    foreign_keys_unchecked,
    free_port,
    redis_reachable,
    require_or_skip,
    service_module,
    unique_name,
)

os.environ.setdefault("APP_ENV", "test")
# What a service keeps on its host (development secrets, the gateway's audit spool) goes to a folder of this run, and
# of each pytest-xdist worker: a worker inherits the environment of the process that started it, VAR_DIR included.
if os.environ.get("PYTEST_XDIST_WORKER") or "VAR_DIR" not in os.environ:
    os.environ["VAR_DIR"] = tempfile.mkdtemp(prefix="hospital-test-var-")


ENGINE = choose_engine()


@pytest.fixture(scope="session")
def engine() -> str:
    """The database engine of this run (TEST_ENGINE): `sqlite` with in-process jobs, the `make run` default, or
    `postgres` with Redis (required in CI); unset: PostgreSQL when reachable, else SQLite."""
    return ENGINE


@pytest.fixture(scope="session")
def database_urls(engine, tmp_path_factory):
    """One fresh, migrated database per service for the whole run; dropped at the end."""
    urls, created = {}, []
    run_id = unique_name("t")
    folder = tmp_path_factory.mktemp("db")
    for service in SERVICES:
        if engine == "postgres":
            name = f"{run_id}_{service}"
            urls[service] = create_pg_database(name)
            created.append(name)
        else:
            urls[service] = f"sqlite:///{folder / (service + '.db')}"
    for service in SERVICES:
        app = service_module(service).create_app(_config(urls[service], {}))
        run_migrations(app.extensions["database"], service_module(service).MIGRATIONS_DIR)
        _close(app)
    yield urls
    for name in created:
        drop_pg_database(name)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """Redis for this run (required in CI); its queues carry this run's QUEUE_PREFIX and are removed at the end.

    The SQLite run is the `make run` default, with in-process jobs: there, what needs Redis is left to the
    PostgreSQL run."""
    if ENGINE == "sqlite":
        pytest.skip("the SQLite run uses in-process jobs; Redis is covered by the PostgreSQL + Redis run")
    require_or_skip(redis_reachable(), "Redis at 127.0.0.1:6379")
    url = f"{REDIS_URL}/{random.randint(1, 15)}"
    yield url
    import redis

    connection = redis.Redis.from_url(url)
    for pattern in (f"rq:*{QUEUE_PREFIX}*", f"{QUEUE_PREFIX}*"):  # rq's own keys; the coalescing flags
        for key in connection.scan_iter(pattern):
            connection.delete(key)


@pytest.fixture
def service_ports():
    """Free ports for each service, so live servers and processes can find each other."""
    return {service: free_port() for service in SERVICES}


def _config(database_url: str, service_urls: dict, **overrides) -> dict:
    config = {
        "APP_ENV": "test", "DATABASE_URL": database_url, "JWT_SECRET": JWT_SECRET, "SERVICE_TOKEN": SERVICE_TOKEN,
        "JOBS_INLINE_SYNC": True, "REDIS_URL": None, "HTTP_TIMEOUT_MS": 3000, "TESTING": True,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "QUEUE_PREFIX": QUEUE_PREFIX,
    }
    if service_urls:
        config["SERVICE_URLS"] = service_urls
    config.update(overrides)
    return config


def _close(app) -> None:
    database = app.extensions["database"]
    if hasattr(database, "close_all"):
        database.close_all()
    elif not database.is_closed():
        database.close()


# The sequences of the tables being emptied, each set back to its start (TRUNCATE's RESTART IDENTITY).
_RESTART_SEQUENCES = "SELECT setval(seq.oid, s.seqstart, false)" + OWNED_SEQUENCES


def _empty_postgres(database: peewee.PostgresqlDatabase, tables: list[str]) -> None:
    """Empty the tables and restart their sequences, as TRUNCATE ... RESTART IDENTITY CASCADE does, but with DELETE:
    TRUNCATE makes new files for every table and index (≈ 100 ms a service, before each test), DELETE of a test's
    few rows takes about 3 ms. Foreign keys are not checked meanwhile (session_replication_role, as the superuser
    of the test server); without that right, TRUNCATE."""
    try:
        with foreign_keys_unchecked(database):
            for table in tables:
                database.execute_sql(f'DELETE FROM "{table}"')
            database.execute_sql(_RESTART_SEQUENCES, (tables,))
    except peewee.ProgrammingError:  # not a superuser: no session_replication_role
        database.execute_sql("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")


def _truncate(app) -> None:
    database: peewee.Database = app.extensions["database"]
    with database.connection_context():
        tables = [t for t in database.get_tables() if t != "migratehistory"]
        if not tables:
            return
        if isinstance(database, peewee.PostgresqlDatabase):
            _empty_postgres(database, tables)
        else:
            with foreign_keys_unchecked(database):  # delete in any order
                for table in tables:
                    database.execute_sql(f'DELETE FROM "{table}"')
                try:
                    database.execute_sql("DELETE FROM sqlite_sequence")
                except peewee.OperationalError:
                    pass  # no AUTOINCREMENT table yet


@pytest.fixture
def make_app(database_urls, service_ports):
    """Build a service app on this run's database, emptied first; closed afterwards."""
    apps = []
    service_urls = {s: f"http://127.0.0.1:{p}" for s, p in service_ports.items()}

    def factory(service: str, **overrides):
        app = service_module(service).create_app(_config(database_urls[service], service_urls, **overrides))
        app.test_client_class = KeyedClient  # a fresh Idempotency-Key on every POST that has none
        if not any(a.config["SERVICE_NAME"] == service for a in apps):
            _truncate(app)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        _close(app)


@pytest.fixture
def live_server(service_ports):
    """Start an app as a real HTTP server on its service's port (or a given one); stopped afterwards."""
    servers = []

    def start(app, port: int | None = None) -> str:
        server = LiveServer(app, port or service_ports[app.config["SERVICE_NAME"]])
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def scratch_dir():
    folder = Path(tempfile.mkdtemp(prefix="hospital-test-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)

