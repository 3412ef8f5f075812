"""Versioned migrations build every service's schema on an empty SQLite and an empty PostgreSQL database."""

import shutil
from importlib import import_module

import pytest

from common.db import create_migration, open_database, run_migrations, service_models
from tests.support import (
    SERVICES,
    create_pg_database,
    drop_pg_database,
    on_postgres_run,
    unique_name,
)


def models_of(service: str) -> list:
    return service_models(service)


def apply_twice(url: str, service: str) -> tuple[list, list, set]:
    database = open_database(url)
    try:
        first = run_migrations(database, import_module(service).MIGRATIONS_DIR)
        second = run_migrations(database, import_module(service).MIGRATIONS_DIR)
        tables = set(database.get_tables())
    finally:
        database.close()
    return first, second, tables


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_apply_on_an_empty_sqlite_database(service, tmp_path):
    first, second, tables = apply_twice(f"sqlite:///{tmp_path / 'fresh.db'}", service)
    assert first and second == []
    assert {m._meta.table_name for m in models_of(service)} <= tables


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_apply_on_an_empty_postgresql_database(service):
    on_postgres_run()
    name = unique_name("mig")
    try:
        first, second, tables = apply_twice(create_pg_database(name), service)
    finally:
        drop_pg_database(name)
    assert first and second == []
    assert {m._meta.table_name for m in models_of(service)} <= tables


@pytest.mark.parametrize("service", SERVICES)
def test_the_migrations_match_the_models(service, tmp_path):
    """A model change without its migration fails here: auto-diffing the migrated schema finds nothing to do."""
    folder = tmp_path / "migrations"
    shutil.copytree(import_module(service).MIGRATIONS_DIR, folder)
    database = open_database(f"sqlite:///{tmp_path / 'diff.db'}")
    try:
        assert create_migration(database, folder, "pending_changes", models_of(service)) is None
    finally:
        database.close()
