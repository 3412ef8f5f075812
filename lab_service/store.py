"""What the lab's hot verbs need from the database: each function one read or one write, the same on SQLite and
PostgreSQL. The verbs (services/runs.py, services/stock.py) call these inside their own `with db.atomic():`.

The statements a logged test runs every time are written as text (common.sql): building them with peewee cost
more CPU than PostgreSQL spent running them.
"""

from datetime import date, datetime

from flask import current_app

from common import sql
from common.stock import StockMoved
from lab_service.models import (
    LEDGER_CHAIN,
    Analyzer,
    DailyOverheadMark,
    LabTest,
    LedgerEntry,
    Reagent,
    ReagentLot,
    RecipeLine,
    TestRun,
    WorklistItem,
)

_RECIPE = (f"SELECT {sql.columns(RecipeLine, 'rl')}, {sql.columns(LabTest, 'lt')}, {sql.columns(Reagent, 'r')}, "
           f"{sql.columns(Analyzer, 'a')} FROM recipe_line rl JOIN lab_test lt ON lt.id = rl.lab_test_id "
           "JOIN reagent r ON r.id = rl.reagent_id LEFT JOIN analyzer a ON a.id = rl.analyzer_id "
           "WHERE lt.code = %s ORDER BY rl.id")


def recipe_lines(test_code: str) -> list[RecipeLine]:
    """Read a test's recipe lines, every analyzer's, with their test, reagent and analyzer attached."""
    lines = []
    for line, lab_test, reagent, analyzer in sql.joined((RecipeLine, LabTest, Reagent, Analyzer), _RECIPE,
                                                        (test_code,)):
        line.lab_test, line.reagent, line.analyzer = lab_test, reagent, analyzer
        lines.append(line)
    return lines


def lots_with_stock(reagent_ids, today: date) -> dict[int, list[ReagentLot]]:
    """Read the released, unexpired lots holding stock of these reagents, by reagent id, in id order."""
    found: dict[int, list[ReagentLot]] = {reagent_id: [] for reagent_id in reagent_ids}
    if not found:
        return found
    ids = sorted(found)
    for lot in sql.select(ReagentLot, "SELECT t.* FROM reagent_lot t WHERE t.reagent_id IN ("
                          + ", ".join(["%s"] * len(ids)) + ") AND t.state = %s AND t.on_hand > 0 AND t.expires_on >= %s"
                          " ORDER BY t.id", (*ids, "released", sql.db_value(ReagentLot.expires_on, today))):
        found[lot.reagent_id].append(lot)
    return found


def add_run(**values) -> TestRun:
    """Write a test run."""
    [(run_id,)] = sql.insert(TestRun, [values], returning=("id",))
    return TestRun(id=run_id, **sql.with_defaults(TestRun, values))


def add_ledger_rows(rows: list[dict], heads: dict[int, str | None] | None = None) -> list[int]:
    """Append ledger rows (one statement), chained after their lots' heads, and move the heads; return the rows'
    ids. The caller holds the lots' row locks (`take`, a guarded update) or `heads` is None and they are taken
    here."""
    rows = [sql.with_defaults(LedgerEntry, row) for row in rows]
    if heads is None:
        heads = lock_heads({row["lot"] for row in rows})
    heads = LEDGER_CHAIN.link(rows, heads)
    ids = [row_id for (row_id,) in sql.insert(LedgerEntry, rows, returning=("id",))]
    moved = sorted({row["lot"] for row in rows})
    sql.update_many(ReagentLot, [{"id": lot_id, "chain_head": heads[lot_id]} for lot_id in moved], ("chain_head",))
    return ids


def lock_heads(lot_ids) -> dict[int, str | None]:
    """Lock lots' rows (in id order) and read their chain heads (SQLite's write transaction already holds them)."""
    ids = sorted(lot_ids)
    database = ReagentLot._meta.database
    text = ("SELECT id, chain_head FROM reagent_lot WHERE id IN (" + ", ".join(["%s"] * len(ids)) + ") ORDER BY id"
            + (" FOR UPDATE" if database.for_update else ""))
    return dict(sql.execute(database, text, ids).fetchall())


def take(quantities: dict[int, int]) -> dict[int, str | None]:
    """Take quantities off lots with guarded decrements, in lot-id order (one lock order for every verb); return
    each lot's chain head, read under its lock. Raise StockMoved when a lot no longer holds what was planned."""
    heads = {}
    for lot_id, quantity in sorted(quantities.items()):
        taken = sql.execute(ReagentLot._meta.database, "UPDATE reagent_lot SET on_hand = on_hand - %s"
                            " WHERE id = %s AND on_hand >= %s RETURNING chain_head",
                            (quantity, lot_id, quantity)).fetchall()
        if not taken:
            raise StockMoved(lot_id)
        heads[lot_id] = taken[0][0]
    return heads


def mark_opened(lot_ids, when: datetime) -> None:
    """Start the stability clock of lots nobody has opened yet."""
    if lot_ids:
        (ReagentLot.update(opened_at=when)
         .where(ReagentLot.id.in_(sorted(lot_ids)) & ReagentLot.opened_at.is_null()).execute())


def close_worklist_order(run: TestRun) -> None:
    """Mark the oldest open order of the run's test on its visit as done by the run (none open: nothing to do).

    One guarded update: of two runs closing the same order at once, the second finds it closed already.
    """
    sql.execute(WorklistItem._meta.database,
                "UPDATE worklist_item SET state = %s, test_run_id = %s WHERE state = %s AND id = ("
                "SELECT id FROM worklist_item WHERE state = %s AND encounter_id = %s AND lab_test_id = %s"
                " ORDER BY id LIMIT 1)", ("done", run.id, "open", "open", run.encounter_id, run.lab_test_id))


def claim_daily_overhead(lab_test_id: int, analyzer_code: str, day: date) -> bool:
    """Claim the once-a-day QC/calibration of a test on an analyzer for `day`; True for the first claim that day.

    Claims already known to be taken are remembered in the process, so a busy day costs one insert per test.
    """
    mark = (lab_test_id, analyzer_code, day)
    seen = current_app.extensions.setdefault("lab_daily_marks", set())
    if mark in seen:
        return False
    inserted = (DailyOverheadMark.insert(lab_test=lab_test_id, analyzer_code=analyzer_code, day=day)
                .on_conflict_ignore().as_rowcount().execute())
    if not inserted:
        seen.add(mark)  # a committed mark exists (a concurrent one would have made us wait)
    return bool(inserted)
