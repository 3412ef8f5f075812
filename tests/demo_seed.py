"""The demo seed for tests that start from `make run`'s data (the screens), seeded once per worker and copied back.

`seeds/` loads a service's demo data through its domain verbs: each reagent, lot, drug, user and visit in its own
unit of work, with its ledger rows, chains, alerts and outbox rows. That took 0.3 s a service on SQLite and 0.8 s
on PostgreSQL, before each of some 200 screen tests. The first test of a worker runs the seed itself and keeps a
copy of every row it wrote; the next ones, on tables just emptied, get the same rows back (ids, hashes and
timestamps as they were) in one statement per table, and the sequences set after them. The copy is kept per
database and day: the seed dates its lots from today.
"""

from importlib import import_module

import peewee

from common import clock
from seeds import seed_service
from tests.support import OWNED_SEQUENCES, foreign_keys_unchecked

Rows = dict[str, tuple[list[str], list[tuple]]]  # table -> (its columns, its rows)
_copies: dict[tuple[str, str, object], Rows] = {}

# Each sequence of these tables with its table and column, to be moved past the rows put back.
_SEQUENCES = "SELECT seq.oid::regclass::text, tab.relname, att.attname" + OWNED_SEQUENCES


def seed_demo(app) -> None:
    """Give a service whose tables were just emptied the demo data `make run` seeds (nothing if it has data)."""
    service, database = app.config["SERVICE_NAME"], app.extensions["database"]
    key = (service, app.config["DATABASE_URL"], clock.today())
    with app.app_context():
        if not import_module(f"seeds.{service}").is_empty():
            return
        if key in _copies:
            _put_back(database, _copies[key])
        else:
            seed_service(service)
            _copies[key] = _rows_of(database)


def _tables(database: peewee.Database) -> list[str]:
    return sorted(table for table in database.get_tables() if table != "migratehistory")


def _rows_of(database: peewee.Database) -> Rows:
    rows: Rows = {}
    with database.connection_context():
        for table in _tables(database):
            cursor = database.execute_sql(f'SELECT * FROM "{table}"')
            found = cursor.fetchall()
            if found:
                rows[table] = ([column[0] for column in cursor.description], found)
    return rows


def _put_back(database: peewee.Database, rows: Rows) -> None:
    with database.connection_context(), foreign_keys_unchecked(database):  # rows in any table order
        cursor = database.cursor()
        for table, (columns, values) in rows.items():
            names = ", ".join(f'"{column}"' for column in columns)
            marks = ", ".join([database.param] * len(columns))
            cursor.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', values)
        if isinstance(database, peewee.PostgresqlDatabase):
            for sequence, table, column in database.execute_sql(_SEQUENCES, (list(rows),)).fetchall():
                database.execute_sql(f'SELECT setval(%s, (SELECT MAX("{column}") FROM "{table}"))', (sequence,))
