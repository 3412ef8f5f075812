"""The lab head's office (lab_head): reagents and lots, recipes, alerts, counts and wastage, and the reports.

URL -> view -> template:
/lab/ home -> lab/home.html (every reagent's stock and lots at a glance, the open alerts);
/lab/reagents/<code> -> lab/reagent.html (POST .../settings: reorder level, cost, QC release, stability), its live
  part lab/_stock.html (lots, receive, count, wastage, stock card);
  POST /lab/reagents/<code>/lots (receive), .../lots/<id>/{release,quarantine,open}, /lab/lots/{count,wastage}
  answer lab/_stock.html again, with what was done;
/lab/recipes -> lab/recipes.html; /lab/recipes/<code> -> lab/recipe.html (PUT of the whole recipe);
/lab/alerts -> lab/alerts.html; POST /lab/alerts/<id>/acknowledge -> lab/_alert.html;
/lab/counts -> lab/counts.html (every count adjustment and wastage: the discrepancies);
/lab/reports/{yield,forecast,margin} -> lab/report_*.html (a table and an SVG chart), each with a .csv download.

Every form posts through the gateway's public API in-process. Stock forms carry a UUID made in the browser,
forwarded as the Idempotency-Key (as at the bench), so a double submit receives, counts or wastes once. A refusal
is shown above the form (HX-Retarget) so what the lab head typed stays in the form.
"""

import csv
import io
import re
from functools import wraps

from flask import Response, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from gateway.screens.api import Refusal, items
from gateway.screens.bench import alert_text
from gateway.screens.charts import Series, bar_chart
from gateway.screens.formatting import money, number
from gateway.screens.pages import api, area_blueprint, form_submission_id, is_htmx, quoted, render
from gateway.screens.problems import explain

blp = area_blueprint("lab")

LOT_STATUS = {"usable": _l("usable"), "quarantined": _l("quarantined"), "expired": _l("expired"),
              "past_opened_stability": _l("past stability once opened"), "empty": _l("empty")}
BASES = {"test": _l("per test"), "run": _l("per run (dead volume)"), "lot_opened": _l("when a run opens a new lot"),
         "day": _l("once a day (QC)")}
ALERT_STATES = {"open": _l("Not acknowledged"), "acknowledged": _l("Acknowledged"), "closed": _l("Closed")}
LOT_ACTIONS = {"release": _l("Lot %(lot)s released: tests may use it."),
               "quarantine": _l("Lot %(lot)s quarantined: no test takes from it until it is released."),
               "open": _l("Lot %(lot)s opened: its stability clock has started.")}
UNBILLED = {"rerun": _l("rerun"), "charge_reversed": _l("charge reversed"), "charge_not_billed": _l("not billed")}
PAYERS = {"bhyt": _l("BHYT"), "self_pay": _l("self-pay")}
RECIPE_ROWS_FREE = 3  # blank lines under a recipe, to add reagents
MOVEMENT_KINDS = ("count_adjustment", "wastage")


def lot_status(lot: dict) -> str:
    """Return a lot's status word: usable, or why it is not (quarantined, expired, past stability, empty)."""
    return "usable" if lot.get("usable") else (lot.get("unusable_reason") or "empty")


GROUPED = re.compile(r"-?(\d{1,18}|\d{1,3}([. ]\d{3}){1,5})")  # 200000, 200.000 or 200 000 (never a decimal comma)


def whole(text: str | None):
    """Read a typed whole number ("200.000", "200 000" or "200000"); anything else ("1,5", "1.5", words) goes to
    the API as typed, which refuses it naming the field. Empty is None."""
    text = (text or "").strip()
    if not text:
        return None
    return int(re.sub(r"[. ]", "", text)) if GROUPED.fullmatch(text) else text


def submission_id() -> str:
    """Return the form's UUID (the Idempotency-Key), or stop with 422 when it has none."""
    value = form_submission_id()
    if value:
        return value
    raise Refusal(422, {"code": "NO_SUBMISSION_ID", "detail": "no submission id"})


def acting(view):
    """Answer an API refusal of a form above the form (its values stay as typed), in the user's language."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except Refusal as refusal:
            if refusal.status == 401 or not is_htmx():
                raise
            message = (_("This form has no submission number; reload the page.")
                       if refusal.code == "NO_SUBMISSION_ID" else explain(refusal))
            html, status = render("common/_refusal.html", refusal.status, message=message)
            return html, status, {"HX-Retarget": "#outcome", "HX-Reswap": "innerHTML"}
    return wrapper


# --- reagents and lots -------------------------------------------------------------------------------------------

def reagents_with_stock() -> list[dict]:
    """Return every reagent with its lots and usable stock."""
    return [api().get(f"/api/v1/lab/reagents/{quoted(reagent['code'])}")
            for reagent in items(api().get("/api/v1/lab/reagents", limit=1000))]


@blp.route("/")
def home():
    """Show every reagent's stock and lots at a glance, and how many alerts wait."""
    reagents = reagents_with_stock()
    for one in reagents:
        one["lots"] = [{**lot, "status": lot_status(lot)} for lot in one["lots"]]
    alerts = items(api().get("/api/v1/lab/alerts", state="open", limit=200))
    return render("lab/home.html", reagents=reagents, open_alerts=len(alerts), lot_status=LOT_STATUS)


def stock_context(code: str, notice: str | None = None, movement: dict | None = None) -> dict:
    """What a reagent's live part shows: the reagent, its lots with their status, its latest stock card rows."""
    reagent = api().get(f"/api/v1/lab/reagents/{quoted(code)}")
    lots = [{**lot, "status": lot_status(lot)} for lot in reagent["lots"]]
    card = api().get(f"/api/v1/lab/reagents/{quoted(code)}/ledger", limit=30)
    return {"reagent": reagent, "lots": lots, "card": list(reversed(card["entries"])), "notice": notice,
            "movement": movement, "lot_status": LOT_STATUS}


@blp.route("/reagents/<code>")
def reagent(code):
    """Show a reagent: its lots (receive, quarantine or release, open), counts and wastage, its stock card."""
    return render("lab/reagent.html", **stock_context(code))


@blp.route("/reagents/<code>/settings", methods=["POST"])
def reagent_settings(code):
    """Change a reagent's reorder level, unit cost, QC release and stability once opened (alerts are re-checked)."""
    form = request.form
    changes = {"reorder_level": whole(form.get("reorder_level")),
               "unit_cost_amount": whole(form.get("unit_cost_amount")),
               "stability_days_after_opening": whole(form.get("stability_days_after_opening")),
               "requires_qc_release": form.get("requires_qc_release") == "on"}
    changes = {name: value for name, value in changes.items()
               if value is not None or name == "stability_days_after_opening"}
    try:
        api().call("PATCH", f"/api/v1/lab/reagents/{quoted(code)}", body=changes)
    except Refusal as refusal:
        if refusal.status == 401:
            raise
        return render("lab/reagent.html", refusal.status, settings_error=explain(refusal), **stock_context(code))
    return render("lab/reagent.html", settings_notice=_("Settings of %(reagent)s saved.", reagent=code),
                  **stock_context(code))


def stock_answer(code: str, notice: str, movement: dict | None = None):
    """Answer a stock form: the reagent's live part again (htmx), or the whole page after a plain POST."""
    if not is_htmx():
        return redirect(url_for(".reagent", code=code), 303)
    html, status = render("lab/_stock.html", **stock_context(code, notice, movement))
    return html, status, {"HX-Trigger": "stock-changed"}


@blp.route("/reagents/<code>/lots", methods=["POST"])
@acting
def receive_lot(code):
    """Receive a lot into stock (quarantined first when the reagent needs QC release)."""
    key, form = submission_id(), request.form
    body = {"lot_number": form.get("lot_number", "").strip(), "supplier": form.get("supplier", "").strip(),
            "expires_on": form.get("expires_on", "").strip(), "quantity": whole(form.get("quantity"))}
    if whole(form.get("cost_amount")) is not None:
        body["cost_amount"] = whole(form.get("cost_amount"))
    answer = api().post(f"/api/v1/lab/reagents/{quoted(code)}/lots", body, idempotency_key=key)
    lot = answer.body
    notice = (_("Lot %(lot)s received: %(quantity)s %(unit)s, quarantined until QC releases it.")
              if lot["state"] == "quarantined" else _("Lot %(lot)s received: %(quantity)s %(unit)s, usable."))
    notice %= {"lot": lot["lot_number"], "quantity": number(lot["received_quantity"]), "unit": _unit(code)}
    if answer.replayed:
        notice += " " + _("(This form had already been sent; received once.)")
    return stock_answer(code, notice)


def _unit(code: str) -> str:
    return api().get(f"/api/v1/lab/reagents/{quoted(code)}")["base_unit"]


@blp.route("/reagents/<code>/lots/<int:lot_id>/<any(release, quarantine, open):action>", methods=["POST"])
@acting
def lot_action(code, lot_id, action):
    """Release, quarantine or open a lot."""
    lot = api().post(f"/api/v1/lab/reagents/{quoted(code)}/lots/{lot_id}/{action}",
                     idempotency_key=submission_id()).body
    return stock_answer(code, str(LOT_ACTIONS[action]) % {"lot": lot["lot_number"]})


@blp.route("/lots/<any(count, wastage):kind>", methods=["POST"])
@acting
def lot_movement(kind):
    """Record a physical count (the difference becomes an adjustment) or wastage on the chosen lot."""
    key, form = submission_id(), request.form
    code, reason = form.get("reagent", ""), form.get("reason", "").strip()
    lot_id = whole(form.get("lot"))
    if not isinstance(lot_id, int) or not 1 <= lot_id < 2**31:
        raise Refusal(422, {"code": "VALIDATION_FAILED", "errors": {"lot": ["choose a lot"]}})
    if kind == "count":
        body = {"counted_quantity": whole(form.get("quantity")), "reason": reason}
        path = f"/api/v1/lab/reagent-lots/{lot_id}/counts"
    else:
        body = {"quantity": whole(form.get("quantity")), "reason": reason}
        path = f"/api/v1/lab/reagent-lots/{lot_id}/wastage"
    movement = api().post(path, body, idempotency_key=key).body
    unit = _unit(movement["reagent_code"])
    figures = {"lot": movement["lot_number"], "before": number(movement["book_before"]),
               "after": number(movement["book_after"]), "difference": number(movement["quantity"]), "unit": unit}
    if kind == "wastage":
        notice = _("Wastage recorded on lot %(lot)s: %(before)s → %(after)s %(unit)s.") % figures
    elif movement["quantity"] == 0:
        notice = _("Count recorded on lot %(lot)s: %(after)s %(unit)s, as the book said.") % figures
    else:
        notice = _("Count recorded on lot %(lot)s: the book said %(before)s %(unit)s, counted %(after)s %(unit)s "
                   "(difference %(difference)s %(unit)s).") % figures
    return stock_answer(movement["reagent_code"] or code, notice, movement)


@blp.route("/counts")
def counts():
    """Show every count adjustment and wastage of every reagent, newest first: the discrepancies."""
    rows = []
    for one in items(api().get("/api/v1/lab/reagents", limit=1000)):
        card = api().get(f"/api/v1/lab/reagents/{quoted(one['code'])}/ledger", limit=5000)
        rows += [{**entry, "reagent_code": one["code"], "name": one["name"], "base_unit": one["base_unit"]}
                 for entry in card["entries"] if entry["kind"] in MOVEMENT_KINDS]
    rows.sort(key=lambda row: row["created_at"], reverse=True)
    discrepancies = [row for row in rows if row["kind"] == "count_adjustment" and row["quantity"] != 0]
    return render("lab/counts.html", rows=rows, discrepancies=len(discrepancies))


# --- recipes -----------------------------------------------------------------------------------------------------

@blp.route("/recipes")
def recipes():
    """Show every test with what it consumes."""
    reagents = {reagent["code"]: reagent for reagent in items(api().get("/api/v1/lab/reagents", limit=1000))}
    tests = items(api().get("/api/v1/lab/tests", limit=1000))
    return render("lab/recipes.html", tests=tests, reagents=reagents, bases=BASES)


def recipe_context(code: str, lines: list[dict] | None = None) -> dict:
    test = api().get(f"/api/v1/lab/tests/{quoted(code)}")
    shown = lines if lines is not None else test["recipe"]
    return {"test": test, "lines": shown + [{}] * RECIPE_ROWS_FREE, "bases": BASES,
            "reagents": items(api().get("/api/v1/lab/reagents", limit=1000)),
            "analyzers": items(api().get("/api/v1/lab/analyzers", limit=1000))}


@blp.route("/recipes/<code>")
def recipe(code):
    """Show a test's recipe as a form: one row per line, blank rows to add one, an empty quantity removes one."""
    return render("lab/recipe.html", **recipe_context(code))


@blp.route("/recipes/<code>", methods=["POST"])
def save_recipe(code):
    """Replace a test's recipe (for runs logged from now on) with the form's lines."""
    form, lines = request.form, []
    for reagent_code, quantity, basis, analyzer in zip(form.getlist("reagent_code"), form.getlist("quantity"),
                                                       form.getlist("basis"), form.getlist("analyzer_code"),
                                                       strict=False):
        if not reagent_code.strip() and not quantity.strip():
            continue
        lines.append({"reagent_code": reagent_code.strip(), "quantity": whole(quantity),
                      "basis": basis or "test", "analyzer_code": analyzer.strip() or None})
    try:
        saved = api().put(f"/api/v1/lab/tests/{quoted(code)}/recipe", {"recipe": lines}).body
    except Refusal as refusal:
        if refusal.status == 401:
            raise
        return render("lab/recipe.html", refusal.status, error=explain(refusal), **recipe_context(code, lines))
    return render("lab/recipe.html", notice=_("Recipe of %(test)s saved: runs logged from now on use it.",
                                              test=saved["code"]), **recipe_context(code))


# --- alerts ------------------------------------------------------------------------------------------------------

def alerts_view(state: str) -> list[dict]:
    by_code = {reagent["reagent_code"]: reagent for reagent in api().get("/api/v1/lab/reports/forecast")["reagents"]}
    return [{**alert, "text": alert_text(alert, by_code.get(alert["reagent_code"], {}))}
            for alert in items(api().get("/api/v1/lab/alerts", state=state, limit=200))]


@blp.route("/alerts")
def alerts():
    """Show the lab's alerts, open ones first (acknowledged and closed ones on their tabs)."""
    state = request.args.get("state", "open")
    if state not in ALERT_STATES:
        state = "open"
    return render("lab/alerts.html", alerts=alerts_view(state), state=state, states=ALERT_STATES)


@blp.route("/alerts/<int:alert_id>/acknowledge", methods=["POST"])
@acting
def acknowledge(alert_id):
    """Acknowledge an open alert: it stays, marked as seen, until its condition clears."""
    alert = api().post(f"/api/v1/lab/alerts/{alert_id}/acknowledge").body
    if not is_htmx():
        return redirect(url_for(".alerts"), 303)
    reagents = {r["reagent_code"]: r for r in api().get("/api/v1/lab/reports/forecast")["reagents"]}
    shown = {**alert, "text": alert_text(alert, reagents.get(alert["reagent_code"], {}))}
    return render("lab/_alert.html", alert=shown, states=ALERT_STATES)


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
