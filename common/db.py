"""Database binding per service: SQLite or PostgreSQL from a URL, one connection per request, versioned migrations."""

import hashlib
import itertools
import logging
import re
import time
from pathlib import Path
from urllib.parse import urlparse

import peewee
from flask import Flask
from playhouse.pool import PooledPostgresqlDatabase

log = logging.getLogger(__name__)
SQLITE_PRAGMAS = {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 15000, "synchronous": "normal"}
PING_AFTER_IDLE_SECONDS = 5


class ServicePool(PooledPostgresqlDatabase):
    """The connection pool, with two round trips fewer: no ping per check-out of a connection just in use, and no
    BEGIN of its own per transaction.

    peewee's pool checks every connection it hands out with `SELECT 1`: one statement more for every request and
    job. A connection given back less than PING_AFTER_IDLE_SECONDS ago, idle and not closed, is handed out as it
    is; one idle for longer is still checked. (After a database restart, a connection used in those last seconds
    fails its first statement once and is then dropped.)

    peewee sends BEGIN as a statement of its own. Here it travels with the transaction's first statement
    (`BEGIN;` + statement in one message; the result is the statement's), and a transaction that ran nothing sends
    neither BEGIN nor COMMIT.

    `defer(sql, params)` queues a write whose result nobody reads (an outbox row, ledger rows): inside a transaction
    it travels with the transaction's next statement or with its COMMIT, one message, instead of a round trip of
    its own. A statement after it sees it (same message, same transaction, in order). If it fails, the statement
    it travels with fails and the transaction rolls back as a whole; so only writes that cannot conflict are
    deferred. A rollback (to a savepoint, or of the whole transaction) drops what was queued after that point
    and not yet sent: a SAVEPOINT statement carries everything queued before it.
    """

    def begin(self, isolation_level=None):
        if isolation_level or self._isolation_level:
            return super().begin(isolation_level)
        self.connection()  # connect now, as peewee's own BEGIN would (a lazy connect later resets the state)
        self._state.begin_pending = True
        return None

    def execute_prepared(self, sql: str, params):
        """Run a hot statement (`%s` placeholders) as a prepared statement of the connection: PostgreSQL plans it
        once per connection (then reuses a generic plan) instead of on every call. A statement joining several
        tables costs more to plan (≈0.5–1 ms of CPU) than to run."""
        conn = self.connection()
        name = "hot_" + hashlib.blake2b(sql.encode(), digest_size=8).hexdigest()
        prepared = self._prepared.setdefault((id(conn), conn.info.backend_pid), set())
        if name not in prepared:
            numbered = re.sub(r"%s", lambda _match, count=itertools.count(1): f"${next(count)}", sql)
            self._execute_cursor(f"PREPARE {name} AS {numbered}", ())  # session-wide: a rollback keeps it
            prepared.add(name)
        return self._execute_cursor(f"EXECUTE {name} ({', '.join(['%s'] * len(params))})" if params
                                    else f"EXECUTE {name}", params)

    def defer(self, sql: str, params) -> None:
        """Run a write whose result nobody reads with the transaction's next statement (now, outside one)."""
        if not self.in_transaction():
            self.execute_sql(sql, params)
            return
        deferred = getattr(self._state, "deferred", None)
        if deferred is None:
            deferred = self._state.deferred = []
        deferred.append((sql, params))

    def _with_deferred(self, sql: str, params):
        deferred = getattr(self._state, "deferred", None)
        if not deferred:
            return sql, params
        self._state.deferred = []
        if sql.lstrip()[:8].upper() == "ROLLBACK":
            return sql, params  # what was queued is rolled back unsent
        text = ";\n".join(statement for statement, _ in deferred)
        values = [value for _, statement_params in deferred for value in statement_params]
        return f"{text};\n{sql}", [*values, *(params or ())]

    def _execute_cursor(self, sql, params, **cursor_options):
        sql, params = self._with_deferred(sql, params)
        if getattr(self._state, "begin_pending", False):
            self._state.begin_pending = False
            sql = "BEGIN;\n" + sql
        return super()._execute_cursor(sql, params, **cursor_options)

    def commit(self):
        if getattr(self._state, "deferred", None):
            self._execute_cursor("COMMIT", ())  # the queued writes and COMMIT in one message
            return None
        if getattr(self._state, "begin_pending", False):
            self._state.begin_pending = False  # nothing ran in this transaction
            return None
        return super().commit()

    def rollback(self):
        self._state.deferred = []
        if getattr(self._state, "begin_pending", False):
            self._state.begin_pending = False
            return None
        return super().rollback()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._returned_at: dict[int, float] = {}
        self._prepared: dict[tuple[int, int], set[str]] = {}  # (connection, backend pid) -> statement names

    def _is_closed(self, conn):
        if conn.closed:
            return True
        returned = self._returned_at.get(self.conn_key(conn))
        adapter = self._adapter
        if (returned is not None and time.monotonic() - returned < PING_AFTER_IDLE_SECONDS
                and adapter.txn_status(conn) == adapter.txn_idle):
            return False
        return super()._is_closed(conn)

    def _close(self, conn, close_conn=False):
        self._state.begin_pending = False
        self._state.deferred = []
        super()._close(conn, close_conn)
        if close_conn:
            self._returned_at.pop(self.conn_key(conn), None)
            for key in [key for key in self._prepared if key[0] == id(conn)]:
                del self._prepared[key]
        else:
            self._returned_at[self.conn_key(conn)] = time.monotonic()


def open_database(url: str) -> peewee.Database:
    """Create (but do not connect) a peewee database for a sqlite:/// or postgresql:// URL."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        # sqlite:///relative/path, sqlite:////absolute/path or sqlite:///:memory:
        path = url[len("sqlite:///"):] or ":memory:"
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # BEGIN IMMEDIATE: a write transaction takes the write lock when it starts, so concurrent writers wait for it
        # (busy_timeout) instead of failing with "database is locked" when a reader tries to become a writer.
        return peewee.SqliteDatabase(path, pragmas=SQLITE_PRAGMAS, check_same_thread=False, lock_type="IMMEDIATE")
    if parsed.scheme in ("postgres", "postgresql"):
        return ServicePool(
            parsed.path.lstrip("/"),
            user=parsed.username, password=parsed.password, host=parsed.hostname, port=parsed.port or 5432,
            max_connections=64, stale_timeout=300, timeout=10,
        )
    raise ValueError(f"Unsupported database URL scheme: {parsed.scheme}")


def ensure_postgres_database(url: str) -> None:
    """Create the PostgreSQL database named in `url` if it does not exist (no-op for SQLite)."""
    parsed = urlparse(url)
    if parsed.scheme not in ("postgres", "postgresql"):
        return
    import psycopg2

    name = parsed.path.lstrip("/")
    conn = psycopg2.connect(dbname="postgres", user=parsed.username, password=parsed.password,
                            host=parsed.hostname, port=parsed.port or 5432)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()


def bind_database(app: Flask, proxy: peewee.DatabaseProxy, url: str) -> peewee.Database:
    """Point the service's model proxy at `url`; a request connects on its first query and closes at its end.

    Connecting lazily keeps requests that never touch the database (the gateway's proxying) off the pool.
    """
    database = open_database(url)
    proxy.initialize(database)
    app.extensions["database"] = database

    @app.teardown_request
    def _close(_exc):
        if not database.is_closed():
            database.close()

    return database


def run_migrations(database: peewee.Database, migrations_dir: Path) -> list[str]:
    """Apply every migration in `migrations_dir` not yet applied; return the names applied."""
    from peewee_migrate import Router

    router = Router(database, migrate_dir=str(migrations_dir), logger=log)
    pending = list(router.diff)
    router.run()
    return pending


def create_migration(database: peewee.Database, migrations_dir: Path, name: str, models_module: str) -> str:
    """Write a new migration that brings the schema up to the models in `models_module`."""
    from peewee_migrate import Router

    router = Router(database, migrate_dir=str(migrations_dir), logger=log)
    router.run()
    return router.create(name, auto=models_module)


def service_models(service: str) -> list[type[peewee.Model]]:
    """Return every table model of a service: subclasses of `<service>.models.BaseModel` in any of its modules.

    Sub-packages may keep their own `models.py` (e.g. billing_service/claims/models.py); all are imported here so
    migrations see them.
    """
    import pkgutil
    from importlib import import_module

    package = import_module(service)
    for info in pkgutil.walk_packages(package.__path__, prefix=f"{service}."):
        if info.name.rsplit(".", 1)[-1] == "models" or ".models." in info.name:
            import_module(info.name)
    base = import_module(f"{service}.models").BaseModel
    found, stack = [], list(base.__subclasses__())
    while stack:
        model = stack.pop()
        found.append(model)
        stack.extend(model.__subclasses__())
    return sorted(found, key=lambda m: m._meta.table_name)
