"""What the lab's hot verbs need from the database: each function one read or one write, the same on SQLite and
PostgreSQL. The verbs (services/runs.py, services/stock.py) call these inside their own `with db.atomic():`."""

from datetime import date, datetime

import peewee
from flask import current_app

from common.stock import StockMoved
from lab_service.models import (
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


def recipe_lines(test_code: str) -> list[RecipeLine]:
    """Read a test's recipe lines, every analyzer's, with their test, reagent and analyzer attached."""
    return list(RecipeLine.select(RecipeLine, LabTest, Reagent, Analyzer)
                .join(LabTest).switch(RecipeLine).join(Reagent)
                .switch(RecipeLine).join(Analyzer, peewee.JOIN.LEFT_OUTER)
                .where(LabTest.code == test_code).order_by(RecipeLine.id))


def lots_with_stock(reagent_ids, today: date) -> dict[int, list[ReagentLot]]:
    """Read the released, unexpired lots holding stock of these reagents, by reagent id, in id order."""
    found: dict[int, list[ReagentLot]] = {reagent_id: [] for reagent_id in reagent_ids}
    if not found:
        return found
    for lot in (ReagentLot.select()
                .where(ReagentLot.reagent.in_(sorted(found)) & (ReagentLot.state == "released")
                       & (ReagentLot.on_hand > 0) & (ReagentLot.expires_on >= today))
                .order_by(ReagentLot.id)):
        found[lot.reagent_id].append(lot)
    return found


def add_run(**values) -> TestRun:
    """Write a test run."""
    return TestRun.create(**values)


def add_ledger_rows(rows: list[dict]) -> None:
    """Append ledger rows (one statement)."""
    if rows:
        LedgerEntry.insert_many(rows).execute()


def take(quantities: dict[int, int]) -> None:
    """Take quantities off lots with guarded decrements, in lot-id order (one lock order for every verb); raise
    StockMoved when a lot no longer holds what was planned."""
    for lot_id, quantity in sorted(quantities.items()):
        taken = (ReagentLot.update(on_hand=ReagentLot.on_hand - quantity)
                 .where((ReagentLot.id == lot_id) & (ReagentLot.on_hand >= quantity)).execute())
        if not taken:
            raise StockMoved(lot_id)


def mark_opened(lot_ids, when: datetime) -> None:
    """Start the stability clock of lots nobody has opened yet."""
    if lot_ids:
        (ReagentLot.update(opened_at=when)
         .where(ReagentLot.id.in_(sorted(lot_ids)) & ReagentLot.opened_at.is_null()).execute())


def close_worklist_order(run: TestRun) -> None:
    """Mark the oldest open order of the run's test on its visit as done by the run (none open: nothing to do).

    One guarded update: of two runs closing the same order at once, the second finds it closed already.
    """
    oldest = (WorklistItem.select(WorklistItem.id)
              .where((WorklistItem.state == "open") & (WorklistItem.encounter_id == run.encounter_id)
                     & (WorklistItem.lab_test == run.lab_test_id))
              .order_by(WorklistItem.id).limit(1))
    (WorklistItem.update(state="done", test_run=run.id)
     .where((WorklistItem.id == oldest) & (WorklistItem.state == "open")).execute())


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
