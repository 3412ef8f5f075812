"""The pharmacy counter (pharmacist): the prescription queue, dispensing FEFO, receiving lots by scan, returns, recalls.

URL -> view -> template:
- /pharmacy/ home -> pharmacy/counter.html (scan a prescription, the queue); /pharmacy/queue -> _queue.html;
  /pharmacy/prescription?number=N[&qty_<line id>=Q...] -> _prescription.html: the lines, the FEFO lots the dispense
  would take (pharmacy API `dispense-plan`) with every lot's condition, the quantities, the confirm form;
- /pharmacy/dispenses (POST) -> _dispensed.html (or _short.html: not enough usable stock, planned again);
- /pharmacy/receive -> receive.html (the DataMatrix scan field); /pharmacy/receive/scan?code=... ->
  _receipt.html (drug, lot, expiry, serial read from the scan; quantity and cost to confirm) or _scan_refused.html;
  /pharmacy/lots (POST) -> _received.html;
- /pharmacy/returns -> returns.html; /pharmacy/returns/find?number=N -> _return.html (the prescription's dispenses,
  their lots and conditions); /pharmacy/returns (POST) -> _returned.html;
- /pharmacy/stock -> stock.html; /pharmacy/stock/drug?code=C -> _drug_lots.html; /pharmacy/stock/lots/<id> ->
  _lot.html (recipients, recall form); /pharmacy/stock/lots/<id>/recall (POST) -> _recalled.html.

The dispense form (kept simple: the offline outbox will queue it as it is). `POST /pharmacy/dispenses`, form fields:
  csrf_token     this session's CSRF token (or the X-CSRF-Token header);
  prescription   the prescription's number (digits);
  submission_id  a version 4 UUID made in the browser (static/screens.js fills `data-submission-id`), forwarded
                 as the API's Idempotency-Key: the same form sent again is dispensed once (its answer replayed);
  qty_<line id>  the quantity to dispense now of each prescription line (a whole number; 0 or absent: none).
It posts `{"lines": [{"line_id": ..., "quantity": ...}, ...]}` (lines by id, keys sorted) to
/api/v1/pharmacy/prescriptions/<number>/dispenses, the same body for the same form every time. What a line does not
get now stays open on the prescription. The receipt, return and recall forms carry a submission_id the same way.

Scans: `read_scan` (common/gs1.py) reads the DataMatrix text a keyboard-wedge scanner types, with or without its
group separators (ASCII 29, which many wedges drop); the receipt is sent to the API with every separator in place.
"""

import re
from datetime import date

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from common.gs1 import GS1Error, element_string, read_scan
from gateway.screens.api import Refusal, items
from gateway.screens.formatting import number
from gateway.screens.pages import (
    api,
    area_blueprint,
    form_submission_id,
    passive,
    patient_or_none,
    quoted,
    render,
)
from gateway.screens.problems import explain

blp = area_blueprint("pharmacy")
CONDITIONS = {"usable": _l("usable"), "quarantined": _l("quarantined"), "recalled": _l("recalled"),
              "expired": _l("expired")}
PRESCRIPTION_STATES = {"open": _l("open"), "partially_dispensed": _l("partly dispensed"),
                       "dispensed": _l("dispensed")}
UNIT_WORDS = {"tablet": _l("tablet"), "capsule": _l("capsule"), "vial": _l("vial"), "ampoule": _l("ampoule"),
              "bottle": _l("bottle"), "bag": _l("bag"), "pen": _l("pen"), "sachet": _l("sachet"), "tube": _l("tube"),
              "box": _l("box")}
QUANTITY_FIELD = re.compile(r"^qty_(\d{1,10})$")
API = "/api/v1/pharmacy"


class Stopped(Exception):  # noqa: N818 (the counter's answer, not a fault)
    """The counter will not go on with this number or scan: it names nothing known, or cannot be read."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


@blp.errorhandler(Stopped)
def _stopped(stop: Stopped):
    return render("pharmacy/_stopped.html", stop.status, message=stop.message)


@blp.app_template_filter("condition")
def condition_name(condition: str) -> str:
    """Say a lot's condition (usable, quarantined, recalled, expired) in the user's language."""
    return str(CONDITIONS.get(condition, condition))


@blp.app_template_filter("unit")
def unit_word(base_unit: str) -> str:
    """Say a drug's base unit (tablet, vial...) in the user's language; a unit not listed as the catalogue has it."""
    return str(UNIT_WORDS.get(str(base_unit).lower(), base_unit))


# --- the queue and dispensing ----------------------------------------------------------------------------------------

@blp.route("/")
def home():
    """Show the counter: the prescription scan field and the queue (with a prescription's panel when the scan form
    was sent before htmx took it over)."""
    panel, status, context = None, 200, {}
    if request.args.get("number"):
        try:
            panel, context = "pharmacy/_prescription.html", prescription_context(request.args["number"])
        except Stopped as stop:
            panel, status, context = "pharmacy/_stopped.html", stop.status, {"message": stop.message}
    return render("pharmacy/counter.html", status, queue=queue_view(), panel=panel, **context)


@blp.route("/queue")
@passive
def queue():
    """Give the queue again (after each dispense, or when the pharmacist refreshes it)."""
    return render("pharmacy/_queue.html", queue=queue_view())


@blp.route("/prescription")
def prescription():
    """Open a prescription: its lines and the FEFO lots a dispense of the asked quantities (by default, what is left
    and can be given) would take, before anything is taken."""
    return render("pharmacy/_prescription.html", **prescription_context(request.args.get("number", ""),
                                                                        quantities_from(request.args)))


@blp.route("/dispenses", methods=["POST"])
def dispense():
    """Dispense the confirmed quantities (form fields in the module docstring); show what came from which lot."""
    form = request.form
    submission_id = form_submission_id()
    if submission_id is None:
        return render("common/_refusal.html", 422, message=_("This form has no submission number; reload the page."))
    found = look_up_prescription(form.get("prescription", ""))
    quantities = quantities_from(form)
    lines = [{"line_id": line_id, "quantity": quantity} for line_id, quantity in sorted(quantities.items())
             if quantity > 0]
    if not lines:
        return render("common/_refusal.html", 422, message=_("Give a quantity to dispense on at least one line."))
    try:
        answer = api().post(f"{API}/prescriptions/{found['id']}/dispenses", {"lines": lines},
                            idempotency_key=submission_id)
    except Refusal as refusal:
        if refusal.code not in ("INSUFFICIENT_STOCK", "EXCEEDS_PRESCRIPTION"):
            raise
        return render("pharmacy/_short.html", refusal.status, refused=refusal_text(refusal),
                      **prescription_context(str(found["id"])))
    after = api().get(f"{API}/prescriptions/{found['id']}")
    html, status = render("pharmacy/_dispensed.html", dispensed=dispensed_view(answer.body), replayed=answer.replayed,
                          prescription=after, patient=patient_or_none(after["patient_id"]))
    return html, status, {"HX-Trigger": "queue-changed, dispensed"}


def prescription_number(scanned: str) -> str | None:
    """Return the prescription number a scanned or typed label carries (its digits), or None."""
    text = scanned.strip()
    return str(int(text)) if re.fullmatch(r"\d{1,10}", text) and int(text) > 0 else None


def look_up_prescription(scanned: str) -> dict:
    """Return the prescription a label names; raise Stopped for one that is not a number or does not exist."""
    found_number = prescription_number(scanned)
    if found_number is None:
        raise Stopped(404, _("“%(label)s” is not a prescription number. Scan the prescription's barcode or type "
                             "its number.", label=scanned.strip()[:40]))
    try:
        return api().get(f"{API}/prescriptions/{found_number}")
    except Refusal as refusal:
        if refusal.code == "PRESCRIPTION_NOT_FOUND":
            raise Stopped(404, _("There is no prescription %(number)s. Check the number on the prescription.",
                                 number=found_number)) from None
        raise


def quantities_from(fields) -> dict[int, int]:
    """Read the qty_<line id> fields of a form or query; refuse (Stopped 422) a quantity that is not a whole
    number."""
    quantities = {}
    for name, value in fields.items():
        matched = QUANTITY_FIELD.match(name)
        if not matched:
            continue
        text = value.strip() or "0"
        if not re.fullmatch(r"\d{1,6}", text):
            raise Stopped(422, _("“%(value)s” is not a quantity: type a whole number of units.", value=text[:20]))
        quantities[int(matched.group(1))] = int(text)
    return quantities


def prescription_context(scanned: str, quantities: dict[int, int] | None = None) -> dict:
    """What a prescription's panel shows: the prescription, its patient, and the dispense plan of the asked
    quantities (by default every line's remainder, as far as usable stock goes)."""
    found = look_up_prescription(scanned)
    message = None
    wanted = [f"{line_id}:{quantity}" for line_id, quantity in sorted((quantities or {}).items()) if quantity > 0]
    try:
        plan = api().get(f"{API}/prescriptions/{found['id']}/dispense-plan", line=wanted or None)
    except Refusal as refusal:
        if refusal.status != 422:
            raise
        message, plan = refusal_text(refusal), api().get(f"{API}/prescriptions/{found['id']}/dispense-plan")
    lines = plan["lines"]
    if not wanted:  # the default: what is left, as far as the usable lots go
        for line in lines:
            line["requested"] = line["served"]
    return {"prescription": found, "patient": patient_or_none(found["patient_id"]), "plan": lines,
            "to_dispense": [line for line in lines if line["served"] > 0], "message": message,
            "states": PRESCRIPTION_STATES}


def queue_view() -> list[dict]:
    """Return the open prescriptions, oldest first, each with its patient.

    Not polled: every look-up of a patient is written to the read audit, so it runs when someone looks.
    """
    queue_rows = items(api().get(f"{API}/prescriptions", state="open", order="oldest", limit=100))
    patients = {patient_id: patient_or_none(patient_id)
                for patient_id in dict.fromkeys(row["patient_id"] for row in queue_rows)}
    return [{**row, "patient": patients[row["patient_id"]], "state": PRESCRIPTION_STATES.get(row["status"], "")}
            for row in queue_rows]


def dispensed_view(dispensed: dict) -> dict:
    """Return a dispense with each line's drug name and each lot's condition."""
    names = drug_names()
    for line in dispensed["lines"]:
        line["drug_name"] = names.get(line["drug_code"], line["drug_code"])
    return dispensed


def refusal_text(refusal: Refusal) -> str:
    """Say a dispensing refusal in the pharmacist's words, naming the drug and quantities it is about."""
    problem = refusal.problem
    if refusal.code == "INSUFFICIENT_STOCK" and "drug_code" in problem:
        name = drug_names().get(problem["drug_code"], problem["drug_code"])
        return _("Not dispensed: %(drug)s (%(code)s): %(requested)s asked, only %(usable)s usable now. The lots and "
                 "their conditions are below; dispense what is usable and the rest stays open.", drug=name,
                 code=problem["drug_code"], requested=number(problem["requested"]), usable=number(problem["usable"]))
    if refusal.code == "EXCEEDS_PRESCRIPTION" and "remaining" in problem:
        return _("Line %(line)s has only %(left)s left to dispense on this prescription.", line=problem["line_id"],
                 left=number(problem["remaining"]))
    return explain(refusal)


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
    submission_id = form_submission_id()
    if submission_id is None:
        return render("common/_refusal.html", 422, message=_("This form has no submission number; reload the page."))
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


# --- returns ---------------------------------------------------------------------------------------------------------

@blp.route("/returns")
def returns():
    """Show the returns desk: find the prescription whose dispensed drugs come back."""
    return render("pharmacy/returns.html")


@blp.route("/returns/find")
def find_return():
    """Show a prescription's dispenses: each line, the lots it came from and their condition, what may come back."""
    return render("pharmacy/_return.html", **return_context(request.args.get("number", "")))


@blp.route("/returns", methods=["POST"])
def return_drugs():
    """Take the typed quantities back into stock (form: dispense, submission_id, reason, qty_<dispense line id>)."""
    form = request.form
    submission_id = form_submission_id()
    if submission_id is None:
        return render("common/_refusal.html", 422, message=_("This form has no submission number; reload the page."))
    dispense_id = prescription_number(form.get("dispense", ""))
    if dispense_id is None:
        raise Stopped(404, _("This form names no dispense; find the prescription again."))
    lines = [{"line_id": line_id, "quantity": quantity} for line_id, quantity in sorted(quantities_from(form).items())
             if quantity > 0]
    if not lines:
        return render("common/_refusal.html", 422, message=_("Give a quantity to return on at least one line."))
    body = {"lines": lines, "reason": form.get("reason", "").strip()}
    answer = api().post(f"{API}/dispenses/{dispense_id}/returns", body, idempotency_key=submission_id)
    returned = answer.body
    lots = {lot_id: api().get(f"{API}/lots/{lot_id}")
            for lot_id in dict.fromkeys(lot["lot_id"] for line in returned["lines"] for lot in line["lots"])}
    html, status = render("pharmacy/_returned.html", returned=returned, lots=lots, names=drug_names(),
                          dispense=api().get(f"{API}/dispenses/{dispense_id}"), replayed=answer.replayed)
    return html, status, {"HX-Trigger": "queue-changed"}


def return_context(scanned: str) -> dict:
    """The dispenses of a prescription with each lot's condition (where a returned unit would go)."""
    found = look_up_prescription(scanned)
    dispenses = [api().get(f"{API}/dispenses/{dispense_id}") for dispense_id in found["dispense_ids"]]
    lot_ids = dict.fromkeys(lot["lot_id"] for record in dispenses for line in record["lines"] for lot in line["lots"])
    return {"prescription": found, "patient": patient_or_none(found["patient_id"]), "dispenses": dispenses,
            "lots": {lot_id: api().get(f"{API}/lots/{lot_id}") for lot_id in lot_ids}, "names": drug_names()}


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
    submission_id = form_submission_id()
    if submission_id is None:
        return render("common/_refusal.html", 422, message=_("This form has no submission number; reload the page."))
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


# --- shared helpers --------------------------------------------------------------------------------------------------

def drug_names() -> dict[str, str]:
    """Return each catalogue drug's name and strength by code."""
    return {drug["code"]: f"{drug['name']} {drug['strength']}" for drug in items(api().get(f"{API}/drugs",
                                                                                          limit=1000))}


def whole_number(text: str) -> int | None:
    """Return a typed whole number (dots or spaces between thousands allowed: 12.000), or None."""
    digits = re.sub(r"[.\s\u00a0]", "", text.strip())
    return int(digits) if re.fullmatch(r"\d{1,15}", digits) else None
