"""Test-run verbs: log a patient test or a QC/calibration run (consuming reagent FEFO), void a run, the worklist."""

import json

from common import clock
from common.auth import actor
from common.charges import publish_charge_created, publish_charge_reversed
from common.errors import Conflict, NotFound
from common.paging import page
from common.stock import stock_attempts
from lab_service import store
from lab_service.models import Analyzer, LabTest, LedgerEntry, ReagentLot, TestRun, WorklistItem, db
from lab_service.services import catalogue, stock
from lab_service.services.alert_requests import request_alert_check
from lab_service.services.catalogue import Recipe


def _add(demand: dict, reagent, basis: str, quantity: int) -> None:
    """Add a quantity of a reagent, for a basis, to a run's demand."""
    if quantity > 0:
        demand.setdefault(reagent, []).append((basis, quantity))


def _opens_a_lot(recipe: Recipe, lots: dict) -> bool:
    """Tell whether this run will draw a per-test reagent from a lot nobody has opened yet."""
    return any(lots[line.reagent_id] and lots[line.reagent_id][0].opened_at is None
               for line in recipe.lines if line.basis in ("test", "run"))


def _takes_daily_overhead(recipe: Recipe) -> bool:
    """Claim today's once-a-day QC/calibration for this test and analyzer; True if this run is the first today."""
    analyzer_code = recipe.analyzer.code if recipe.analyzer else ""
    return store.claim_daily_overhead(recipe.lab_test.id, analyzer_code, clock.today())


def patient_demand(recipe: Recipe, lots: dict) -> dict:
    """Work out what one patient test takes: the recipe with dead volume, and any lot-opening or daily overhead."""
    demand: dict = {}
    for line in recipe.lines:
        if line.basis in ("test", "run"):
            _add(demand, line.reagent, "test", line.quantity)
    if any(line.basis == "lot_opened" for line in recipe.lines) and _opens_a_lot(recipe, lots):
        for line in recipe.lines:
            if line.basis == "lot_opened":
                _add(demand, line.reagent, "lot_opened", line.quantity)
    if any(line.basis == "day" for line in recipe.lines) and _takes_daily_overhead(recipe):
        for line in recipe.lines:
            if line.basis == "day":
                _add(demand, line.reagent, "day", line.quantity)
    return demand


def qc_demand(recipe: Recipe, levels: int) -> dict:
    """Work out what a QC or calibration run takes: the recipe once per level plus the dead volume."""
    demand: dict = {}
    for line in recipe.lines:
        if line.basis == "test":
            _add(demand, line.reagent, "test", line.quantity * levels)
        elif line.basis == "run":
            _add(demand, line.reagent, "test", line.quantity)
    return demand


def _charge_event(run: TestRun, recipe: Recipe, results: list, reagent_lots: list[dict]) -> dict:
    """Build the charge.created of a billed run, priced from the catalogue."""
    lab_test, analyzer = recipe.lab_test, recipe.analyzer
    return {
        "key": f"lab:test-run:{run.id}", "source": "lab", "source_id": str(run.id),
        "encounter_id": run.encounter_id, "patient_id": run.patient_id, "item_kind": "service",
        "code": lab_test.service_code, "name": lab_test.name, "unit": lab_test.unit_name, "quantity": 1,
        "unit_price_amount": run.price_amount, "insurance_unit_price_amount": lab_test.insurance_price_amount,
        "insurance_covered": lab_test.insurance_covered, "amount": run.price_amount, "cost_amount": run.cost_amount,
        "occurred_at": run.created_at, "ordered_by_id": run.ordered_by_id, "performed_by_id": run.performed_by_id,
        "details": {"loinc": lab_test.loinc, "test_code": lab_test.code, "results": results,
                    "analyzer_code": analyzer.code if analyzer else None, "reagent_lots": reagent_lots},
    }


def log_test_run(fields: dict) -> dict:
    """Log a patient test: consume its reagent FEFO, bill it (unless a rerun) and close its worklist order."""
    recipe = catalogue.recipe_for_a_run(fields["test_code"], fields.get("analyzer_code"))
    billed = not fields.get("is_rerun", False)
    results = fields.get("results", [])
    for attempt in stock_attempts():
        with attempt, db.atomic():
            lots = stock.usable_lots(recipe.reagents)
            pieces = stock.plan(patient_demand(recipe, lots), lots)
            consumption = stock.consumption_lines(pieces)
            run = store.add_run(
                kind="patient", lab_test=recipe.lab_test, analyzer=recipe.analyzer,
                encounter_id=fields["encounter_id"], patient_id=fields["patient_id"], is_rerun=not billed,
                billed=billed, price_amount=recipe.lab_test.price_amount if billed else 0,
                cost_amount=sum(line["cost_amount"] for line in consumption),
                results=json.dumps(results, ensure_ascii=False), logged_by=actor(), created_at=clock.now(),
                ordered_by_id=fields.get("ordered_by_id"), performed_by_id=fields.get("performed_by_id"))
            shown = stock.consumption_by_lot(consumption)
            if billed:
                store.close_worklist_order(run)
                reagent_lots = [{k: lot[k] for k in ("reagent_code", "lot_number", "quantity")} for lot in shown]
                publish_charge_created(_charge_event(run, recipe, results, reagent_lots))
            heads = stock.take(pieces)
            stock.write_consumption(consumption, run, heads)  # chained while the lots are locked
            request_alert_check(*recipe_reagent_ids(recipe))
            return run_view(run, recipe.lab_test, recipe.analyzer, shown)


def log_qc_run(fields: dict) -> dict:
    """Log a QC or calibration run: it consumes the recipe once per level plus dead volume, and is never billed."""
    recipe = catalogue.recipe_for_a_run(fields["test_code"], fields.get("analyzer_code"))
    results = json.dumps(fields.get("results", []), ensure_ascii=False)
    for attempt in stock_attempts():
        with attempt, db.atomic():
            if fields["kind"] == "qc":
                _takes_daily_overhead(recipe)  # logged QC is today's QC: patient tests skip the daily lines
            pieces = stock.plan(qc_demand(recipe, fields["levels"]))
            consumption = stock.consumption_lines(pieces)
            run = store.add_run(kind=fields["kind"], lab_test=recipe.lab_test, analyzer=recipe.analyzer,
                                billed=False, cost_amount=sum(line["cost_amount"] for line in consumption),
                                logged_by=actor(), created_at=clock.now(), results=results)
            shown = stock.consumption_by_lot(consumption)
            heads = stock.take(pieces)
            stock.write_consumption(consumption, run, heads)
            request_alert_check(*recipe_reagent_ids(recipe))
            return run_view(run, recipe.lab_test, recipe.analyzer, shown)


def recipe_reagent_ids(recipe: Recipe) -> list[int]:
    """The ids of the reagents a recipe draws on."""
    return [reagent.id for reagent in recipe.reagents]


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
        voided = (TestRun.update(status="voided", voided_at=clock.now(), voided_by=actor(), void_reason=reason)
                  .where((TestRun.id == run.id) & (TestRun.status == "done")).execute())
        if not voided:
            raise Conflict(f"Test run {run_id} was already voided", code="TEST_RUN_ALREADY_VOIDED")
        entries = list(LedgerEntry.select().where((LedgerEntry.test_run == run) & (LedgerEntry.kind == "consumption")))
        request_alert_check(*{entry.reagent_id for entry in entries})
        for entry in sorted(entries, key=lambda entry: entry.lot_id):  # lots locked in id order
            given_back = ReagentLot.on_hand - entry.quantity  # entry.quantity is negative: this adds it back
            ReagentLot.update(on_hand=given_back).where(ReagentLot.id == entry.lot_id).execute()
        if entries:
            store.add_ledger_rows([{"reagent": entry.reagent_id, "lot": entry.lot_id, "kind": "void_reversal",
                                    "quantity": -entry.quantity, "cost_amount": -entry.cost_amount,
                                    "test_run": run.id, "basis": entry.basis, "reason": reason,
                                    "recorded_by": actor(), "created_at": clock.now()} for entry in entries])
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
        "ordered_by_id": run.ordered_by_id, "performed_by_id": run.performed_by_id,
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
                                   patient_id=fields["patient_id"], ordered_by_id=fields.get("ordered_by_id"),
                                   ordered_at=clock.now())
    request_alert_check(*(line.reagent_id for line in catalogue.recipe_of(lab_test, None)))
    return item


def list_worklist(query: dict) -> list[WorklistItem]:
    """List one page of worklist orders in one state, oldest first."""
    selection = WorklistItem.select(WorklistItem, LabTest).join(LabTest).where(WorklistItem.state == query["state"])
    return page(selection, WorklistItem.id, query, descending=False)
