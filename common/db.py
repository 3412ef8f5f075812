"""Database binding per service: SQLite or PostgreSQL from a URL, one connection per request, versioned migrations."""

import logging
import sqlite3
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import peewee
from flask import Flask
from playhouse.pool import PooledPostgresqlDatabase

log = logging.getLogger(__name__)
SQLITE_PRAGMAS = {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 15000, "synchronous": "normal"}
PING_AFTER_IDLE_SECONDS = 5


class KeptSavepoint(peewee._savepoint):
    """A nested `db.atomic()` that leaves its savepoint in place when its block succeeds, instead of releasing it.

    The enclosing transaction's COMMIT (or ROLLBACK) ends every savepoint inside it, on both engines, so a RELEASE
    changes nothing but costs a round trip, and a verb's last one came after its stock decrements: while the lots'
    row locks were held (one in five of the statements a logged test ran under them). A block that fails still rolls
    back to its savepoint; an enclosing block that fails rolls back everything inside it, as before.
    """

    def commit(self, begin=True):
        if begin:
            self._begin()


class KeptSavepoints:
    """Databases whose nested `atomic()` blocks are KeptSavepoints."""

    def savepoint(self, sid=None):
        return KeptSavepoint(self, sid)


class ServiceDatabaseProxy(peewee.DatabaseProxy):
    """The proxy a service's models are bound to: its nested `atomic()` blocks use the database's savepoints (peewee's
    proxy builds plain ones itself)."""

    def savepoint(self):
        return self.obj.savepoint()


class ServicePool(KeptSavepoints, PooledPostgresqlDatabase):
    """The connection pool, without peewee's `SELECT 1` on every check-out of a connection that was just in use.

    peewee's pool checks every connection it hands out with a ping: one round trip more for every request and job.
    A connection given back less than PING_AFTER_IDLE_SECONDS ago, idle and not closed, is handed out as it is; one
    idle for longer is still checked. (After a database restart, a connection used in those last seconds fails its
    first statement once, answered 503, and is then dropped.)
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._returned_at: dict[int, float] = {}

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
        super()._close(conn, close_conn)
        if close_conn:
            self._returned_at.pop(self.conn_key(conn), None)
        else:
            self._returned_at[self.conn_key(conn)] = time.monotonic()


class SqliteWriters(KeptSavepoints, peewee.SqliteDatabase):
    """SQLite whose writers in this process wait their turn in a queue rather than in SQLite's busy handler.

    SQLite lets one writer in at a time. One that finds the write lock taken sleeps and tries again, in steps that
    grow to 100 ms, for up to `busy_timeout`: on the `make run` default (8 threads per service plus in-process jobs)
    a test waiting behind another's 5 ms commit could sleep 50-100 ms past it, and a slow disk's commit made a queue
    of sleepers that woke late one after another (traced: commits of 0.6-0.7 s, waits of 1.1-1.4 s behind them).
    Here a transaction (`BEGIN IMMEDIATE` to COMMIT or ROLLBACK) and a write outside one first take this process's
    writer lock, which wakes the next writer the moment it is let go. SQLite's own lock still orders this process
    against others (the sweeper, `manage` commands). A writer that waits longer than `busy_timeout` for its turn
    gets "database is locked" (answered 503 DATABASE_BUSY), as it would from SQLite.
    """

    _READS = ("SELECT", "PRAGMA", "EXPLAIN")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._writer = threading.Lock()
        self._holder = threading.local()
        self._wait_seconds = SQLITE_PRAGMAS["busy_timeout"] / 1000

    def _take_turn(self) -> None:
        if not self._writer.acquire(timeout=self._wait_seconds):
            raise sqlite3.OperationalError("database is locked (other writers of this process held it)")
        self._holder.turn = True

    def _has_turn(self) -> bool:
        return getattr(self._holder, "turn", False)

    def _end_turn(self) -> None:
        if self._has_turn():
            self._holder.turn = False
            self._writer.release()

    def begin(self, lock_type=None):
        self._take_turn()
        try:
            super().begin(lock_type)
        except BaseException:
            self._end_turn()
            raise

    def commit(self):
        try:
            super().commit()
        finally:
            self._end_turn()

    def rollback(self):
        try:
            super().rollback()
        finally:
            self._end_turn()

    def _close(self, conn):
        try:
            super()._close(conn)
        finally:
            self._end_turn()  # closed with its transaction open: SQLite rolled it back

    def execute_sql(self, sql, params=None):
        if self._has_turn() or self.in_transaction() or sql.lstrip()[:7].upper().startswith(self._READS):
            return super().execute_sql(sql, params)
        self._take_turn()  # a write on its own (autocommit) takes the same turn as a transaction
        try:
            return super().execute_sql(sql, params)
        finally:
            self._end_turn()


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
        return SqliteWriters(path, pragmas=SQLITE_PRAGMAS, check_same_thread=False, lock_type="IMMEDIATE")
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
