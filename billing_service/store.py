"""What billing's charge intake needs from the database beyond one-line peewee queries: each function one read or
one write, the same on SQLite and PostgreSQL (common.sql: written once as text, for the statements every charge
runs)."""

from billing_service.models import InvoiceLine, LineReversal
from common import sql


def lines_by_keys(keys) -> dict[str, InvoiceLine]:
    """Read the bill lines of these charge keys."""
    keys = sorted(set(keys))
    if not keys:
        return {}
    found = sql.select(InvoiceLine, "SELECT t.* FROM invoice_line t WHERE t.charge_key IN ("
                       + ", ".join(["%s"] * len(keys)) + ")", keys)
    return {line.charge_key: line for line in found}


def add_lines(lines: list[InvoiceLine]) -> None:
    """Write new bill lines (one statement, in key order) and give each its id."""
    rows = sorted(({field.name: getattr(line, getattr(field, "object_id_name", field.name)) for field in _LINE_FIELDS}
                   for line in lines), key=lambda row: row["charge_key"])
    ids = dict((key, line_id) for line_id, key in sql.insert(InvoiceLine, rows, returning=("id", "charge_key")))
    for line in lines:
        line.id = ids[line.charge_key]


_LINE_FIELDS = tuple(field for field in InvoiceLine._meta.sorted_fields if field.name != "id")


def keys_with_waiting_reversals(keys) -> set[str]:
    """Return which of these charge keys have reversals that arrived before their charge."""
    keys = sorted(set(keys))
    if not keys:
        return set()
    rows = sql.execute(LineReversal._meta.database, "SELECT DISTINCT charge_key FROM line_reversal WHERE state = %s"
                       " AND charge_key IN (" + ", ".join(["%s"] * len(keys)) + ")", ["pending", *keys]).fetchall()
    return {row[0] for row in rows}
