"""The pharmacy counter's receiving by scan, and its stock, lots and recalls (URLs: the package's docstring)."""

import re
from datetime import date

from flask import request
from flask_babel import gettext as _

from common.gs1 import GS1Error, element_string, read_scan
from gateway.screens.api import Refusal, items
from gateway.screens.pages import (
    api,
    patient_or_none,
    quoted,
    render,
    required_submission_id,
)
from gateway.screens.pharmacy.shared import API, Stopped, blp, whole_number

# --- receiving by scan -----------------------------------------------------------------------------------------------

@blp.route("/receive")
def receive():
    """Show the receiving desk: the DataMatrix scan field (a keyboard-wedge scanner types into it, then Enter)."""
    panel, status, context = None, 200, {}
    if request.args.get("code"):
        try:
            panel, context = "pharmacy/_receipt.html", receipt_context(request.args["code"])
        except Stopped as stop:
            panel, status, context = "pharmacy/_scan_refused.html", stop.status, {"message": stop.message}
    return render("pharmacy/receive.html", status, panel=panel, **context)


@blp.route("/receive/scan")
def receive_scan():
    """Read a scanned pack: the drug its GTIN names, lot, expiry, serial; ask for the quantity and the cost."""
    try:
        return render("pharmacy/_receipt.html", **receipt_context(request.args.get("code", "")))
    except Stopped as stop:
        return render("pharmacy/_scan_refused.html", stop.status, message=stop.message)


@blp.route("/lots", methods=["POST"])
def receive_lot():
    """Receive the scanned lot with the confirmed quantity and cost; show the lot as it now stands."""
    form = request.form
    submission_id = required_submission_id()
    try:
        expires_on = date.fromisoformat(form.get("expires_on", ""))
    except ValueError:
        return render("common/_refusal.html", 422, message=_("The expiry date was not read; scan the pack again."))
    quantity, cost = whole_number(form.get("quantity", "")), whole_number(form.get("cost_amount", ""))
    if quantity is None or quantity < 1 or cost is None:
        return render("common/_refusal.html", 422, message=_("Type the quantity received (at least 1) and the cost "
                                                              "per unit in đồng, as whole numbers."))
    scanned = element_string(form.get("gtin", "").strip(), expires_on, form.get("lot_number", "").strip(),
                             form.get("serial", "").strip() or None)
    body = {"gs1": scanned, "quantity": quantity, "cost_amount": cost, "supplier": form.get("supplier", "").strip()}
    code = form.get("drug", "").strip()
    answer = api().post(f"{API}/drugs/{quoted(code)}/lots", body, idempotency_key=submission_id)
    drug = api().get(f"{API}/drugs/{quoted(code)}")
    html, status = render("pharmacy/_received.html", lot=answer.body, drug=drug, quantity=quantity,
                          replayed=answer.replayed, serial=form.get("serial", "").strip())
    return html, status, {"HX-Trigger": "lot-received"}


def receipt_context(code: str) -> dict:
    """Read a scan and find its drug; raise Stopped (422/404) with a clear reason when it cannot be received."""
    try:
        scan = read_scan(code)
    except GS1Error as error:
        raise Stopped(422, _("This scan is not a drug pack's GS1 DataMatrix (%(reason)s). Scan the DataMatrix on "
                             "the pack again, or type what is printed beside it: (01)…(17)…(10)…(21)…",
                             reason=str(error))) from None
    if not scan.complete:
        raise Stopped(422, _("The scan carries no GTIN (01), expiry (17) or lot (10); it cannot be received. "
                             "Scan the DataMatrix of the pack, not another barcode."))
    drug = drug_by_gtin(scan.gtin)
    if drug is None:
        raise Stopped(404, _("GTIN %(gtin)s is not in the drug catalogue. Add the drug to the catalogue first.",
                             gtin=scan.gtin))
    detail = api().get(f"{API}/drugs/{quoted(drug['code'])}")
    scan = read_scan(code, known_lots=[lot["lot_number"] for lot in detail["lots"]])
    known = next((lot for lot in detail["lots"] if lot["lot_number"] == scan.lot_number), None)
    latest = max(detail["lots"], key=lambda lot: lot["received_at"]) if detail["lots"] else None
    return {"scan": scan, "drug": detail, "known": known, "cost": (known or latest or {}).get("unit_cost_amount"),
            "supplier": (known or latest or {}).get("supplier", ""), "other_lots": detail["lots"]}


def looks_scanned(text: str) -> bool:
    """Tell a scanned GS1 element string (AI 01 first, the (01) form, a symbology identifier) from a drug code."""
    return text.startswith(("]", "(01)", "\x1d")) or bool(re.fullmatch(r"01\d{14}.*", text, re.S))


def drug_by_gtin(gtin: str) -> dict | None:
    """Return the catalogue's drug with this GTIN-14, or None."""
    return next((drug for drug in items(api().get(f"{API}/drugs", limit=1000)) if drug.get("gtin") == gtin), None)




# --- stock, lots and recalls -----------------------------------------------------------------------------------------

@blp.route("/stock")
def stock():
    """Show every drug's stock (on hand, usable, quarantined); a drug opens its lots."""
    panel, status, context = None, 200, {}
    if request.args.get("code"):
        try:
            panel, context = "pharmacy/_drug_lots.html", drug_lots_context(request.args["code"])
        except Stopped as stop:
            panel, status, context = "pharmacy/_stopped.html", stop.status, {"message": stop.message}
    return render("pharmacy/stock.html", status, rows=api().get(f"{API}/stock"), panel=panel, **context)


@blp.route("/stock/drug")
def drug_lots():
    """Show a drug's lots, each with its condition, with the way to its recipients and recall."""
    return render("pharmacy/_drug_lots.html", **drug_lots_context(request.args.get("code", "")))


@blp.route("/stock/lots/<int:lot_id>")
def lot(lot_id: int):
    """Show a lot, who received it (patients, visits, prescriptions), and the recall form."""
    return render("pharmacy/_lot.html", **lot_context(lot_id))


@blp.route("/stock/lots/<int:lot_id>/recall", methods=["POST"])
def recall(lot_id: int):
    """Recall a lot (form: submission_id, reason): blocked at once; show who received it."""
    submission_id = required_submission_id()
    answer = api().post(f"{API}/lots/{lot_id}/recall", {"reason": request.form.get("reason", "").strip()},
                        idempotency_key=submission_id)
    recalled = answer.body
    context = {**lot_context(lot_id, recipients=False), "recipients": recipients_view(recalled["recipients"])}
    html, status = render("pharmacy/_recalled.html", recalled=recalled, replayed=answer.replayed, **context)
    return html, status, {"HX-Trigger": "lot-recalled"}


def drug_lots_context(code: str) -> dict:
    """A drug with every lot (the API gives each its condition); a scanned pack's DataMatrix names its drug by the
    GTIN and picks out its lot (the one a recall notice names, found by scanning a pack of it)."""
    code, scanned_lot = code.strip(), None
    if looks_scanned(code):
        try:
            scan = read_scan(code)
        except GS1Error as error:
            raise Stopped(422, _("This scan is not a drug pack's GS1 DataMatrix (%(reason)s).",
                                 reason=str(error))) from None
        drug = drug_by_gtin(scan.gtin) if scan.gtin else None
        if drug is None:
            raise Stopped(404, _("GTIN %(gtin)s is not in the drug catalogue. Add the drug to the catalogue first.",
                                 gtin=scan.gtin or "—"))
        code, scanned_lot = drug["code"], scan.lot_number
    try:
        return {"drug": api().get(f"{API}/drugs/{quoted(code)}"), "scanned_lot": scanned_lot}
    except Refusal as refusal:
        if refusal.code == "DRUG_NOT_FOUND":
            raise Stopped(404, _("There is no drug with code %(code)s in the catalogue.", code=code[:40])) from None
        raise


def lot_context(lot_id: int, recipients: bool = True) -> dict:
    """A lot, its drug, and (unless told otherwise) who received it."""
    try:
        found = api().get(f"{API}/lots/{lot_id}")
    except Refusal as refusal:
        if refusal.code == "LOT_NOT_FOUND":
            raise Stopped(404, _("There is no lot %(lot)s.", lot=lot_id)) from None
        raise
    drug = api().get(f"{API}/drugs/{quoted(found['drug_code'])}")
    listed = recipients_view(api().get(f"{API}/lots/{lot_id}/recipients")) if recipients else []
    return {"lot": found, "drug": drug, "recipients": listed}


def recipients_view(recipients: list[dict]) -> list[dict]:
    """Each visit that received a lot, with its patient's name and the prescriptions it came on."""
    return [{**visit, "patient": patient_or_none(visit["patient_id"]),
             "prescriptions": sorted({d["prescription_id"] for d in visit["dispenses"] if d.get("prescription_id")}),
             "kept": visit["quantity"] - visit["quantity_returned"]} for visit in recipients]
