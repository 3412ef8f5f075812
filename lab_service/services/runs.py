"""Test-run verbs: log a patient test or a QC/calibration run (consuming reagent FEFO), void a run, the worklist."""

import json

from flask import current_app

from common.charges import publish_charge_reversed, publish_charges_created
from common.errors import Conflict, NotFound
from common.idempotency import RetryTransaction, at_commit, request_transaction_reruns
from common.paging import page
from common.sql import create, create_deferred, defer
from lab_service import clock
from lab_service.models import (
    Analyzer,
    DailyOverheadMark,
    LabTest,
    LedgerEntry,
    ReagentLot,
    TestRun,
    WorklistItem,
    db,
)
from lab_service.services import catalogue, stock
from lab_service.services.alert_requests import request_alert_check

CHARGE_UNIT = "lần"


def _add(demand: dict, reagent, basis: str, quantity: int) -> None:
    """Add a quantity of a reagent, for a basis, to a run's demand."""
    if quantity > 0:
        demand.setdefault(reagent, []).append((basis, quantity))


def _takes_daily_overhead(lab_test: LabTest, analyzer: Analyzer | None) -> bool:
    """Claim today's once-a-day QC/calibration for this test and analyzer; True if this run is the first today."""
    mark = (lab_test.id, analyzer.code if analyzer else "", clock.today())
    seen = current_app.extensions.setdefault("lab_daily_marks", set())
    if mark in seen:
        return False
    inserted = (DailyOverheadMark.insert(lab_test=mark[0], analyzer_code=mark[1], day=mark[2])
                .on_conflict_ignore().as_rowcount().execute())
    if not inserted:
        seen.add(mark)  # a committed mark exists (a concurrent one would have made us wait): remember it
    return bool(inserted)


def _opens_a_lot(lines, lots: dict) -> bool:
    """Tell whether this run will draw a per-test reagent from a lot nobody has opened yet (fills `lots`)."""
    for line in lines:
        if line.basis in ("test", "run"):
            if line.reagent_id not in lots:
                lots[line.reagent_id] = stock.usable_lots(line.reagent)
            if lots[line.reagent_id] and lots[line.reagent_id][0].opened_at is None:
                return True
    return False


def patient_demand(lab_test: LabTest, analyzer: Analyzer | None, lines: list, lots: dict) -> dict:
    """Work out what one patient test takes: the recipe with dead volume, and any lot-opening or daily overhead."""
    demand: dict = {}
    for line in lines:
        if line.basis in ("test", "run"):
            _add(demand, line.reagent, "test", line.quantity)
    if any(line.basis == "lot_opened" for line in lines) and _opens_a_lot(lines, lots):
        for line in lines:
            if line.basis == "lot_opened":
                _add(demand, line.reagent, "lot_opened", line.quantity)
    if any(line.basis == "day" for line in lines) and _takes_daily_overhead(lab_test, analyzer):
        for line in lines:
            if line.basis == "day":
                _add(demand, line.reagent, "day", line.quantity)
    return demand


class StockMoved(Exception):
    """Another run took the planned stock between our read and our guarded decrement."""


def _record_run(make_demand, create_run, follow_up=None, lots=None) -> tuple[TestRun, list[dict]]:
    """In one transaction: plan FEFO, write the run, its ledger rows and follow-ups, and take the stock last.

    Taking the stock last keeps the lots' row locks short (in an idempotent request: after its response is stored,
    right before COMMIT). If another run took the planned stock first, the work is
    rolled back and planned again from a fresh read; 409 once stock no longer covers. Inside an idempotent
    request's transaction the whole request is run again (no savepoint needed); otherwise this transaction is.
    `lots`: the usable lots by reagent id, when they were read with the catalogue in this transaction.
    """
    if request_transaction_reruns():
        return _plan_and_take(make_demand, create_run, follow_up, RetryTransaction, lots)
    while True:
        try:
            with db.atomic():
                return _plan_and_take(make_demand, create_run, follow_up, StockMoved, lots)
        except StockMoved:
            lots = None  # read them again
            continue


def _plan_and_take(make_demand, create_run, follow_up, lost_race: type[Exception], lots: dict | None):
    lots = dict(lots or {})
    pieces = stock.plan(make_demand(lots), lots)
    consumption = stock.consumption_lines(pieces)
    run = create_run(sum(line["cost_amount"] for line in consumption))
    shown = stock.write_consumption(consumption, run)
    if follow_up is not None:
        follow_up(run)
    if not at_commit(lambda: stock.take_planned(pieces) and stock.open_lots_on_first_use(pieces)):
        raise lost_race()
    return run, shown


def _charge_event(run: TestRun, lab_test: LabTest, analyzer: Analyzer | None, results: list) -> dict:
    """Build the charge.created of a billed run, priced from the catalogue."""
    return {
        "key": f"lab:test-run:{run.id}", "source": "lab", "source_id": str(run.id),
        "encounter_id": run.encounter_id, "patient_id": run.patient_id, "item_kind": "service",
        "code": lab_test.service_code, "name": lab_test.name, "unit": CHARGE_UNIT, "quantity": 1,
        "unit_price_amount": run.price_amount, "insurance_unit_price_amount": lab_test.insurance_price_amount,
        "insurance_covered": lab_test.insurance_covered, "amount": run.price_amount, "cost_amount": run.cost_amount,
        "occurred_at": run.created_at,
        "details": {"loinc": lab_test.loinc, "test_code": lab_test.code, "results": results,
                    "analyzer_code": analyzer.code if analyzer else None},
    }


def log_test_run(fields: dict) -> dict:
    """Log a patient test: consume its reagent FEFO, bill it (unless a rerun) and close its worklist order."""
    lab_test, analyzer, lines, lots, run_id = catalogue.lab_test_for_a_run(
        fields["test_code"], fields.get("analyzer_code"), clock.today())
    billed = not fields.get("is_rerun", False)
    results = fields.get("results", [])

    def create_run(cost_amount: int) -> TestRun:
        values = dict(kind="patient", lab_test=lab_test, analyzer=analyzer, encounter_id=fields["encounter_id"],
                      patient_id=fields["patient_id"], is_rerun=not billed, billed=billed,
                      price_amount=lab_test.price_amount if billed else 0, cost_amount=cost_amount,
                      results=json.dumps(results, ensure_ascii=False), logged_by=stock.actor(), created_at=clock.now())
        if run_id is None:
            return create(TestRun, **values)
        return create_deferred(TestRun, id=run_id, **values)  # its id was drawn with the catalogue read

    def bill(run: TestRun) -> None:
        _close_worklist_order(run, lab_test)
        publish_charges_created([_charge_event(run, lab_test, analyzer, results)])

    run, shown = _record_run(lambda planned: patient_demand(lab_test, analyzer, lines, planned), create_run,
                             bill if billed else None, lots)
    return run_view(run, lab_test, analyzer, shown)


def log_qc_run(fields: dict) -> dict:
    """Log a QC or calibration run: it consumes the recipe once per level plus dead volume, and is never billed."""
    lab_test, analyzer, lines = catalogue.lab_test_with_recipe(fields["test_code"], fields.get("analyzer_code"))
    demand: dict = {}
    for line in lines:
        if line.basis == "test":
            _add(demand, line.reagent, "test", line.quantity * fields["levels"])
        elif line.basis == "run":
            _add(demand, line.reagent, "test", line.quantity)

    def create_run(cost_amount: int) -> TestRun:
        return TestRun.create(kind=fields["kind"], lab_test=lab_test, analyzer=analyzer, billed=False,
                              cost_amount=cost_amount, logged_by=stock.actor(), created_at=clock.now(),
                              results=json.dumps(fields.get("results", []), ensure_ascii=False))

    def qc_demand(_lots: dict) -> dict:
        if fields["kind"] == "qc":
            _takes_daily_overhead(lab_test, analyzer)  # logged QC is today's QC: patient tests skip the daily lines
        return demand

    run, shown = _record_run(qc_demand, create_run)
    return run_view(run, lab_test, analyzer, shown)


def _close_worklist_order(run: TestRun, lab_test: LabTest) -> None:
    """Mark the oldest open order of this test on this visit as done by `run` (none open: nothing to do).

    One guarded update, sent with the transaction's next statement (common.sql.defer): a concurrent run that
    closed the same order first leaves this one with nothing to close, as a read-then-update would.
    """
    defer(db, "UPDATE worklist_item SET state = %s, test_run_id = %s WHERE state = %s AND id = ("
              "SELECT id FROM worklist_item WHERE state = %s AND encounter_id = %s AND lab_test_id = %s"
              " ORDER BY id LIMIT 1)", ("done", run.id, "open", "open", run.encounter_id, lab_test.id))


def run_by_id(run_id: int) -> TestRun:
    """Return a test run or raise 404."""
    run = TestRun.get_or_none(TestRun.id == run_id)
    if run is None:
        raise NotFound(f"No test run {run_id}", code="TEST_RUN_NOT_FOUND")
    return run


def void_test_run(run_id: int, reason: str) -> dict:
    """Void a run: put the exact quantities back on the same lots (reversal rows) and reverse its charge."""
    run = run_by_id(run_id)
    with db.atomic():
        voided = (TestRun.update(status="voided", voided_at=clock.now(), voided_by=stock.actor(), void_reason=reason)
                  .where((TestRun.id == run.id) & (TestRun.status == "done")).execute())
        if not voided:
            raise Conflict(f"Test run {run_id} was already voided", code="TEST_RUN_ALREADY_VOIDED")
        entries = list(LedgerEntry.select().where((LedgerEntry.test_run == run) & (LedgerEntry.kind == "consumption")))
        for entry in entries:
            given_back = ReagentLot.on_hand - entry.quantity  # entry.quantity is negative: this adds it back
            ReagentLot.update(on_hand=given_back).where(ReagentLot.id == entry.lot_id).execute()
            LedgerEntry.create(reagent=entry.reagent_id, lot=entry.lot_id, kind="void_reversal",
                               quantity=-entry.quantity, cost_amount=-entry.cost_amount, test_run=run,
                               basis=entry.basis, reason=reason, recorded_by=stock.actor(),
                               created_at=clock.now())
            request_alert_check(entry.reagent_id)
        if run.billed:
            publish_charge_reversed({
                "key": f"lab:test-run:{run.id}:void", "charge_key": f"lab:test-run:{run.id}", "source": "lab",
                "encounter_id": run.encounter_id, "quantity": 1, "amount": run.price_amount, "reason": reason,
                "occurred_at": clock.now()})
    return describe_run(run.id)


def consumption_of(run: TestRun) -> list[dict]:
    """Return what a run took, per lot, from its consumption ledger rows."""
    lines: dict[int, dict] = {}
    entries = (LedgerEntry.select(LedgerEntry, ReagentLot).join(ReagentLot)
               .where((LedgerEntry.test_run == run) & (LedgerEntry.kind == "consumption")).order_by(LedgerEntry.id))
    codes = {}
    for entry in entries:
        if entry.reagent_id not in codes:
            codes[entry.reagent_id] = entry.lot.reagent.code
        line = lines.setdefault(entry.lot_id, {"reagent_code": codes[entry.reagent_id],
                                               "lot_number": entry.lot.lot_number, "quantity": 0, "cost_amount": 0})
        line["quantity"] -= entry.quantity
        line["cost_amount"] -= entry.cost_amount
    return list(lines.values())


def run_view(run: TestRun, lab_test: LabTest, analyzer: Analyzer | None, consumption: list[dict]) -> dict:
    """Describe a run as the lab sees it, with what it consumed."""
    return {
        "id": run.id, "kind": run.kind, "test_code": lab_test.code, "test_name": lab_test.name,
        "loinc": lab_test.loinc, "analyzer_code": analyzer.code if analyzer else None,
        "encounter_id": run.encounter_id, "patient_id": run.patient_id, "is_rerun": run.is_rerun,
        "billed": run.billed, "price_amount": run.price_amount, "cost_amount": run.cost_amount,
        "results": json.loads(run.results), "status": run.status, "logged_by": run.logged_by,
        "created_at": run.created_at, "voided_at": run.voided_at, "void_reason": run.void_reason,
        "charge_key": f"lab:test-run:{run.id}" if run.billed else None, "consumption": consumption,
    }


def describe_run(run_id: int) -> dict:
    """Show one run with its consumption."""
    run = run_by_id(run_id)
    return run_view(run, run.lab_test, run.analyzer, consumption_of(run))


def list_runs(query: dict) -> list[dict]:
    """List one page of runs, newest first, optionally for one visit or one test."""
    selection = TestRun.select()
    if query.get("encounter_id"):
        selection = selection.where(TestRun.encounter_id == query["encounter_id"])
    if query.get("test_code"):
        selection = selection.where(TestRun.lab_test == catalogue.lab_test_by_code(query["test_code"]))
    runs = page(selection, TestRun.id, query)
    return [run_view(run, run.lab_test, run.analyzer, consumption_of(run)) for run in runs]


def order_test(fields: dict) -> WorklistItem:
    """Put a test ordered for a patient on the open worklist."""
    lab_test = catalogue.lab_test_by_code(fields["test_code"])
    with db.atomic():
        item = WorklistItem.create(lab_test=lab_test, encounter_id=fields["encounter_id"],
                                   patient_id=fields["patient_id"], ordered_at=clock.now())
    for line in catalogue.recipe_of(lab_test, None):
        request_alert_check(line.reagent_id)
    return item


def list_worklist(query: dict) -> list[WorklistItem]:
    """List one page of worklist orders in one state, oldest first."""
    selection = WorklistItem.select(WorklistItem, LabTest).join(LabTest).where(WorklistItem.state == query["state"])
    return page(selection, WorklistItem.id, query, descending=False)
