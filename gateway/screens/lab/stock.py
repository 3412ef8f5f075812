"""The lab head's reagents and lots, counts and wastage, recipes and alerts (URLs: the package's docstring)."""


from flask import redirect, request, url_for
from flask_babel import gettext as _

from gateway.screens.api import Refusal, items
from gateway.screens.bench import alert_text
from gateway.screens.formatting import number, whole
from gateway.screens.lab.shared import (
    ALERT_STATES,
    BASES,
    LOT_ACTIONS,
    LOT_STATUS,
    MOVEMENT_KINDS,
    RECIPE_ROWS_FREE,
    acting,
    blp,
    lot_status,
)
from gateway.screens.pages import api, is_htmx, quoted, render, required_submission_id
from gateway.screens.problems import explain

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
    key, form = required_submission_id(), request.form
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
                     idempotency_key=required_submission_id()).body
    return stock_answer(code, str(LOT_ACTIONS[action]) % {"lot": lot["lot_number"]})


@blp.route("/lots/<any(count, wastage):kind>", methods=["POST"])
@acting
def lot_movement(kind):
    """Record a physical count (the difference becomes an adjustment) or wastage on the chosen lot."""
    key, form = required_submission_id(), request.form
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
    """Show a test's recipe as a form: one row per line, blank rows to add one, an empty quantity removes one (a
    test just added comes here from the catalogue)."""
    notice = _("Test %(test)s added to the catalogue. Now give its recipe: what one test consumes.", test=code) \
        if request.args.get("added") else None
    return render("lab/recipe.html", notice=notice, **recipe_context(code))


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
