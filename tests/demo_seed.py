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

Rows = dict[str, tuple[list[str], list[tuple]]]  # table -> (its columns, its rows)
_copies: dict[tuple[str, str, object], Rows] = {}

# The sequence behind each column of these tables (serial or identity), to be moved past the rows put back.
_SEQUENCES = """
SELECT seq.oid::regclass::text, tab.relname, att.attname
FROM pg_class seq
JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = seq.oid
                 AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
JOIN pg_class tab ON tab.oid = d.refobjid
JOIN pg_attribute att ON att.attrelid = tab.oid AND att.attnum = d.refobjsubid
WHERE seq.relkind = 'S' AND tab.relname = ANY(%s)
"""


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
    postgres = isinstance(database, peewee.PostgresqlDatabase)
    with database.connection_context():
        if not postgres:
            database.execute_sql("PRAGMA foreign_keys = OFF")  # rows in any table order; checked again below
        with database.atomic():
            if postgres:
                database.execute_sql("SET LOCAL session_replication_role = replica")
            cursor = database.cursor()
            for table, (columns, values) in rows.items():
                names = ", ".join(f'"{column}"' for column in columns)
                marks = ", ".join([database.param] * len(columns))
                cursor.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', values)
            if postgres:
                for sequence, table, column in database.execute_sql(_SEQUENCES, (list(rows),)).fetchall():
                    database.execute_sql(f'SELECT setval(%s, (SELECT MAX("{column}") FROM "{table}"))', (sequence,))
        if not postgres:
            database.execute_sql("PRAGMA foreign_keys = ON")
