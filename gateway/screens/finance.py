"""The finance office (finance): claim batches, their pre-submission findings, exports, remittances, reconciliation.

URL -> view -> template: /finance/ home -> finance/home.html (batches, build form, remittances, reconciliation form);
/finance/batches (POST) -> redirect to the new batch (or finance/_built.html for htmx); /finance/batches/<id> ->
finance/batch.html (totals, findings with their sources, override form, downloads, claims and their lines, the
remittance upload); /finance/batches/<id>/override (POST) -> back to the batch; /finance/batches/<id>/export ->
the API's XML or FHIR bundle streamed through (a browser cannot send the bearer header);
/finance/remittances (POST) -> finance/_remittance.html (the file's per-line errors, the lines the insurer
rejected); /finance/remittances/<id> -> finance/remittance.html; /finance/reconciliation -> finance/reconciliation.html;
/finance/reconciliation-runs (POST) -> finance/_run.html, polled at /finance/reconciliation-runs/<id> until done
(progress bar, then totals, chart and every discrepancy); /finance/reconciliation-runs/<id>/csv -> the CSV streamed;
/finance/source?url=... -> finance/source.html (the lab test run, dispense line or lot a finding points at).
"""

from contextlib import contextmanager

from flask import Response, abort, current_app, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import RequestEntityTooLarge

from common import clock
from gateway.screens.api import Refusal, items
from gateway.screens.formatting import number
from gateway.screens.pages import api, area_blueprint, form_submission_id, is_htmx, passive, relay, render
from gateway.screens.problems import MESSAGES, explain

blp = area_blueprint("finance")
BILLING = "/api/v1/billing"
EXPORT_FORMATS = {"bhyt-4750": _l("BHYT XML (QĐ 4750)"), "fhir": _l("FHIR R5 bundle")}
REMITTANCE_TYPES = {".csv": "text/csv", ".ndjson": "application/x-ndjson", ".jsonl": "application/x-ndjson"}
# What a finding or a rejection may link to: the sources the claims API names, opened through the session.
SOURCE_PREFIXES = ("/api/v1/lab/test-runs/", "/api/v1/pharmacy/dispense-lines/", "/api/v1/pharmacy/lots/",
                   "/api/v1/lab/reagents/")
SOURCE_KINDS = {"lab_test_run": _l("Lab test run"), "dispense_line": _l("Dispense line")}
CLAIM_STATUSES = {"submitted": _l("Sent, not assessed yet"), "partially_assessed": _l("Partly assessed"),
                  "rejected": _l("Rejected"), "partially_rejected": _l("Partly rejected"),
                  "approved": _l("Approved"), "paid": _l("Paid")}
RUN_STATES = {"queued": _l("Waiting to start"), "running": _l("Running"), "done": _l("Done"), "failed": _l("Failed")}
DISCREPANCY_KINDS = {
    "charged_not_claimed": _l("Charged, not claimed"), "claimed_not_charged": _l("Claimed, not charged"),
    "amount_mismatch": _l("Claimed amount differs from the charge"),
    "rejected_by_insurer": _l("Rejected by the insurer"), "paid_less_than_approved": _l("Paid less than approved"),
    "overpaid": _l("Paid more than approved"),
    "duplicate_charge": _l("Duplicate charge"), "patient_share_unpaid": _l("Patient's share unpaid"),
    "payment_without_bill": _l("Payment without a bill"),
}
RULES = {
    "card_not_valid_on_service_date": _l("BHYT card not valid on the service date"),
    "practitioner_missing": _l("Practitioner missing (MA_BAC_SI)"),
    "performer_missing": _l("Performer missing (NGUOI_THUC_HIEN)"),
    "price_above_insurance_list": _l("Price above the BHYT price list"),
    "out_of_scope_billed_to_insurer": _l("Out-of-scope item billed to the insurer"),
    "service_date_outside_visit": _l("Service date outside the visit"),
    "totals_do_not_add_up": _l("Totals do not add up"),
    "charge_changed_since_claimed": _l("Charge changed since it was claimed"),
    "unit_not_in_national_list": _l("Unit not in the national list"),
    "lot_expired_when_dispensed": _l("Lot expired when dispensed"),
    "department_missing": _l("Department missing"), "duplicate_line": _l("Duplicate line"),
    "diagnosis_missing": _l("Diagnosis missing"), "price_list_missing": _l("No BHYT price for the item"),
}
CHART_TOTALS = (("charged_amount", _l("Charged")), ("claimed_amount", _l("Claimed")),
                ("claimed_insurer_amount", _l("Asked of the insurer")), ("approved_amount", _l("Approved")),
                ("insurer_paid_amount", _l("Paid by the insurer")), ("patient_share_amount", _l("Patients' share")),
                ("patient_paid_amount", _l("Paid by patients")))
CHART_WIDTH = 420  # px of the longest bar
CLAIMS_PAGE = 100  # claims per page of a batch, each with its lines: a page an old PC draws quickly
REJECTIONS_PAGES = 20  # pages of claims read for the insurer's rejections after an upload (2 000 claims)


@blp.context_processor
def _finance_words():
    return {"source_kinds": SOURCE_KINDS}  # every finance template may link a source (finance/_source.html)


class Unusable(Exception):  # noqa: N818 (the page's answer to a bad form, not a fault)
    """A form the page cannot send on: no file, an empty file, no submission id."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.message, self.status = message, status


@blp.errorhandler(Unusable)
def _unusable(error: Unusable):
    return render("common/_refusal.html" if is_htmx() else "common/refusal.html", error.status,
                  message=error.message)


@blp.errorhandler(RequestEntityTooLarge)
def _too_large(_error):
    """A form (a remittance file) larger than the gateway takes (MAX_BODY_BYTES): say so, in the user's words."""
    size = number(current_app.config["MAX_CONTENT_LENGTH"] // 1024)
    return _unusable(Unusable(_("The file is larger than the %(size)s KB the system takes at once; ask BHXH for the "
                                "month's file in parts, or the administrator to raise MAX_BODY_BYTES.", size=size),
                              413))


@blp.route("/")
def home():
    """Show the month's work: the batches, the build form, the latest remittances, the reconciliation form."""
    return render("finance/home.html", batches=items(api().get(f"{BILLING}/claim-batches", limit=50)),
                  remittances=items(api().get(f"{BILLING}/remittances", limit=10)), period=last_month())


@blp.route("/batches", methods=["POST"])
def build_batch():
    """Build the claim batch of a month (the API answers when it is built); open it."""
    period = request.form.get("period", "").strip()
    with month_explained():
        answer = api().post(f"{BILLING}/claim-batches", {"period": period}, idempotency_key=submission_id())
    target = url_for(".batch", batch_id=answer.body["id"])
    if is_htmx():
        return Response(status=204, headers={"HX-Redirect": target})
    return redirect(target, 303)


@blp.route("/batches/<int:batch_id>")
def batch(batch_id: int):
    """Show a batch: totals, the pre-submission findings with their sources, downloads, its claims and lines."""
    found = api().get(f"{BILLING}/claim-batches/{batch_id}")
    check = api().get(f"{BILLING}/claim-batches/{batch_id}/check")
    return render("finance/batch.html", batch=found, check=check, formats=EXPORT_FORMATS, rules=RULES,
                  **claims_context(batch_id, request.args.get("cursor")))


@blp.route("/batches/<int:batch_id>/claims")
def claims(batch_id: int):
    """Give a page of a batch's claims and lines (the next page, or again after a remittance is imported)."""
    return render("finance/_claims.html", **claims_context(batch_id, request.args.get("cursor")))


@blp.route("/batches/<int:batch_id>/override", methods=["POST"])
def override(batch_id: int):
    """Record the audited override that lets a batch with critical findings be sent; back to the batch."""
    reason = request.form.get("reason", "").strip()
    api().post(f"{BILLING}/claim-batches/{batch_id}/override", {"reason": reason}, idempotency_key=submission_id())
    return redirect(url_for(".batch", batch_id=batch_id, overridden=1), 303)


@blp.route("/batches/<int:batch_id>/export")
def export(batch_id: int):
    """Stream the batch's BHYT XML or FHIR bundle from the API to the browser, as a download."""
    chosen = request.args.get("format", "bhyt-4750")
    if chosen not in EXPORT_FORMATS:
        raise Unusable(_("Choose BHYT XML or FHIR."), 400)
    return relay(api().stream(f"{BILLING}/claim-batches/{batch_id}/export", format=chosen))


@blp.route("/remittances", methods=["POST"])
def upload_remittance():
    """Send the insurer's remittance file to the API as it is; show its per-line errors and the rejected lines."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise Unusable(_("Choose the remittance file (CSV or JSON lines) to upload."))
    data = upload.read()
    if not data.strip():
        raise Unusable(_("The file %(name)s is empty.", name=upload.filename))
    try:
        answer = api().post_file(f"{BILLING}/remittances", data, remittance_type(upload.filename, upload.mimetype),
                                 idempotency_key=submission_id())
    except Refusal as refusal:
        if refusal.code not in ("REMITTANCE_REJECTED", "VALIDATION_FAILED"):
            raise
        return remittance_result(refusal.status, remittance=None, message=explain(refusal),
                                 rejected=refusal.problem.get("rejected", []), filename=upload.filename)
    batch_id = request.form.get("batch_id", type=int)
    html, status = remittance_result(200, remittance=answer.body, rejected=answer.body["rejected"],
                                     filename=upload.filename, batch_id=batch_id,
                                     rejections=insurer_rejections(batch_id) if batch_id else [])
    return html, status, {"HX-Trigger": "remittance-imported"}  # the batch's page shows its claims again


def remittance_result(status: int, **context):
    """The import's report as a partial (htmx), or on a page of its own (a form sent without htmx)."""
    if is_htmx():
        return render("finance/_remittance.html", status, **context)
    return render("finance/page.html", status, partial="finance/_remittance.html", **context)


@blp.route("/remittances/<int:remittance_id>")
def remittance(remittance_id: int):
    """Show one remittance import's report: accepted, duplicate and rejected rows."""
    found = api().get(f"{BILLING}/remittances/{remittance_id}")
    return render("finance/remittance.html", remittance=found, rejected=found["rejected"])


@blp.route("/reconciliation")
def reconciliation():
    """Show the reconciliation form (a run started here reports its progress, then its result)."""
    return render("finance/reconciliation.html", period=request.args.get("period") or last_month())


@blp.route("/reconciliation-runs", methods=["POST"])
def start_run():
    """Start a reconciliation run of a month in the background; the page polls its progress."""
    period = request.form.get("period", "").strip()
    with month_explained():
        run = api().post(f"{BILLING}/reconciliation-runs", {"period": period}).body
    return run_page(run)


@blp.route("/reconciliation-runs/<int:run_id>")
@passive
def run(run_id: int):
    """Give a run's progress again (polled), or its result once done."""
    return run_page(api().get(f"{BILLING}/reconciliation-runs/{run_id}"))


@blp.route("/reconciliation-runs/<int:run_id>/csv")
def run_csv(run_id: int):
    """Stream a finished run's result as CSV."""
    return relay(api().stream(f"{BILLING}/reconciliation-runs/{run_id}", format="csv"))


@blp.route("/source")
def source():
    """Show the lab test run, dispense line or lot a finding or a rejection points at (read through the API)."""
    url = request.args.get("url", "")
    if not url.startswith(SOURCE_PREFIXES) or "?" in url or ".." in url:
        abort(404)
    return render("finance/source.html", url=url, found=api().get(url))


def run_page(found: dict):
    """The run's partial (progress while it works; totals, chart and discrepancies when done), or its page."""
    result = found.get("result")
    context = {"run": found, "states": RUN_STATES, "kinds": DISCREPANCY_KINDS}
    if result:
        context.update(report=result, chart=totals_chart(result["totals"]))
    if is_htmx():
        return render("finance/_run.html", **context)
    return render("finance/reconciliation.html", period=found["period"], **context)


def totals_chart(totals: dict) -> dict:
    """The bars of the totals chart: each total's label, amount and bar length (the longest bar is CHART_WIDTH)."""
    rows = [(label, totals.get(name) or 0) for name, label in CHART_TOTALS]
    rows += [(DISCREPANCY_KINDS.get(kind, kind), figures["amount"])
             for kind, figures in totals.get("by_kind", {}).items() if figures["count"]]
    longest = max((amount for _, amount in rows), default=0) or 1
    return {"bars": [{"label": label, "amount": amount, "length": max(1, amount * CHART_WIDTH // longest)
                      if amount else 0, "discrepancy": index >= len(CHART_TOTALS)}
                     for index, (label, amount) in enumerate(rows)], "width": CHART_WIDTH}


def claims_context(batch_id: int, cursor: str | None) -> dict:
    """What a page of a batch's claims shows: the claims, where the next page starts, the status names."""
    claims, next_cursor = batch_claims(batch_id, cursor)
    return {"batch_id": batch_id, "claims": claims, "cursor": cursor, "next_cursor": next_cursor,
            "statuses": CLAIM_STATUSES}


def batch_claims(batch_id: int, cursor: str | None = None) -> tuple[list[dict], str | None]:
    """A page of a batch's claims (CLAIMS_PAGE of them) with their lines, each line marked rejected or not, and
    the cursor of the next page (None on the last)."""
    answer = api().page(f"{BILLING}/claims", batch_id=batch_id, limit=CLAIMS_PAGE, cursor=cursor)
    return [claim_view(claim) for claim in items(answer.body)], answer.next_cursor


def claim_view(claim: dict) -> dict:
    """A claim with each line marked rejected when the insurer approved less than asked (or said why not)."""
    return {**claim, "lines": [{**line, "rejected": line_rejected(line)} for line in claim["lines"]]}


def line_rejected(line: dict) -> bool:
    return bool(line.get("rejection_reason")) or (line.get("approved_amount") is not None
                                                  and line["approved_amount"] < line["insurer_amount"])


def insurer_rejections(batch_id: int) -> list[dict]:
    """The claimed lines of a batch the insurer rejected (wholly or partly), each with its claim, from its first
    REJECTIONS_PAGES pages of claims (the reconciliation lists every one)."""
    rejected, cursor = [], None
    for _page in range(REJECTIONS_PAGES):
        claims, cursor = batch_claims(batch_id, cursor)
        rejected += [{**line, "ma_lk": claim["ma_lk"]} for claim in claims for line in claim["lines"]
                     if line["rejected"]]
        if cursor is None:
            break
    return rejected


def remittance_type(filename: str, given: str | None) -> str:
    """The media type to send a remittance file as: from its name (.csv, .ndjson, .jsonl), else what the browser
    said (the API names what it takes when that is not one of them)."""
    for suffix, media_type in REMITTANCE_TYPES.items():
        if filename.lower().endswith(suffix):
            return media_type
    return given or "application/octet-stream"


@contextmanager
def month_explained():
    """Say what a month must look like when the API refuses the form's month (its field is named `period`)."""
    try:
        yield
    except Refusal as refusal:
        if refusal.code == "VALIDATION_FAILED" and "period" in (refusal.problem.get("errors") or {}):
            raise Unusable(str(MESSAGES["PERIOD_INVALID"])) from None
        raise


def submission_id() -> str:
    """The form's submission UUID (the Idempotency-Key of what it asks); refuse a form without one."""
    value = form_submission_id()
    if value:
        return value
    raise Unusable(_("This form has no submission number; reload the page."))


def last_month() -> str:
    """The month before this one in the hospital's zone (the one usually claimed), as YYYY-MM."""
    today = clock.today()
    return f"{today.year - 1}-12" if today.month == 1 else f"{today.year}-{today.month - 1:02d}"
