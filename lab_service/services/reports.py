"""Lab reports: reagent yield per lot (tests logged vs billed vs unexplained loss) and the stock forecast."""

from collections import defaultdict
from datetime import date, datetime, timedelta

import peewee
from flask import current_app

from common import clock
from common.errors import ValidationFailed
from lab_service.models import LabTest, LedgerEntry, Reagent, ReagentLot, TestRun
from lab_service.services import stock
from lab_service.services.alerts import per_test_quantity, used_recently

DEFAULT_PERIOD_DAYS = 30
QUANTITY_FIELDS = ("received", "used_by_tests", "used_by_reruns", "used_by_qc_calibration", "wasted",
                   "counted_loss", "unexplained_quantity")
COUNT_FIELDS = ("expected_tests", "tests_logged", "tests_billed", "reruns", "voided_tests", "qc_runs",
                "unexplained_tests")


def _quantities(since: datetime, until: datetime) -> dict[int, dict]:
    """Sum ledger movements per lot into what they mean for yield."""
    rows = (LedgerEntry.select(LedgerEntry.lot, LedgerEntry.kind, LedgerEntry.basis,
                               TestRun.kind.alias("run_kind"), TestRun.is_rerun,
                               peewee.fn.SUM(LedgerEntry.quantity).alias("quantity"))
            .join(TestRun, peewee.JOIN.LEFT_OUTER)
            .where((LedgerEntry.created_at >= since) & (LedgerEntry.created_at < until))
            .group_by(LedgerEntry.lot, LedgerEntry.kind, LedgerEntry.basis, TestRun.kind, TestRun.is_rerun)
            .dicts())
    per_lot: dict[int, dict] = defaultdict(lambda: dict.fromkeys(QUANTITY_FIELDS + ("counted_net",), 0))
    for row in rows:
        totals, quantity = per_lot[row["lot"]], int(row["quantity"])
        if row["kind"] == "receipt":
            totals["received"] += quantity
        elif row["kind"] == "wastage":
            totals["wasted"] -= quantity
        elif row["kind"] == "count_adjustment":
            totals["counted_net"] += quantity
        elif row["run_kind"] != "patient" or row["basis"] in ("lot_opened", "day"):
            totals["used_by_qc_calibration"] -= quantity
        elif row["is_rerun"]:
            totals["used_by_reruns"] -= quantity
        else:
            totals["used_by_tests"] -= quantity
    for totals in per_lot.values():
        shortfall = max(0, -totals.pop("counted_net"))
        totals["unexplained_quantity"] = shortfall
        totals["counted_loss"] = totals["wasted"] + shortfall
    return per_lot


def _run_counts(since: datetime, until: datetime) -> dict[int, dict]:
    """Count the runs that drew from each lot, by what kind of run they were."""
    rows = (LedgerEntry.select(LedgerEntry.lot, TestRun.lab_test, TestRun.kind, TestRun.is_rerun, TestRun.billed,
                               TestRun.status, peewee.fn.COUNT(peewee.fn.DISTINCT(TestRun.id)).alias("runs"))
            .join(TestRun)
            .where((LedgerEntry.kind == "consumption") & (TestRun.created_at >= since) & (TestRun.created_at < until))
            .group_by(LedgerEntry.lot, TestRun.lab_test, TestRun.kind, TestRun.is_rerun, TestRun.billed,
                      TestRun.status)
            .dicts())
    per_lot: dict[int, dict] = defaultdict(lambda: {**dict.fromkeys(COUNT_FIELDS, 0), "by_test": defaultdict(int)})
    for row in rows:
        counts, runs = per_lot[row["lot"]], row["runs"]
        if row["status"] == "voided":
            counts["voided_tests"] += runs
        elif row["kind"] != "patient":
            counts["qc_runs"] += runs
        else:
            counts["tests_logged"] += runs
            counts["tests_billed"] += runs if row["billed"] else 0
            counts["reruns"] += runs if row["is_rerun"] else 0
            counts["by_test"][row["lab_test"]] += runs
    return per_lot


def _lot_line(lot: ReagentLot, quantities: dict, counts: dict, per_test: dict[int, int], names: dict) -> dict:
    """Build one lot's yield line, measuring expected tests by the test it served most."""
    by_test = counts.pop("by_test")
    main_test = max(by_test, key=by_test.get) if by_test else next(iter(per_test), None)
    quantity_per_test = per_test.get(main_test, 0)
    line = {"lot_number": lot.lot_number, "expires_on": lot.expires_on, "lot_size": lot.received_quantity,
            "on_hand": lot.on_hand, "test_code": names.get(main_test), "quantity_per_test": quantity_per_test,
            **quantities, **counts}
    if quantity_per_test:
        line["expected_tests"] = lot.received_quantity // quantity_per_test
        line["unexplained_tests"] = quantities["unexplained_quantity"] // quantity_per_test
    return line


def reagent_yield(start: date | None = None, end: date | None = None) -> dict:
    """Per reagent and lot: tests expected from the lot vs logged, billed, reruns, QC use, loss and the unexplained."""
    end = end or clock.today()
    start = start or end - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    if start > end:
        raise ValidationFailed("'from' must not be after 'to'", errors={"from": ["must not be after 'to'"]})
    since, until = clock.day_span(start, end)
    quantities, counts = _quantities(since, until), _run_counts(since, until)
    lot_ids = set(quantities) | set(counts)
    lots = ReagentLot.select(ReagentLot, Reagent).join(Reagent).where(ReagentLot.id.in_(list(lot_ids))) \
        if lot_ids else []
    names = {t.id: t.code for t in LabTest.select(LabTest.id, LabTest.code)}
    by_reagent: dict[int, dict] = {}
    for lot in sorted(lots, key=lambda lot: (lot.reagent.code, lot.expires_on, lot.id)):
        reagent = lot.reagent
        entry = by_reagent.setdefault(reagent.id, {
            "reagent_code": reagent.code, "name": reagent.name, "base_unit": reagent.base_unit,
            "per_test": per_test_quantity(reagent), "lots": []})
        blank_quantities = dict.fromkeys(QUANTITY_FIELDS, 0)
        blank_counts = {**dict.fromkeys(COUNT_FIELDS, 0), "by_test": {}}
        entry["lots"].append(_lot_line(lot, quantities.get(lot.id, blank_quantities),
                                       counts.get(lot.id, blank_counts), entry["per_test"], names))
    reagents = []
    for entry in by_reagent.values():
        entry.pop("per_test")
        entry["totals"] = {name: sum(line[name] for line in entry["lots"]) for name in
                           ("lot_size",) + QUANTITY_FIELDS + COUNT_FIELDS}
        reagents.append(entry)
    return {"start": start, "end": end, "reagents": reagents}


def forecast() -> dict:
    """Per reagent: usable stock, recent daily use, days of cover and tests remaining per test type."""
    window = current_app.config["LAB_USAGE_WINDOW_DAYS"]
    names = {t.id: t.code for t in LabTest.select(LabTest.id, LabTest.code)}
    reagents, remaining_by_test = [], defaultdict(list)
    for reagent in Reagent.select().order_by(Reagent.code):
        usable = stock.usable_quantity(reagent)
        used = used_recently(reagent, window)
        tests_remaining = {}
        for test_id, quantity in per_test_quantity(reagent).items():
            tests_remaining[names[test_id]] = usable // quantity
            remaining_by_test[names[test_id]].append((usable // quantity, reagent.code))
        reagents.append({
            "reagent_code": reagent.code, "name": reagent.name, "base_unit": reagent.base_unit, "usable": usable,
            "reorder_level": reagent.reorder_level, "used_last_days": used, "window_days": window,
            "daily_use": used // window, "days_of_cover": usable * window // used if used else None,
            "tests_remaining": tests_remaining})
    tests = [{"test_code": code, "tests_remaining": min(options)[0], "limiting_reagent": min(options)[1]}
             for code, options in sorted(remaining_by_test.items())]
    return {"reagents": reagents, "tests": tests}
