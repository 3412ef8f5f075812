"""The lab's margin: per test, per period and per payer, what billing earned against the reagent the runs consumed.

- Reagent cost comes from the consumption ledger: what each run took (net of what a void put back), at lot cost.
- Revenue comes from billing (its internal charge-revenue read): the bill line of each run's charge as it stands
  now (reversals applied), with the insurer's, the patient's and other funding's parts. The payer is `bhyt` when
  BHYT pays part of the line, else `self_pay`.
- A patient run is billed when its bill line still counts a test; runs that used reagent but are billed by nobody
  (reruns, charges held or reversed) are listed one by one with the reagent lots they used.
- QC and calibration runs are the lab's overhead: their reagent cost is shown per test and period beside the margin.
Periods are local (Asia/Ho_Chi_Minh) months or days. Billing unreachable: 503, never a report that looks complete.
"""

import csv
import io
from collections import defaultdict
from datetime import date, datetime, timedelta

import peewee
import requests

from common import clock
from common.clients import call_service
from common.errors import ApiError, ValidationFailed
from lab_service.models import LabTest, LedgerEntry, Reagent, ReagentLot, TestRun

DEFAULT_PERIOD_DAYS = 30
SERIES = ("revenue_amount", "reagent_cost_amount", "margin_amount")
ROW_COLUMNS = ("test_code", "test_name", "period", "payer", "tests_billed", "revenue_amount", "insurer_amount",
               "patient_amount", "other_funding_amount", "reagent_cost_amount", "margin_amount")
UNBILLED_COLUMNS = ("run_id", "test_code", "created_at", "encounter_id", "reason", "cost_amount", "reagents")


class BillingUnavailable(ApiError):
    """Billing did not answer: a margin without revenue would mislead."""

    def __init__(self, detail: str):
        super().__init__(detail, code="BILLING_UNAVAILABLE", status=503)


def _period_of(moment: datetime, group: str) -> str:
    day = clock.local_day(moment)
    return day.isoformat() if group == "day" else day.strftime("%Y-%m")


def _revenue(since: datetime, until: datetime) -> dict[str, dict]:
    """Ask billing what each lab charge of the window earns now: {charge key: line}."""
    try:
        response = call_service("GET", "billing_service", "/internal/charge-revenue", params={
            "source": "lab", "since": since.isoformat(), "until": until.isoformat()})
    except requests.RequestException as exc:
        raise BillingUnavailable(f"Billing did not answer ({type(exc).__name__}); try again shortly") from None
    if response.status_code != 200:
        raise BillingUnavailable(f"Billing answered HTTP {response.status_code}; try again shortly")
    return {line["charge_key"]: line for line in response.json()}


def _consumption(run_ids: list[int]) -> dict[int, list[dict]]:
    """Return per run what it used, per lot, net of reversals: [{reagent_code, lot_number, quantity, cost}]."""
    used: dict[int, dict[int, dict]] = defaultdict(dict)
    for start in range(0, len(run_ids), 500):
        rows = (LedgerEntry.select(LedgerEntry.test_run, LedgerEntry.lot, Reagent.code, Reagent.base_unit,
                                   ReagentLot.lot_number, peewee.fn.SUM(LedgerEntry.quantity).alias("quantity"),
                                   peewee.fn.SUM(LedgerEntry.cost_amount).alias("cost"))
                .join(Reagent).switch(LedgerEntry).join(ReagentLot)
                .where(LedgerEntry.test_run.in_(run_ids[start:start + 500])
                       & LedgerEntry.kind.in_(("consumption", "void_reversal")))
                .group_by(LedgerEntry.test_run, LedgerEntry.lot, Reagent.code, Reagent.base_unit,
                          ReagentLot.lot_number).tuples())
        for run_id, lot_id, reagent_code, base_unit, lot_number, quantity, cost in rows:
            if -int(quantity):
                used[run_id][lot_id] = {"reagent_code": reagent_code, "lot_number": lot_number,
                                        "quantity": -int(quantity), "base_unit": base_unit, "cost_amount": -int(cost)}
    return {run_id: list(lots.values()) for run_id, lots in used.items()}


def _unbilled_reason(run: TestRun, line: dict | None) -> str | None:
    """Say why a run that used reagent earned nothing, or None when its bill line counts it."""
    if line is not None and line["quantity"] > 0:
        return None
    if run.is_rerun:
        return "rerun"
    if run.status == "voided" or line is not None:
        return "charge_reversed"
    return "charge_not_billed"  # held at the gateway, or still on its way


def _blank_row(test: LabTest, period: str, payer: str) -> dict:
    return {"test_code": test.code, "test_name": test.name, "period": period, "payer": payer,
            **dict.fromkeys(ROW_COLUMNS[4:], 0)}


def _add_billed(rows: dict, run: TestRun, period: str, line: dict, cost: int) -> None:
    row = rows.setdefault((run.lab_test.code, period, line["payer"]), _blank_row(run.lab_test, period,
                                                                                 line["payer"]))
    row["tests_billed"] += line["quantity"]
    for name in ("revenue_amount", "insurer_amount", "patient_amount", "other_funding_amount"):
        row[name] += line[name]
    row["reagent_cost_amount"] += cost
    row["margin_amount"] = row["revenue_amount"] - row["reagent_cost_amount"]


def _chart(rows: list[dict]) -> dict:
    """The data of the lab head's chart: per test, revenue, reagent cost and margin over the whole window."""
    by_test: dict[str, dict] = {}
    for row in rows:
        totals = by_test.setdefault(row["test_code"], dict.fromkeys(SERIES, 0))
        for name in SERIES:
            totals[name] += row[name]
    codes = sorted(by_test)
    return {"kind": "grouped_bar", "unit": "VND", "categories": codes,
            "series": [{"name": name, "data": [by_test[code][name] for code in codes]} for name in SERIES]}


def lab_margin(start: date | None = None, end: date | None = None, group: str = "month") -> dict:
    """Per test, period and payer: tests billed, revenue, reagent cost and margin; overhead; runs nobody billed."""
    end = end or clock.today()
    start = start or end - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    if start > end:
        raise ValidationFailed("'from' must not be after 'to'", errors={"from": ["must not be after 'to'"]})
    since, until = clock.day_span(start, end)
    runs = list(TestRun.select(TestRun, LabTest).join(LabTest)
                .where((TestRun.created_at >= since) & (TestRun.created_at < until)).order_by(TestRun.id))
    revenue, used = _revenue(since, until), _consumption([run.id for run in runs])
    rows, overhead, unbilled = {}, {}, []
    for run in runs:
        period, lots = _period_of(run.created_at, group), used.get(run.id, [])
        cost = sum(lot["cost_amount"] for lot in lots)
        extra = overhead.setdefault((run.lab_test.code, period), {
            "test_code": run.lab_test.code, "period": period, "qc_runs": 0, "qc_cost_amount": 0,
            "unbilled_runs": 0, "unbilled_cost_amount": 0})
        if run.kind != "patient":
            extra["qc_runs"] += 1
            extra["qc_cost_amount"] += cost
            continue
        line = revenue.get(f"lab:test-run:{run.id}")
        reason = _unbilled_reason(run, line)
        if reason is None:
            _add_billed(rows, run, period, line, cost)
        elif lots:
            extra["unbilled_runs"] += 1
            extra["unbilled_cost_amount"] += cost
            unbilled.append({"run_id": run.id, "test_code": run.lab_test.code, "created_at": run.created_at,
                             "encounter_id": run.encounter_id, "reason": reason, "cost_amount": cost,
                             "reagents": lots, "url": f"/api/v1/lab/test-runs/{run.id}"})
    lines = sorted(rows.values(), key=lambda row: (row["period"], row["test_code"], row["payer"]))
    totals = {name: sum(row[name] for row in lines) for name in ROW_COLUMNS[4:]}
    return {"start": start, "end": end, "group": group, "currency": "VND", "rows": lines,
            "overhead": sorted((o for o in overhead.values() if o["qc_runs"] or o["unbilled_runs"]),
                               key=lambda o: (o["period"], o["test_code"])),
            "unbilled_runs": unbilled, "totals": totals, "chart": _chart(lines)}


def margin_as_csv(report: dict, part: str = "rows") -> str:
    """Return the margin rows (or the runs nobody billed, with the reagent lots they used) as CSV."""
    out = io.StringIO()
    columns = UNBILLED_COLUMNS if part == "unbilled" else ROW_COLUMNS
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    if part == "unbilled":
        for run in report["unbilled_runs"]:
            reagents = "; ".join(f"{lot['reagent_code']} {lot['lot_number']} {lot['quantity']} {lot['base_unit']}"
                                 for lot in run["reagents"])
            writer.writerow({**run, "created_at": run["created_at"].isoformat(), "reagents": reagents})
    else:
        writer.writerows(report["rows"])
    return out.getvalue()
