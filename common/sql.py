"""Hand-written statements for the hot paths, on SQLite and PostgreSQL alike.

peewee builds a statement's SQL anew on every call, which costs 0.15–0.4 ms of CPU each; a logged test runs a dozen
of them. The few statements on the hot paths (logging a test, dispensing, storing a charge, the outbox, the
idempotency record, the audit line) are written here once as text with `%s` placeholders (turned into `?` for
SQLite) or, for inserts, built once per model and column set from the model's own metadata. Values still go through
each field's `db_value`, so what is stored is exactly what peewee would store.
"""

from contextlib import nullcontext
from functools import lru_cache

import peewee


def database_of(model: type[peewee.Model]) -> peewee.Database:
    """Return the real database behind a model (through its DatabaseProxy)."""
    database = model._meta.database
    return getattr(database, "obj", None) or database


@lru_cache(maxsize=512)
def _for(param: str, text: str) -> str:
    return text if param == "%s" else text.replace("%s", param)


def execute(database: peewee.Database, text: str, params=(), prepared: bool = False):
    """Run a statement written with `%s` placeholders; return the cursor. `prepared`: on PostgreSQL as a prepared
    statement of the connection, planned once (common.db.ServicePool.execute_prepared), for the hot statements that
    cost more to plan than to run."""
    if prepared and hasattr(database, "execute_prepared"):
        return database.execute_prepared(text, params)
    return database.execute_sql(_for(database.param, text), params)


def defer(database: peewee.Database, text: str, params=()) -> None:
    """Run a write whose result nobody reads; on PostgreSQL inside a transaction it travels with the transaction's
    next statement or its COMMIT instead of a round trip of its own (common.db.ServicePool.defer). Only for writes
    that cannot conflict: a failure surfaces at that later statement."""
    text = _for(database.param, text)
    if hasattr(database, "defer"):
        database.defer(text, params)
    else:
        database.execute_sql(text, params)


def transaction(database: peewee.Database):
    """A transaction of its own, or none when the caller's is open (a batch of events): no savepoint round trips.

    Only for work whose failure fails the caller's transaction as a whole (e.g. the batched intake, which then
    applies each event on its own).
    """
    return nullcontext() if database.in_transaction() else database.atomic()


def fetch_all(model: type[peewee.Model], text: str, params=(), prepared: bool = False) -> list[tuple]:
    """Run a query on the model's database; return its rows as tuples (`prepared`: see execute)."""
    return execute(database_of(model), text, params, prepared).fetchall()


def fetch_one(model: type[peewee.Model], text: str, params=()):
    """Run a query on the model's database; return its first row as a tuple, or None."""
    return execute(database_of(model), text, params).fetchone()


def row_count(model: type[peewee.Model], text: str, params=()) -> int:
    """Run an UPDATE or DELETE on the model's database; return how many rows it changed."""
    return execute(database_of(model), text, params).rowcount


@lru_cache(maxsize=256)
def _insert_sql(model: type[peewee.Model], names: tuple[str, ...], param: str, unless_exists=()) -> str:
    meta = model._meta
    columns = ", ".join(f'"{meta.fields[name].column_name}"' for name in names)
    marks = ", ".join([param] * len(names))
    return (f'INSERT INTO "{meta.table_name}" ({columns}) VALUES ({marks}){_unless_exists_sql(model, unless_exists)}'
            f' RETURNING "{meta.primary_key.column_name}"')


def _unless_exists_sql(model: type[peewee.Model], unless_exists) -> str:
    """` ON CONFLICT (<columns>) DO NOTHING` for a uniquely indexed field or the fields of a unique index ('' for
    none)."""
    targets = (unless_exists,) if isinstance(unless_exists, str) else tuple(unless_exists)
    if not targets:
        return ""
    columns = ", ".join(f'"{model._meta.fields[name].column_name}"' for name in targets)
    return f" ON CONFLICT ({columns}) DO NOTHING"


def with_defaults(model: type[peewee.Model], values: dict) -> dict:
    """The row peewee would insert for `values`: every default filled in (callables called once)."""
    row = dict(values)
    for field, default in model._meta.defaults.items():
        if field.name not in row:
            row[field.name] = default() if callable(default) else default
    return row


def insert_statement(model: type[peewee.Model], values: dict, unless_exists=()) -> tuple[str, list]:
    """The INSERT ... RETURNING id of one row (defaults filled in) and its parameters, in the database's style: to
    run on its own, or inside a hand-written statement (a CTE) that does more in the same round trip."""
    row = with_defaults(model, values)
    names = tuple(row)
    fields = model._meta.fields
    return (_insert_sql(model, names, database_of(model).param, unless_exists),
            [fields[name].db_value(row[name]) for name in names])


def insert_row(model: type[peewee.Model], unless_exists: str | tuple[str, ...] = (), **values):
    """Insert one row (field names as keys, defaults filled in as peewee would); return its primary key.

    With `unless_exists` (a uniquely indexed field, or the fields of a unique index), a row whose value is already
    taken is not inserted and None is returned, without an error that would spoil the transaction.
    """
    row = with_defaults(model, values)
    names = tuple(row)
    database = database_of(model)
    fields = model._meta.fields
    params = [fields[name].db_value(row[name]) for name in names]
    returned = database.execute_sql(_insert_sql(model, names, database.param, unless_exists), params).fetchone()
    return None if returned is None else returned[0]


def create(model: type[peewee.Model], unless_exists: str | tuple[str, ...] = (), **values) -> peewee.Model | None:
    """`Model.create` without building the SQL each time: insert one row and return the instance.

    With `unless_exists` (see insert_row), None when a row with that value is already there.
    """
    row = with_defaults(model, values)
    key = insert_row(model, unless_exists, **row)
    if key is None:
        return None
    instance = model(**row)
    setattr(instance, model._meta.primary_key.name, key)
    instance._dirty.clear()
    return instance


def create_deferred(model: type[peewee.Model], **values) -> peewee.Model:
    """`create` of a row whose primary key is given (drawn beforehand), its INSERT deferred (see defer): no round
    trip of its own."""
    row = with_defaults(model, values)
    text, params = insert_statement(model, row)
    defer(database_of(model), text, params)
    instance = model(**row)
    instance._dirty.clear()
    return instance


@lru_cache(maxsize=256)
def select_list(model: type[peewee.Model], alias: str) -> str:
    """The columns of a model, in `sorted_fields` order, qualified by `alias`: for hand-written SELECTs."""
    return ", ".join(f'{alias}."{field.column_name}"' for field in model._meta.sorted_fields)


def from_row(model: type[peewee.Model], row, start: int = 0) -> peewee.Model | None:
    """Build a model instance from `row[start:]` read with `select_list(model, ...)` (None for an all-NULL join)."""
    fields = model._meta.sorted_fields
    values = row[start:start + len(fields)]
    if values[0] is None:  # the primary key: nothing joined
        return None
    instance = model.__new__(model)
    instance.__data__ = {field.name: (None if value is None else field.python_value(value))
                         for field, value in zip(fields, values, strict=True)}
    instance._dirty = set()
    instance.__rel__ = {}
    return instance


def select_models(model: type[peewee.Model], where: str, params=(), order_by: str = "") -> list[peewee.Model]:
    """`SELECT <every column> FROM <table> t WHERE <where> [ORDER BY ...]` as model instances."""
    text = f'SELECT {select_list(model, "t")} FROM "{model._meta.table_name}" AS t WHERE {where}'
    if order_by:
        text += f" ORDER BY {order_by}"
    return [from_row(model, row) for row in fetch_all(model, text, params)]


def insert_rows_statement(model: type[peewee.Model], rows: list[dict], unless_exists=(),
                          returning: tuple[str, ...] = ()) -> tuple[str, list]:
    """The INSERT of several rows with the same columns (defaults filled in as peewee would) and its parameters;
    with `unless_exists` rows whose unique value is taken are skipped, with `returning` those columns come back."""
    full = [with_defaults(model, row) for row in rows]
    names = tuple(full[0])
    database = database_of(model)
    fields = model._meta.fields
    columns = ", ".join(f'"{fields[name].column_name}"' for name in names)
    group = "(" + ", ".join([database.param] * len(names)) + ")"
    text = (f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES ' + ", ".join([group] * len(full))
            + _unless_exists_sql(model, unless_exists))
    if returning:
        text += f" RETURNING {', '.join(fields[name].column_name for name in returning)}"
    return text, [fields[name].db_value(row[name]) for row in full for name in names]


def insert_rows(model: type[peewee.Model], rows: list[dict], deferred: bool = False) -> None:
    """Insert several rows with the same columns in one statement (defaults filled in as peewee would); `deferred`:
    with the transaction's next statement (see defer)."""
    if not rows:
        return
    text, params = insert_rows_statement(model, rows)
    database = database_of(model)
    if deferred:
        defer(database, text, params)
    else:
        database.execute_sql(text, params)
