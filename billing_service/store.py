"""What billing's verbs need from the database beyond one-line peewee queries: each function one read or one
write, the same on SQLite and PostgreSQL (common.sql: written once as text, for the statements every charge runs).
The one engine-specific statement (the reconciliation's working memory) says why where it is."""

import peewee
from peewee import fn

from billing_service.claims.models import ClaimLine
from billing_service.models import Invoice, InvoiceLine, LineReversal
from billing_service.other_funding.models import OtherFunding
from common import sql
from common.chain import Chain

ANSWER_CHUNK = 1000


def locked_invoice(invoice_id: int) -> Invoice | None:
    """Read a bill and hold its row lock until the transaction ends (SQLite's write transaction holds the whole
    database already, so there is no row lock to take)."""
    query = Invoice.select().where(Invoice.id == invoice_id)
    if Invoice._meta.database.for_update:
        query = query.for_update()
    return query.first()


def locked_invoices(encounter_ids) -> list[Invoice]:
    """Read the bills of these visits and hold their row locks until the transaction ends, taken in id order (so
    concurrent deliveries lock bills in one order: no deadlock). SQLite's write transaction holds the database."""
    encounter_ids = sorted(set(encounter_ids))
    if not encounter_ids:
        return []
    query = Invoice.select().where(Invoice.encounter_id.in_(encounter_ids)).order_by(Invoice.id)
    if Invoice._meta.database.for_update:
        query = query.for_update()
    return list(query)


def bills_with_grants(invoice_ids) -> set[int]:
    """Which of these bills have active grants of other funding."""
    invoice_ids = sorted(set(invoice_ids))
    if not invoice_ids:
        return set()
    query = (OtherFunding.select(OtherFunding.invoice).distinct()
             .where(OtherFunding.invoice.in_(invoice_ids) & (OtherFunding.state == "active")))
    return {row.invoice_id for row in query}


def append_chained_rows(chain: Chain, rows: list[dict], heads: dict[int, str | None]) -> None:
    """Append rows to several bills' chained ledgers at once, the bills locked by the caller with their heads as
    read under those locks ({invoice id: head}): link the rows, insert them in one statement and move the heads in
    another."""
    rows = [sql.with_defaults(chain.model, row) for row in rows]
    moved = chain.link(rows, heads)
    sql.insert(chain.model, rows)
    sql.update_many(Invoice, [{"id": invoice_id, chain.head_field: moved[invoice_id]}
                              for invoice_id in sorted({row["invoice"] for row in rows})], (chain.head_field,))


def save_bills(invoices: list[Invoice], names: tuple[str, ...]) -> None:
    """Store these columns of bills as the instances hold them, in one statement."""
    sql.update_many(Invoice, [{"id": invoice.id, **{name: getattr(invoice, name) for name in names}}
                              for invoice in invoices], names)


def append_chained(chain: Chain, row: dict) -> int:
    """Append one row to a bill's chained ledger (its ledger or its payments): lock the bill's row, link the row
    after the head it records, insert it and move the head; return the row's id. Raises IntegrityError (nothing
    moved) when the row breaks a unique index."""
    row = sql.with_defaults(chain.model, row)
    database = Invoice._meta.database
    head_column = chain.head_field
    [(head,)] = sql.execute(database, f"SELECT {head_column} FROM invoice WHERE id = %s"
                            + (" FOR UPDATE" if database.for_update else ""), (row["invoice"],)).fetchall()
    heads = chain.link([row], {row["invoice"]: head})
    [(row_id,)] = sql.insert(chain.model, [row], returning=("id",))
    sql.execute(database, f"UPDATE invoice SET {head_column} = %s WHERE id = %s",
                (heads[row["invoice"]], row["invoice"]))
    return row_id


def answer_claim_lines(answers: dict[int, dict]) -> None:
    """Carry the insurer's answers onto claim lines, {claim line id: {approved_amount, rejection_reason,
    paid_amount}} (paid added to what was paid before), a chunk of lines per statement."""
    items = sorted(answers.items())
    for start in range(0, len(items), ANSWER_CHUNK):
        chunk = items[start:start + ANSWER_CHUNK]
        params = []
        for line_id, answer in chunk:
            params += [line_id, answer["approved_amount"], answer["rejection_reason"] or "", answer["paid_amount"]]
        sql.execute(ClaimLine._meta.database,
                    "WITH answer(line_id, approved, reason, paid) AS (VALUES "
                    + ", ".join(["(%s, %s, %s, %s)"] * len(chunk)) + ") "
                    "UPDATE claim_line SET approved_amount = answer.approved, "
                    "rejection_reason = NULLIF(answer.reason, ''), paid_amount = claim_line.paid_amount + answer.paid "
                    "FROM answer WHERE claim_line.id = answer.line_id", params)


def minute_of(column) -> peewee.Node:
    """A stored UTC time cut to its minute, as text ('YYYY-MM-DD HH:MM'), the same on both engines."""
    return fn.SUBSTR(peewee.Cast(column, "TEXT"), 1, 16)


def roomy_session() -> None:
    """Give this transaction's sorts and hashes room on PostgreSQL (a month is a million lines: bench/reconcile.py
    ran 16.8 s with it); SQLite has no such setting."""
    database = Invoice._meta.database
    if isinstance(getattr(database, "obj", database), peewee.PostgresqlDatabase):
        sql.execute(database, "SET LOCAL work_mem = '64MB'")


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
    rows = sorted((sql.row_of(line, _LINE_FIELDS) for line in lines), key=lambda row: row["charge_key"])
    ids = dict((key, line_id) for line_id, key in sql.insert(InvoiceLine, rows, returning=("id", "charge_key")))
    for line in lines:
        line.id = ids[line.charge_key]


_LINE_FIELDS = tuple(field.name for field in InvoiceLine._meta.sorted_fields if field.name != "id")


def keys_with_waiting_reversals(keys) -> set[str]:
    """Return which of these charge keys have reversals that arrived before their charge."""
    keys = sorted(set(keys))
    if not keys:
        return set()
    rows = sql.execute(LineReversal._meta.database, "SELECT DISTINCT charge_key FROM line_reversal WHERE state = %s"
                       " AND charge_key IN (" + ", ".join(["%s"] * len(keys)) + ")", ["pending", *keys]).fetchall()
    return {row[0] for row in rows}
