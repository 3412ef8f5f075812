"""The cashier desk (cashier): find or register a patient, their card and visit; the bill; VietQR, cash and card.

URL -> view -> template: /cashier/ home -> cashier/home.html; /cashier/patients?q= -> cashier/_results.html;
/cashier/patients/new -> cashier/register.html; /cashier/patients/<id> -> cashier/patient.html (card and visit
forms); /cashier/bills/<id> -> cashier/bill.html, its state polled at /cashier/bills/<id>/status ->
cashier/_status.html; /cashier/bills/<id>/qr (POST) -> cashier/_qr.html, /cash and /card (POST) -> _cash.html,
_card.html; /cashier/payment-requests/<id>/display -> cashier/display.html, the customer-facing page for a second
screen (its state polled at .../display/status -> cashier/_display_status.html); /cashier/payment-requests/<id>/
qr.png: the QR image through the session; /cashier/payment-requests/<id>/card -> cashier/_card.html (a card
request's state, polled while it waits); /cashier/bills/<id>/receipt -> cashier/receipt.html (printable).

The search box takes what the patient hands over: a CCCD (12 digits), a BHYT card (2 letters, 13 digits) or its
social-insurance number, a phone number, or a name typed without accents. Money forms carry the browser's UUID as
the API's Idempotency-Key, so a double click takes the money once.
"""

import re
import uuid
from dataclasses import dataclass

from flask import Response, current_app, redirect, request, url_for
from flask_babel import gettext as _

from gateway.screens.api import Refusal, items
from gateway.screens.formatting import whole
from gateway.screens.pages import api, area_blueprint, form_submission_id, is_htmx, passive, patient_or_none, render
from gateway.screens.problems import explain

blp = area_blueprint("cashier")
PAGE_SIZE = 20
CARD = re.compile(r"^[A-Za-z]{2}[1-5]\d{12}$")
PHONE = re.compile(r"^(0|\+84)\d{9,10}$")
SETTLED = ("paid", "refunded", "void")
OPTIONAL = ("phone", "address")  # a registration may leave them empty (the API then has none)
DEPARTMENTS = ("K01 Khoa Khám bệnh", "K02 Khoa Nhi", "K03 Khoa Nội tổng hợp", "K19 Khoa Ngoại tổng hợp",
               "K26 Khoa Xét nghiệm")


@dataclass(frozen=True)
class Search:
    """What the one search box was given, as the API's criteria (a 10-digit number may be a phone or a card's
    social-insurance number: both are asked)."""

    text: str
    criteria: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, typed: str) -> "Search":
        text = typed.strip()[:100]
        compact = re.sub(r"[\s.\-]", "", text)
        if re.fullmatch(r"\d{12}", compact):
            return cls(text, (("cccd", compact),))
        if CARD.fullmatch(compact):
            return cls(text, (("card", compact.upper()),))
        if re.fullmatch(r"\d{10}", compact):
            phone = (("phone", compact),) if PHONE.fullmatch(compact) else ()
            return cls(text, (*phone, ("card", compact)))
        if PHONE.fullmatch(compact):
            return cls(text, (("phone", compact),))
        return cls(text, (("name", text),) if re.search(r"\w", text) else ())


def find(typed: str, cursor: str | None = None) -> tuple[list[dict], str | None]:
    """Return the patients the search box names (one page of a name search) and the next page's cursor."""
    search = Search.of(typed)
    found, next_cursor = {}, None
    for name, value in search.criteria:
        answer = api().page("/api/v1/patients", **{name: value}, limit=PAGE_SIZE, cursor=cursor)
        next_cursor = next_cursor or answer.next_cursor
        found.update({patient["id"]: patient for patient in items(answer.body)})
    return list(found.values()), next_cursor


@blp.route("/")
def home():
    """The desk: one search box (CCCD, name, phone or BHYT card), its results, and registration."""
    typed = request.args.get("q", "")
    results, next_cursor = find(typed) if typed.strip() else ([], None)
    return render("cashier/home.html", q=typed, results=results, next_cursor=next_cursor,
                  searched=bool(typed.strip()))


@blp.route("/patients")
def patients():
    """Give the results of a search (htmx swaps them under the box; `cursor` gives the next page)."""
    typed = request.args.get("q", "")
    if not Search.of(typed).criteria:
        return render("cashier/_results.html", q=typed, results=[], next_cursor=None, searched=False)
    results, next_cursor = find(typed, request.args.get("cursor") or None)
    return render("cashier/_results.html", q=typed, results=results, next_cursor=next_cursor, searched=True)


@blp.route("/patients/new")
def new_patient():
    """The registration form (CCCD, name, birth date, sex, phone, address)."""
    return render("cashier/register.html", form={}, message=None)


@blp.route("/patients", methods=["POST"])
def register_patient():
    """Register a patient; then their page, where the card and the visit are added."""
    form = request.form
    body = {"full_name": form.get("full_name", "").strip(), "cccd": form.get("cccd", "").strip(),
            "birth_date": form.get("birth_date", ""), "sex": form.get("sex", ""),
            "phone": form.get("phone", "").strip(), "address": form.get("address", "").strip()}
    body = {name: value for name, value in body.items() if value or name not in OPTIONAL}  # left empty: not given
    try:
        patient = api().post("/api/v1/patients", body, idempotency_key=submission_id()).body
    except Refusal as refusal:
        if refusal.status >= 500:
            raise
        existing = refusal.problem.get("patient_id") if refusal.code == "PATIENT_ALREADY_REGISTERED" else None
        return render("cashier/register.html", refusal.status, form=form, message=explain(refusal),
                      existing=existing)
    return to(url_for(".patient", patient_id=patient["id"], registered=1))


@blp.route("/patients/<int:patient_id>")
def patient(patient_id):
    """A patient: identity, the card valid today, visits with their bills, and the card and visit forms."""
    return render("cashier/patient.html", **patient_context(patient_id))


def patient_context(patient_id: int, **extra) -> dict:
    found = api().get(f"/api/v1/patients/{patient_id}")
    visits = items(api().get("/api/v1/encounters", patient_id=patient_id, limit=20))
    bills = {bill["encounter_id"]: bill for bill in items(api().get("/api/v1/billing/invoices",
                                                                    patient_id=str(patient_id), limit=100))}
    doctors = [p for p in items(api().get("/api/v1/practitioners")) if p.get("profession") == "doctor"]
    context = {"patient": found, "visits": [{**visit, "bill": bills.get(visit["id"])} for visit in visits],
               "doctors": doctors, "departments": DEPARTMENTS, "card_form": {}, "visit_form": {},
               "card_message": None, "visit_message": None, "close_form": {}, "close_message": None,
               "registered": request.args.get("registered")}
    context.update(extra)
    return context


@blp.route("/patients/<int:patient_id>/cards", methods=["POST"])
def add_card(patient_id):
    """Record the patient's BHYT card."""
    form = request.form
    body = {"card_number": form.get("card_number", "").strip().upper(),
            "registered_facility": form.get("registered_facility", "").strip().upper(),
            "valid_from": form.get("valid_from", ""), "valid_to": form.get("valid_to", ""),
            "benefit_level": whole(form.get("benefit_level"))}
    return sent_from_patient_page(patient_id, "card", f"/api/v1/patients/{patient_id}/coverages", body)


@blp.route("/patients/<int:patient_id>/visits", methods=["POST"])
def open_visit(patient_id):
    """Open a visit for the patient (the card valid today applies)."""
    form = request.form
    body = {"patient_id": str(patient_id), "kind": form.get("kind", "outpatient"),
            "department": form.get("department", "").strip(),
            "practitioner_id": form.get("practitioner_id") or None}
    if form.get("out_of_network") == "on":
        body.update(in_network=False, network_rate=whole(form.get("network_rate")))
    return sent_from_patient_page(patient_id, "visit", "/api/v1/encounters", body)


@blp.route("/visits/<int:visit_id>/close", methods=["POST"])
def close_visit(visit_id):
    """Close (discharge) a visit with its ICD-10 diagnoses: finance claims the BHYT visits discharged in a month."""
    form = request.form
    patient_id = int(api().get(f"/api/v1/encounters/{visit_id}")["patient_id"])
    body = {"diagnosis_main": form.get("diagnosis_main", "").strip().upper(),
            "diagnosis_other": form.get("diagnosis_other", "").strip().upper() or None}
    return sent_from_patient_page(patient_id, "close", f"/api/v1/encounters/{visit_id}/close", body)


@blp.route("/visits/<int:visit_id>/bill")
def visit_bill(visit_id):
    """Open the bill of a visit (billing makes it when the first charge arrives)."""
    bills = items(api().get("/api/v1/billing/invoices", encounter_id=str(visit_id), limit=1))
    if not bills:
        return render("common/refusal.html", 404, message=_("Visit %(visit)s has no bill yet: nothing has been "
                                                            "charged on it.", visit=visit_id))
    return redirect(url_for(".bill", invoice_id=bills[0]["id"]))


@blp.route("/bills/<int:invoice_id>")
def bill(invoice_id):
    """The bill: each line split between BHYT, co-pay and out of scope; what is paid and left; how to pay."""
    return render("cashier/bill.html", **bill_context(invoice_id))


def bill_context(invoice_id: int) -> dict:
    invoice = api().get(f"/api/v1/billing/invoices/{invoice_id}")
    requests_ = items(api().get(f"/api/v1/billing/invoices/{invoice_id}/payment-requests", limit=20))
    live_qr = next((r for r in requests_ if r["method"] == "vietqr" and r["state"] in ("pending", "partially_paid")),
                   None)
    live_card = next((r for r in requests_ if r["method"] == "card" and r["state"] in ("pending", "failed")), None)
    return {"invoice": invoice, "patient": patient_or_none(invoice["patient_id"]), "qr": live_qr,
            "card": live_card, "settled": invoice["state"] in SETTLED, "demo": demo_mode()}


@blp.route("/bills/<int:invoice_id>/status")
@passive
def bill_status(invoice_id):
    """The bill's state and balance (the bill page polls it; 286 stops the polling once the bill is settled)."""
    invoice = api().get(f"/api/v1/billing/invoices/{invoice_id}")
    html, _status = render("cashier/_status.html", invoice=invoice)
    return html, 286 if invoice["state"] in SETTLED else 200


@blp.route("/bills/<int:invoice_id>/qr", methods=["POST"])
def issue_qr(invoice_id):
    """Issue a VietQR for the balance and show it, with the customer display to open on the second screen."""
    answer = api().post(f"/api/v1/billing/invoices/{invoice_id}/payment-requests", {"method": "vietqr"},
                        idempotency_key=submission_id())
    return render("cashier/_qr.html", qr=answer.body, invoice=api().get(f"/api/v1/billing/invoices/{invoice_id}"),
                  demo=demo_mode())


@blp.route("/bills/<int:invoice_id>/cash", methods=["POST"])
def take_cash(invoice_id):
    """Take cash at the counter (the amount handed over, never more than the balance)."""
    body = {"method": "cash", "amount": whole(request.form.get("amount")),
            "reason": request.form.get("reason", "").strip() or _("Cash at the cashier desk")}
    answer = api().post(f"/api/v1/billing/invoices/{invoice_id}/payments", body, idempotency_key=submission_id())
    html, status = render("cashier/_cash.html", payment=answer.body, replayed=answer.replayed, invoice_id=invoice_id)
    return html, status, {"HX-Trigger": "bill-changed"}


@blp.route("/bills/<int:invoice_id>/card", methods=["POST"])
def take_card(invoice_id):
    """Ask the card provider for a payment of the balance; the card terminal (or the patient's phone) confirms
    it and the bill turns paid when the provider's signed notice reaches billing."""
    answer = api().post(f"/api/v1/billing/invoices/{invoice_id}/payment-requests", {"method": "card"},
                        idempotency_key=submission_id())
    return render("cashier/_card.html", card=answer.body, demo=demo_mode())


@blp.route("/payment-requests/<int:request_id>/card")
@passive
def card_status(request_id):
    """A card request as it stands (the bill page polls it while it waits, so a declined card is said at once, with
    the reason in the cashier's language; 286 stops the polling once the provider has answered)."""
    card = api().get(f"/api/v1/billing/payment-requests/{request_id}")
    html, _status = render("cashier/_card.html", card=card, demo=demo_mode())
    return html, 200 if card["state"] == "pending" else 286


@blp.route("/payment-requests/<int:request_id>/qr.png")
@passive
def qr_png(request_id):
    """The VietQR image of a payment request, through the signed-in session (a browser sends no bearer header)."""
    png, headers = api().download(f"/api/v1/billing/payment-requests/{request_id}/qr.png")
    return Response(png, mimetype=headers.get("Content-Type", "image/png"), headers={"Cache-Control": "no-store"})


@blp.route("/payment-requests/<int:request_id>/display")
def display(request_id):
    """The customer-facing page for a second screen: the QR large, the amount, the hospital, the bill reference."""
    payment = api().get(f"/api/v1/billing/payment-requests/{request_id}")
    invoice = api().get(f"/api/v1/billing/invoices/{payment['invoice_id']}")
    return render("cashier/display.html", payment=payment, invoice=invoice,
                  hospital=current_app.config["HOSPITAL_NAME"])


@blp.route("/payment-requests/<int:request_id>/display/status")
@passive
def display_status(request_id):
    """The customer display's state (polled): waiting, or paid with thanks."""
    payment = api().get(f"/api/v1/billing/payment-requests/{request_id}")
    invoice = api().get(f"/api/v1/billing/invoices/{payment['invoice_id']}")
    html, _status = render("cashier/_display_status.html", payment=payment, invoice=invoice)
    return html, 286 if invoice["state"] in SETTLED else 200


@blp.route("/bills/<int:invoice_id>/receipt")
def receipt(invoice_id):
    """The receipt of a bill, laid out for printing (the browser's print prints only the receipt)."""
    context = bill_context(invoice_id)
    return render("cashier/receipt.html", **context, hospital=current_app.config["HOSPITAL_NAME"])


def demo_mode() -> bool:
    """Tell whether this is a demo hospital (`make run`): the bill then says how to play the bank."""
    return current_app.config["APP_ENV"] == "development"


def sent_from_patient_page(patient_id: int, form_name: str, path: str, body: dict):
    """POST a form of the patient's page (a card, a visit, a discharge), then show the page again; a refusal shows
    it with that form as typed and the reason above it."""
    try:
        api().post(path, body, idempotency_key=submission_id())
    except Refusal as refusal:
        if refusal.status >= 500 or refusal.status == 401:
            raise
        return render("cashier/patient.html", refusal.status, **patient_context(
            patient_id, **{f"{form_name}_form": request.form, f"{form_name}_message": explain(refusal)}))
    return to(url_for(".patient", patient_id=patient_id))


def submission_id() -> str:
    """Return the form's browser-made UUID (the Idempotency-Key), or a fresh one for a form sent without script."""
    return form_submission_id() or str(uuid.uuid4())


def to(target: str):
    """Go to a page after a form: a redirect, or HX-Redirect for htmx."""
    if is_htmx():
        return Response(status=204, headers={"HX-Redirect": target})
    return redirect(target, 303)
