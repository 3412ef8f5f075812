"""Database binding per service: SQLite or PostgreSQL from a URL, one connection per request, versioned migrations."""

import logging
from pathlib import Path
from urllib.parse import urlparse

import peewee
from flask import Flask
from playhouse.pool import PooledPostgresqlDatabase

log = logging.getLogger(__name__)
SQLITE_PRAGMAS = {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 15000, "synchronous": "normal"}


def open_database(url: str) -> peewee.Database:
    """Create (but do not connect) a peewee database for a sqlite:/// or postgresql:// URL."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        # sqlite:///relative/path, sqlite:////absolute/path or sqlite:///:memory:
        path = url[len("sqlite:///"):] or ":memory:"
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return peewee.SqliteDatabase(path, pragmas=SQLITE_PRAGMAS, check_same_thread=False)
    if parsed.scheme in ("postgres", "postgresql"):
        return PooledPostgresqlDatabase(
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
