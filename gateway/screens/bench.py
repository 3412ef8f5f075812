"""The lab bench (lab_tech): the worklist, logging a run by scanning the visit and the test, the stock banner.

URL -> view -> template: /bench/ home -> bench/worklist.html; /bench/visit -> bench/_visit.html (or _stopped);
/bench/runs (POST) -> bench/_logged.html (or _confirm, _short); /bench/qc-runs (POST) -> bench/_qc_logged.html (or
_short); /bench/banner -> bench/_banner.html (polled); /bench/worklist -> bench/_worklist.html.

A run is logged only on an open visit the gateway knows (looked up first: the API itself would take any id and
leave finance to find the flagged charge); a test ordered for another patient than the visit's needs an explicit
confirmation. Each log form carries a UUID made in the browser, forwarded as the API's Idempotency-Key, so a
resubmitted form (a double Enter, a retry, later an offline outbox) is logged once. A QC or calibration run (F2
reaches its test field) consumes reagent too and is logged the same way, on no visit and never billed.
"""

import re
from dataclasses import dataclass

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from gateway.screens.api import Refusal, items
from gateway.screens.formatting import day, moment, number
from gateway.screens.pages import (
    api,
    area_blueprint,
    is_uuid,
    passive,
    patient_or_none,
    quoted,
    render,
    required_submission_id,
)
from gateway.screens.problems import explain

blp = area_blueprint("bench")
STOCK_ALERTS = ("below_reorder_level", "low_cover", "worklist_short")
QC_KINDS = {"qc": _l("QC (control material)"), "calibration": _l("Calibration")}
QC_LEVELS = 2  # what the form proposes: two control levels a day, as chemistry QC is usually run
UNUSABLE = {"quarantined": _l("quarantined until QC releases it"), "expired": _l("expired"),
            "past_opened_stability": _l("past its stability once opened"), "empty": _l("empty")}


class Stopped(Exception):  # noqa: N818 (the bench's answer, not a fault)
    """The bench will not log on this visit: unknown or closed."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


@blp.errorhandler(Stopped)
def _stopped(stop: Stopped):
    return render("bench/_stopped.html", stop.status, message=stop.message)


@dataclass(frozen=True)
class RunForm:
    """What the technician sent to log a run."""

    visit: str
    test_code: str
    analyzer_code: str | None
    is_rerun: bool
    submission_id: str
    confirmed: bool

    @classmethod
    def from_request(cls) -> "RunForm":
        form = request.form
        return cls(visit=form.get("visit", "").strip(), test_code=form.get("test", "").strip(),
                   analyzer_code=form.get("analyzer") or None, is_rerun=form.get("rerun") == "on",
                   submission_id=form.get("submission_id", "").strip(), confirmed=form.get("confirmed") == "yes")


@blp.route("/")
def home():
    """Show the bench: the stock banner, the scan field and today's worklist (with a scanned visit's log form
    when the scan form was sent before htmx took it over: a scanner can be faster than an old PC)."""
    panel, status, context = None, 200, {}
    if request.args.get("visit"):
        try:
            panel, context = "bench/_visit.html", log_form_context(*look_up_visit(request.args["visit"]))
        except Stopped as stop:
            panel, status, context = "bench/_stopped.html", stop.status, {"message": stop.message}
    reference = {"tests": items(api().get("/api/v1/lab/tests")), "analyzers": items(api().get("/api/v1/lab/analyzers")),
                 "qc_kinds": QC_KINDS, "qc_levels": QC_LEVELS}
    return render("bench/worklist.html", status, banner=banner_view(), worklist=worklist_view(), panel=panel,
                  **{**reference, **context})


@blp.route("/banner")
@passive
def banner():
    """Give the stock and alert banner again (the page polls it, and asks after each logged run)."""
    return render("bench/_banner.html", banner=banner_view())


@blp.route("/worklist")
@passive
def worklist():
    """Give the worklist again (after each logged run, or when the technician refreshes it)."""
    return render("bench/_worklist.html", worklist=worklist_view())


@blp.route("/visit")
def visit():
    """Look up a scanned visit; an unknown or closed one stops here, an open one opens the log form."""
    found, patient = look_up_visit(request.args.get("visit", ""))
    return render("bench/_visit.html", **log_form_context(found, patient, request.args.get("test", "")))


@blp.route("/runs", methods=["POST"])
def log_run():
    """Log a run on the scanned visit, forwarding the form's UUID as the Idempotency-Key; show what it used."""
    form = RunForm.from_request()
    if not is_uuid(form.submission_id):
        return render("common/_refusal.html", 422, message=_("This form has no submission number; reload the page."))
    found, patient = look_up_visit(form.visit)
    test_code = catalogue_code(form.test_code)
    misfiled = order_for_another_patient(found, test_code)
    if misfiled and not form.confirmed:
        return render("bench/_confirm.html", 409, form=form, visit=found, patient=patient, order=misfiled)
    body = {"encounter_id": found["id"], "patient_id": found["patient_id"], "test_code": test_code,
            "analyzer_code": form.analyzer_code, "is_rerun": form.is_rerun}
    try:
        answer = api().post("/api/v1/lab/test-runs", body, idempotency_key=form.submission_id)
    except Refusal as refusal:
        if refusal.code != "INSUFFICIENT_STOCK":
            raise
        return render("bench/_short.html", 409, shortages=shortages_view(refusal), message=explain(refusal))
    html, status = render("bench/_logged.html", run=answer.body, replayed=answer.replayed, patient=patient,
                          units=reagent_units())
    return html, status, {"HX-Trigger": "stock-changed, run-logged"}


@blp.route("/qc-runs", methods=["POST"])
def log_qc_run():
    """Log a QC or calibration run (it consumes reagent, never billed), forwarding the form's UUID as the
    Idempotency-Key; show what it used per lot."""
    key, form = required_submission_id(), request.form
    levels = form.get("levels", "").strip()
    body = {"test_code": catalogue_code(form.get("test", "").strip()), "analyzer_code": form.get("analyzer") or None,
            "kind": form.get("kind") or "qc"}
    if levels:
        body["levels"] = int(levels) if re.fullmatch(r"\d{1,2}", levels) else levels  # else the API names the field
    try:
        answer = api().post("/api/v1/lab/qc-runs", body, idempotency_key=key)
    except Refusal as refusal:
        if refusal.code != "INSUFFICIENT_STOCK":
            raise
        return render("bench/_short.html", 409, shortages=shortages_view(refusal), message=explain(refusal))
    html, status = render("bench/_qc_logged.html", run=answer.body, replayed=answer.replayed,
                          levels=body.get("levels", 1), units=reagent_units())
    return html, status, {"HX-Trigger": "stock-changed, qc-logged"}


def visit_number(scanned: str) -> str | None:
    """Return the visit id a scanned or typed label carries (its digits), or None if it is not one."""
    text = scanned.strip()
    return str(int(text)) if re.fullmatch(r"\d{1,18}", text) else None


def look_up_visit(scanned: str) -> tuple[dict, dict]:
    """Return the open visit a label names and its patient; raise Stopped for an unknown or closed visit."""
    number_ = visit_number(scanned)
    if number_ is None:
        raise Stopped(404, _("“%(label)s” is not a visit number. Scan the visit label on the sample.",
                             label=scanned.strip()[:40]))
    try:
        found = api().get(f"/api/v1/encounters/{number_}")
    except Refusal as refusal:
        if refusal.code == "ENCOUNTER_NOT_FOUND":
            raise Stopped(404, _("Visit %(visit)s does not exist. Nothing was logged; check the label.",
                                 visit=number_)) from None
        raise
    if found["status"] != "open":
        raise Stopped(409, _("Visit %(visit)s was closed on %(closed)s. Nothing can be logged on a closed visit; "
                             "ask reception to open a new visit.", visit=number_, closed=moment(found["closed_at"])))
    return found, api().get(f"/api/v1/patients/{found['patient_id']}")


def catalogue_code(typed: str) -> str:
    """Return the catalogue code a typed or scanned test names: its code in any case, or its LOINC."""
    for test in items(api().get("/api/v1/lab/tests")):
        if typed.casefold() in (test["code"].casefold(), test["loinc"]):
            return test["code"]
    return typed  # the API answers TEST_NOT_FOUND in the technician's words


def orders_on(visit_id: str) -> list[dict]:
    """Return the open worklist orders of a visit."""
    return [order for order in items(api().get("/api/v1/lab/worklist", limit=1000))
            if order["encounter_id"] == visit_id]


def order_for_another_patient(found: dict, test_code: str) -> dict | None:
    """Return an open order of this test on the visit that names another patient than the visit's, if any."""
    return next((order for order in orders_on(found["id"])
                 if order["test_code"] == test_code and order["patient_id"] != found["patient_id"]), None)


def log_form_context(found: dict, patient: dict, test_code: str = "") -> dict:
    """What the log form of a visit shows: the visit, its patient, its orders, the tests and analyzers."""
    tests = items(api().get("/api/v1/lab/tests"))
    names = {test["code"]: test["name"] for test in tests}
    orders = [{**order, "test_name": names.get(order["test_code"], ""),
               "other_patient": order["patient_id"] != found["patient_id"]} for order in orders_on(found["id"])]
    return {"visit": found, "patient": patient, "orders": orders, "tests": tests, "test_code": test_code,
            "analyzers": items(api().get("/api/v1/lab/analyzers"))}


def worklist_view() -> list[dict]:
    """Return the open orders, oldest first, each with its patient and whether its visit is open for them.

    Not polled: every look-up of a patient is written to the read audit, so it runs when someone looks.
    """
    orders = items(api().get("/api/v1/lab/worklist", limit=1000))
    names = {test["code"]: test["name"] for test in items(api().get("/api/v1/lab/tests"))}
    patients = {}
    for patient_id in dict.fromkeys(order["patient_id"] for order in orders):
        patients[patient_id] = patient_or_none(patient_id)
    rows = []
    for order in orders:
        patient = patients[order["patient_id"]]
        open_visit = patient is not None and patient.get("open_encounter_id") == order["encounter_id"]
        rows.append({**order, "patient": patient, "test_name": names.get(order["test_code"], ""),
                     "visit_open": open_visit})
    return rows


def reagent_units() -> dict[str, dict]:
    """Return the reagent catalogue by code (name, base unit)."""
    return {reagent["code"]: reagent for reagent in items(api().get("/api/v1/lab/reagents"))}


def banner_view() -> dict:
    """Return what the banner shows: every reagent's usable stock and cover, and the open alerts in words."""
    reagents = api().get("/api/v1/lab/reports/forecast")["reagents"]
    # an alert the lab head acknowledged still holds: the bench keeps showing it until its condition clears
    alerts = [alert for state in ("open", "acknowledged")
              for alert in items(api().get("/api/v1/lab/alerts", state=state))]
    by_code = {reagent["reagent_code"]: reagent for reagent in reagents}
    flagged = {alert["reagent_code"] for alert in alerts if alert["kind"] in STOCK_ALERTS}
    return {"reagents": [{**reagent, "flagged": reagent["reagent_code"] in flagged} for reagent in reagents],
            "alerts": [{**alert, "text": alert_text(alert, by_code.get(alert["reagent_code"], {}))}
                       for alert in alerts]}


def alert_text(alert: dict, reagent: dict) -> str:
    """Say an alert in the user's language from its kind and details (the API's English text otherwise)."""
    details, unit = alert.get("details") or {}, reagent.get("base_unit", "")
    name = f"{reagent.get('name', alert['reagent_code'])} ({alert['reagent_code']})"
    kind = alert["kind"]
    if kind == "below_reorder_level":
        return _("%(reagent)s: %(usable)s %(unit)s usable, below the reorder level of %(level)s %(unit)s",
                 reagent=name, usable=number(details["usable"]), level=number(details["reorder_level"]), unit=unit)
    if kind == "low_cover":
        return _("%(reagent)s: about %(days)s day(s) of cover at recent use (alert below %(threshold)s)",
                 reagent=name, days=details["days_of_cover"], threshold=details["threshold_days"])
    if kind == "worklist_short":
        return _("%(reagent)s: %(waiting)s test(s) on the worklist need %(needed)s %(unit)s, only %(usable)s usable",
                 reagent=name, waiting=details["tests_waiting"], needed=number(details["needed"]),
                 usable=number(details["usable"]), unit=unit)
    if kind in ("lot_expiring", "lot_expired"):
        text = (_("%(reagent)s lot %(lot)s expires on %(day)s with %(left)s %(unit)s left") if kind == "lot_expiring"
                else _("%(reagent)s lot %(lot)s expired on %(day)s with %(left)s %(unit)s left"))
        return text % {"reagent": name, "lot": details["lot_number"], "day": day(details["expires_on"]),
                       "left": number(details["on_hand"]), "unit": unit}
    return alert["message"]


def shortages_view(refusal: Refusal) -> list[dict]:
    """Return each short reagent of an INSUFFICIENT_STOCK refusal with its lots and why each is not usable."""
    shown = []
    for shortage in refusal.problem.get("shortages", []):
        try:
            reagent = api().get(f"/api/v1/lab/reagents/{quoted(shortage['reagent_code'])}")
        except Refusal:
            reagent = {"name": shortage["reagent_code"], "lots": []}
        lots = [{**lot, "why": UNUSABLE.get(lot.get("unusable_reason"), lot.get("unusable_reason"))}
                for lot in reagent.get("lots", []) if lot.get("book_quantity", 0) > 0]
        shown.append({**shortage, "name": reagent.get("name", ""), "lots": lots})
    return shown
