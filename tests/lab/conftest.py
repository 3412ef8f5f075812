"""Lab fixtures: the lab service app and its test client, on this run's database."""

import sqlite3
from contextlib import closing

import pytest

# Children before parents: SQLite enforces the lab's foreign keys while the shared fixture empties tables by name.
LAB_TABLES_CHILD_FIRST = ("lab_alert", "worklist_item", "ledger_entry", "daily_overhead_mark", "test_run",
                          "recipe_line", "reagent_lot", "lab_test", "analyzer", "reagent", "outbox_message",
                          "idempotency_record")


def _empty_sqlite_lab(url: str) -> None:
    with closing(sqlite3.connect(url[len("sqlite:///"):])) as conn, conn:
        for table in LAB_TABLES_CHILD_FIRST:
            conn.execute(f'DELETE FROM "{table}"')


@pytest.fixture(autouse=True)
def lab_tables_emptied_child_first(engine, database_urls):
    if engine == "sqlite":
        _empty_sqlite_lab(database_urls["lab_service"])
    yield
    if engine == "sqlite":
        _empty_sqlite_lab(database_urls["lab_service"])


@pytest.fixture
def lab_app(make_app):
    return make_app("lab_service")


@pytest.fixture
def lab(lab_app):
    return lab_app.test_client()
