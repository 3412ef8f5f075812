"""The pharmacy counter's receiving by scan, and its stock, lots and recalls (URLs: the package's docstring)."""

import re
from datetime import date
from functools import wraps

from flask import redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from common.gs1 import GS1Error, element_string, read_scan
from gateway.screens.api import Refusal, items
from gateway.screens.formatting import number, whole
from gateway.screens.pages import (
    api,
    ends_the_form,
    is_htmx,
    patient_or_none,
    quoted,
    render,
    required_submission_id,
)
from gateway.screens.pharmacy.shared import ADJUSTMENT_REASONS, API, Stopped, blp, unit_word
from gateway.screens.problems import explain

LOT_CARD_ROWS = 8  # the lot's latest stock card rows shown on its panel
LOT_FOCUS = ("recall", "count", "adjust")  # the field a lot's panel focuses when it opens
# What each field of the count and adjustment forms must be, said when the API refuses it.
COUNT_HINTS = {
    "counted_quantity": _l("Type the quantity counted on the shelf: a whole number from 0 to 100.000.000."),
    "reason": _l("Give the reason (at most 500 characters)."),
}
ADJUSTMENT_HINTS = {
    "quantity_change": _l("Type how many units to add or take off: a whole number from 1 to 100.000.000."),
    "reason": _l("Choose a reason from the list."),
    "note": _l("The note may hold at most 500 characters."),
}

# --- receiving by scan -----------------------------------------------------------------------------------------------

@blp.route("/receive")
def receive():
    """Show the receiving desk: the DataMatrix scan field (a keyboard-wedge scanner types into it, then Enter)."""
    panel, status, context = None, 200, {}
    if request.args.get("code"):
        try:
            panel, context = "pharmacy/_receipt.html", receipt_context(request.args["code"])
        except Stopped as stop:
            panel, status, context = "pharmacy/_scan_refused.html", stop.status, {"message": stop.message,
                                                                                  "gtin": stop.gtin}
    return render("pharmacy/receive.html", status, panel=panel, **context)


@blp.route("/receive/scan")
def receive_scan():
    """Read a scanned pack: the drug its GTIN names, lot, expiry, serial; ask for the quantity and the cost."""
    try:
        return render("pharmacy/_receipt.html", **receipt_context(request.args.get("code", "")))
    except Stopped as stop:
        return render("pharmacy/_scan_refused.html", stop.status, message=stop.message, gtin=stop.gtin)


@blp.route("/lots", methods=["POST"])
def receive_lot():
    """Receive the scanned lot with the confirmed quantity and cost; show the lot as it now stands."""
    form = request.form
    submission_id = required_submission_id()
    try:
        expires_on = date.fromisoformat(form.get("expires_on", ""))
    except ValueError:
        return render("common/_refusal.html", 422, message=_("The expiry date was not read; scan the pack again."))
    quantity, cost = whole(form.get("quantity")), whole(form.get("cost_amount"))
    if not isinstance(quantity, int) or quantity < 1 or not isinstance(cost, int) or cost < 0:
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
                             gtin=scan.gtin), gtin=scan.gtin)
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


@blp.route("/stock/rows")
def stock_rows():
    """Every drug's stock again (after a lot's count, adjustment or recall changed it)."""
    return render("pharmacy/_stock_rows.html", rows=api().get(f"{API}/stock"))


@blp.route("/stock/drug")
def drug_lots():
    """Show a drug's lots, each with its condition, with the ways to its count, recipients and recall (`quiet=1`:
    read again after a lot changed, focus left where it is)."""
    return render("pharmacy/_drug_lots.html", quiet=bool(request.args.get("quiet")),
                  **drug_lots_context(request.args.get("code", "")))


@blp.route("/stock/lots/<int:lot_id>")
def lot(lot_id: int):
    """Show a lot: its count and adjustment forms, its latest stock card rows, who received it (patients, visits,
    prescriptions), the recall form. Without htmx, the whole stock page with the lot's drug and the lot open."""
    focus = request.args.get("focus") if request.args.get("focus") in LOT_FOCUS else "recall"
    context = lot_context(lot_id)
    if is_htmx():
        return render("pharmacy/_lot.html", focus=focus, **context)
    return render("pharmacy/stock.html", rows=api().get(f"{API}/stock"), panel="pharmacy/_drug_lots.html",
                  lot_panel="pharmacy/_lot.html", focus=focus, scanned_lot=None, quiet=True, **context)


def lot_form(hints: dict):
    """Answer a refusal of a lot's count or adjustment in the lot's panel, above its forms (what was typed stays),
    in the user's language, naming the lot and, by `hints`, what a refused field must be; without htmx, as a page."""
    def decorate(view):
        @wraps(view)
        def wrapper(lot_id: int):
            try:
                return view(lot_id)
            except Refusal as refusal:
                if ends_the_form(refusal) or not is_htmx():
                    raise
                html, status = render("common/_refusal.html", refusal.status,
                                      message=movement_refusal(refusal, lot_id, hints))
                return html, status, {"HX-Retarget": "#lot-outcome", "HX-Reswap": "innerHTML"}
        return wrapper
    return decorate


@blp.route("/stock/lots/<int:lot_id>/counts", methods=["POST"])
@lot_form(COUNT_HINTS)
def count(lot_id: int):
    """Record a physical count of the lot's shelf (form: submission_id, counted_quantity, reason); show what the
    book said, what was counted and the difference (the API writes it on the stock card)."""
    form, submission_id = request.form, required_submission_id()
    body = {"counted_quantity": whole(form.get("counted_quantity")),
            "reason": form.get("reason", "").strip()}
    answer = api().post(f"{API}/lots/{lot_id}/counts", body, idempotency_key=submission_id)
    return moved(lot_id, "count", answer)


@blp.route("/stock/lots/<int:lot_id>/adjustments", methods=["POST"])
@lot_form(ADJUSTMENT_HINTS)
def adjust(lot_id: int):
    """Add units to the lot's shelf or take them off for a reason (form: submission_id, direction add|remove,
    quantity, reason, note); show the shelf before and after."""
    form, submission_id = request.form, required_submission_id()
    quantity = whole(form.get("quantity"))
    if not isinstance(quantity, int) or quantity < 1:
        raise Refusal(422, {"code": "VALIDATION_FAILED", "errors": {"quantity_change": ["not a whole number"]}})
    reason = form.get("reason", "")
    body = {"quantity_change": quantity if form.get("direction") == "add" else -quantity,
            "reason": reason, "note": form.get("note", "").strip()}
    answer = api().post(f"{API}/lots/{lot_id}/adjustments", body, idempotency_key=submission_id)
    return moved(lot_id, "adjustment", answer)


def moved(lot_id: int, kind: str, answer):
    """The lot's panel again, with what was just recorded on top; the drug's lots are read again."""
    if not is_htmx():
        return redirect(url_for(".lot", lot_id=lot_id), 303)
    html, status = render("pharmacy/_lot.html", focus=None, moved=answer.body, moved_kind=kind,
                          replayed=answer.replayed, **lot_context(lot_id))
    return html, status, {"HX-Trigger": "lot-changed"}


def movement_refusal(refusal: Refusal, lot_id: int, hints: dict) -> str:
    """Say why a count or an adjustment was not recorded, naming the lot and the figures it is about."""
    if refusal.code == "LOT_NOT_FOUND":
        return _("There is no lot %(lot)s.", lot=lot_id)
    try:
        found = api().get(f"{API}/lots/{lot_id}")
        unit = api().get(f"{API}/drugs/{quoted(found['drug_code'])}")["base_unit"]
    except Refusal:
        found, unit = None, ""
    problem, errors = refusal.problem, refusal.problem.get("errors")
    if refusal.code == "INSUFFICIENT_STOCK" and found is not None and "requested" in problem:
        text = _("only %(on_hand)s %(unit)s are on the shelf, %(requested)s cannot be taken off; if the shelf holds "
                 "another quantity, count the lot.", on_hand=number(problem["usable"]), unit=unit_word(unit),
                 requested=number(problem["requested"]))
    elif refusal.code == "VALIDATION_FAILED" and isinstance(errors, dict) and set(errors) <= set(hints):
        text = " ".join(str(hints[name]) for name in hints if name in errors)
    else:
        text = explain(refusal)
    if found is None:
        return text
    return _("Not recorded on lot %(lot)s: %(why)s", lot=found["lot_number"], why=text)


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
    """A lot, its drug, its latest stock card rows, and (unless told otherwise) who received it."""
    try:
        found = api().get(f"{API}/lots/{lot_id}")
    except Refusal as refusal:
        if refusal.code == "LOT_NOT_FOUND":
            raise Stopped(404, _("There is no lot %(lot)s.", lot=lot_id)) from None
        raise
    drug = api().get(f"{API}/drugs/{quoted(found['drug_code'])}")
    listed = recipients_view(api().get(f"{API}/lots/{lot_id}/recipients")) if recipients else []
    card = [entry for entry in api().get(f"{API}/drugs/{quoted(found['drug_code'])}/ledger", limit=200)
            if entry["lot_id"] == lot_id][:LOT_CARD_ROWS]
    return {"lot": found, "drug": drug, "recipients": listed, "card": card, "reasons": ADJUSTMENT_REASONS}


def recipients_view(recipients: list[dict]) -> list[dict]:
    """Each visit that received a lot, with its patient's name and the prescriptions it came on."""
    return [{**visit, "patient": patient_or_none(visit["patient_id"]),
             "prescriptions": sorted({d["prescription_id"] for d in visit["dispenses"] if d.get("prescription_id")}),
             "kept": visit["quantity"] - visit["quantity_returned"]} for visit in recipients]
