"""The pharmacy counter's queue, dispensing (the FEFO lots shown first) and returns (URLs: the package's
docstring)."""

import re

from flask import request
from flask_babel import gettext as _

from gateway.screens.api import Refusal, items
from gateway.screens.pages import (
    api,
    passive,
    patient_or_none,
    render,
    required_submission_id,
)
from gateway.screens.pharmacy.shared import (
    API,
    PRESCRIPTION_STATES,
    QUANTITY_FIELD,
    Stopped,
    blp,
    drug_names,
    refusal_text,
)

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
    submission_id = required_submission_id()
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
    submission_id = required_submission_id()
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
