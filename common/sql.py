"""Statements written once as text, for the store modules (`<service>/store.py`) of the hot paths only.

peewee builds a statement's SQL anew on every call, 0.1–0.4 ms of CPU each, and a logged test or a dispense runs a
dozen. The statements those verbs run on every request are written as text with `%s` placeholders (turned into `?`
for SQLite), in SQL both engines run alike; values go through each field's `db_value` and rows come back as model
instances through peewee's own `raw`, so what is stored and read is exactly what peewee would store and read.
"""

from functools import lru_cache

import peewee


@lru_cache(maxsize=512)
def _in_style(param: str, text: str) -> str:
    return text if param == "%s" else text.replace("%s", param)


def execute(database: peewee.Database, text: str, params=()):
    """Run a statement written with `%s` placeholders; return the cursor."""
    return database.execute_sql(_in_style(database.param, text), params)


def select(model: type[peewee.Model], text: str, params=()) -> list[peewee.Model]:
    """Run a SELECT of the model's columns (`t.*` or named ones); return model instances."""
    database = model._meta.database
    return list(model.raw(_in_style(getattr(database, "obj", database).param, text), *params))


@lru_cache(maxsize=256)
def _insert_text(model: type[peewee.Model], names: tuple[str, ...], rows: int, returning: tuple[str, ...],
                 unless: tuple[str, ...] = ()) -> str:
    fields = model._meta.fields
    columns = ", ".join(f'"{fields[name].column_name}"' for name in names)
    group = "(" + ", ".join(["%s"] * len(names)) + ")"
    text = f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES ' + ", ".join([group] * rows)
    if unless:
        text += " ON CONFLICT (" + ", ".join(f'"{fields[name].column_name}"' for name in unless) + ") DO NOTHING"
    if returning:
        text += " RETURNING " + ", ".join(f'"{fields[name].column_name}"' for name in returning)
    return text


def insert(model: type[peewee.Model], rows: list[dict], returning: tuple[str, ...] = (),
           unless: tuple[str, ...] = ()) -> list[tuple]:
    """Insert rows (field names as keys, every row the same fields; defaults filled in as peewee would) in one
    statement; return the `returning` columns of each row inserted. `unless`: the fields of a unique index; a row
    whose values are there already is left out (ON CONFLICT ... DO NOTHING), and is not returned."""
    if not rows:
        return []
    full = [with_defaults(model, row) for row in rows]
    names = tuple(full[0])
    fields = model._meta.fields
    params = [fields[name].db_value(row[name]) for row in full for name in names]
    cursor = execute(model._meta.database, _insert_text(model, names, len(full), returning, unless), params)
    return cursor.fetchall() if returning else []


def row_of(instance: peewee.Model, names: tuple[str, ...]) -> dict:
    """These fields of a model instance as a row for `insert`: a foreign key by the id it holds, never a read of
    the row it names."""
    fields = instance._meta.fields
    return {name: getattr(instance, getattr(fields[name], "object_id_name", name)) for name in names}


def with_defaults(model: type[peewee.Model], values: dict) -> dict:
    """The row peewee would insert for `values`: every default filled in (callables called once)."""
    row = dict(values)
    for field, default in model._meta.defaults.items():
        if field.name not in row:
            row[field.name] = default() if callable(default) else default
    return row


def db_value(field: peewee.Field, value):
    """The value peewee would send for `field` (a date, a UTC datetime...)."""
    return field.db_value(value)


@lru_cache(maxsize=128)
def columns(model: type[peewee.Model], alias: str) -> str:
    """The model's columns qualified by `alias`, in field order: the select list `joined` reads back."""
    return ", ".join(f'{alias}."{field.column_name}"' for field in model._meta.sorted_fields)


def joined(models: tuple[type[peewee.Model], ...], text: str, params=()) -> list[tuple]:
    """Run a SELECT of `columns(model, alias)` for each of `models` in turn (a join, on the first model's database);
    return a tuple of instances per row, None for a model whose columns are all NULL (nothing joined). A row
    joined to the same parent as an earlier one (its first column, the id, is the same) shares that instance."""
    rows, built = [], {}
    for row in execute(models[0]._meta.database, text, params).fetchall():
        start, instances = 0, []
        for model in models:
            fields = model._meta.sorted_fields
            values = row[start:start + len(fields)]
            start += len(fields)
            if values[0] is None:
                instances.append(None)
                continue
            key = (model, values[0])
            if key not in built:
                built[key] = model(**{field.name: None if value is None else field.python_value(value)
                                      for field, value in zip(fields, values, strict=True)})
            instances.append(built[key])
        rows.append(tuple(instances))
    return rows


@lru_cache(maxsize=128)
def _update_text(model: type[peewee.Model], names: tuple[str, ...], rows: int) -> str:
    fields, table = model._meta.fields, model._meta.table_name
    columns = [fields[name].column_name for name in names]
    group = "(" + ", ".join(["%s"] * (len(names) + 1)) + ")"
    return (f"WITH v(row_id, {', '.join(columns)}) AS (VALUES " + ", ".join([group] * rows) + ") "
            f'UPDATE "{table}" SET ' + ", ".join(f'"{column}" = v.{column}' for column in columns)
            + f' FROM v WHERE "{table}".id = v.row_id')


def update_many(model: type[peewee.Model], rows: list[dict], names: tuple[str, ...]) -> None:
    """Set the `names` columns of several rows, each to its own values ({"id": ..., name: value}), in one
    statement (UPDATE ... FROM a VALUES list, on both engines). Values must not be NULL: PostgreSQL cannot type a
    VALUES column of NULLs."""
    if not rows:
        return
    fields = model._meta.fields
    params = [value for row in rows for value in
              (row["id"], *(fields[name].db_value(row[name]) for name in names))]
    execute(model._meta.database, _update_text(model, names, len(rows)), params)
