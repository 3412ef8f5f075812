"""The lab head's reports: reagent yield, run-out forecast and margin, each a table, an SVG chart and a CSV."""

import csv
import io

from flask import Response, request
from flask_babel import gettext as _

from gateway.screens.api import Refusal, items
from gateway.screens.charts import Series, bar_chart
from gateway.screens.formatting import money, number
from gateway.screens.lab.shared import PAYERS, UNBILLED, blp
from gateway.screens.pages import api, render
from gateway.screens.problems import explain

# --- reports -----------------------------------------------------------------------------------------------------

def period() -> dict:
    """The report's period from the query (?from=&to= as yyyy-mm-dd; the API's default of 30 days otherwise)."""
    return {"from": request.args.get("from") or None, "to": request.args.get("to") or None}


def csv_file(name: str, header: list[str], rows: list[list]) -> Response:
    """A CSV download (UTF-8 with a BOM, so a spreadsheet opens Vietnamese names right)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


def report_refused(template: str, refusal: Refusal, **context):
    """A report the API refused (a bad period): the page again with the reason, 4xx."""
    if refusal.status == 401:
        raise refusal
    return render(template, refusal.status, error=explain(refusal), chart=None, **context)


YIELD_COLUMNS = ("reagent_code", "lot_number", "expires_on", "test_code", "lot_size", "quantity_per_test",
                 "expected_tests", "tests_logged", "tests_billed", "reruns", "voided_tests", "qc_runs", "received",
                 "used_by_tests", "used_by_reruns", "used_by_qc_calibration", "wasted", "counted_loss",
                 "unexplained_quantity", "unexplained_tests", "on_hand")


def yield_lines(report: dict) -> list[dict]:
    return [{**lot, "reagent_code": reagent["reagent_code"], "name": reagent["name"], "base_unit": reagent["base_unit"]}
            for reagent in report["reagents"] for lot in reagent["lots"]]


@blp.route("/reports/yield")
def yield_report():
    """The reagent-yield report: per lot, tests the lot should give vs logged vs billed, losses; a chart."""
    try:
        report = api().get("/api/v1/lab/reports/reagent-yield", **period())
    except Refusal as refusal:
        return report_refused("lab/report_yield.html", refusal, lines=[], period=period())
    lines = yield_lines(report)
    chart = bar_chart(_("Tests per lot: expected from the lot, logged, billed"),
                      [f"{line['reagent_code']} {line['lot_number']}" for line in lines],
                      [Series(_("Expected"), [line.get("expected_tests") for line in lines], "s1"),
                       Series(_("Logged"), [line["tests_logged"] for line in lines], "s2"),
                       Series(_("Billed"), [line["tests_billed"] for line in lines], "s3")], label=number)
    return render("lab/report_yield.html", report=report, lines=lines, chart=chart if lines else None,
                  period={"from": report["from"], "to": report["to"]})


@blp.route("/reports/yield.csv")
def yield_csv():
    """The reagent-yield report as CSV, one row per lot."""
    report = api().get("/api/v1/lab/reports/reagent-yield", **period())
    rows = [[line.get(column, "") for column in YIELD_COLUMNS] for line in yield_lines(report)]
    return csv_file(f"reagent_yield_{report['from']}_{report['to']}", list(YIELD_COLUMNS), rows)


@blp.route("/reports/forecast")
def forecast():
    """The run-out forecast: tests each test can still run (and which reagent limits it), days of cover."""
    report = api().get("/api/v1/lab/reports/forecast")
    tests = report["tests"]
    names = {test["code"]: test["name"] for test in items(api().get("/api/v1/lab/tests", limit=1000))}
    tests_chart = bar_chart(_("Tests that can still be run, per test"), [test["test_code"] for test in tests],
                            [Series(_("Tests remaining"), [test["tests_remaining"] for test in tests], "s1")],
                            label=number)
    covered = report["reagents"]
    cover_chart = bar_chart(_("Days of cover at recent use, per reagent"),
                            [reagent["reagent_code"] for reagent in covered],
                            [Series(_("Days of cover"), [reagent["days_of_cover"] for reagent in covered], "s2")],
                            label=lambda days: _("%(days)s days", days=number(days)), cap=120,
                            missing=_("no recent use"))
    return render("lab/report_forecast.html", report=report, names=names, tests_chart=tests_chart,
                  cover_chart=cover_chart)


@blp.route("/reports/forecast.csv")
def forecast_csv():
    """The run-out forecast as CSV: one row per reagent and test it serves."""
    report = api().get("/api/v1/lab/reports/forecast")
    limits = {test["test_code"]: test for test in report["tests"]}
    rows = []
    for reagent in report["reagents"]:
        for test_code, remaining in sorted(reagent["tests_remaining"].items()) or [("", "")]:
            limiting = limits.get(test_code, {}).get("limiting_reagent") == reagent["reagent_code"]
            rows.append([reagent["reagent_code"], reagent["name"], reagent["base_unit"], reagent["usable"],
                         reagent["reorder_level"], reagent["used_last_days"], reagent["window_days"],
                         reagent["daily_use"], "" if reagent["days_of_cover"] is None else reagent["days_of_cover"],
                         test_code, remaining, "yes" if limiting else ""])
    header = ["reagent_code", "name", "base_unit", "usable", "reorder_level", "used_last_days", "window_days",
              "daily_use", "days_of_cover", "test_code", "tests_remaining", "limits_the_test"]
    return csv_file("run_out_forecast", header, rows)


def margin_query() -> dict:
    group = request.args.get("group", "month")
    return {**period(), "group": group if group in ("month", "day") else "month"}


@blp.route("/reports/margin")
def margin():
    """The lab's margin per test, period and payer (billed tests, revenue, reagent cost, margin), runs nobody
    billed with the reagent they used; a chart per test."""
    query = margin_query()
    try:
        report = api().get("/api/v1/lab/reports/margin", **query)
    except Refusal as refusal:
        return report_refused("lab/report_margin.html", refusal, report=None, period=query)
    chart_data = report["chart"]
    names = {"revenue_amount": (_("Revenue"), "s1"), "reagent_cost_amount": (_("Reagent cost"), "s2"),
             "margin_amount": (_("Margin"), "s3")}
    series = [Series(names[one["name"]][0], one["data"], names[one["name"]][1]) for one in chart_data["series"]]
    chart = (bar_chart(_("Revenue, reagent cost and margin per test"), chart_data["categories"], series, label=money)
             if chart_data["categories"] else None)
    return render("lab/report_margin.html", report=report, chart=chart, payers=PAYERS, unbilled=UNBILLED,
                  period={"from": report["start"], "to": report["end"], "group": report["group"]})


@blp.route("/reports/margin.csv")
def margin_csv():
    """The margin as the API writes it (part=rows, or part=unbilled for the runs nobody billed)."""
    part = "unbilled" if request.args.get("part") == "unbilled" else "rows"
    payload, headers = api().download("/api/v1/lab/reports/margin", **margin_query(), format="csv", part=part)
    return Response(payload, mimetype="text/csv",
                    headers={"Content-Disposition": headers.get("Content-Disposition",
                                                                'attachment; filename="lab_margin.csv"')})
