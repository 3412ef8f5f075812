"""The pharmacy's drug catalogue: every drug by code, a page at a time, and the form that adds one (URLs: the
package's docstring)."""

import re

from flask import redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from common.gs1 import GS1Error, read_scan
from gateway.screens.api import Refusal, items
from gateway.screens.formatting import whole
from gateway.screens.pages import api, ends_the_form, is_htmx, quoted, render, required_submission_id
from gateway.screens.pharmacy.shared import API, blp
from gateway.screens.pharmacy.stock import drug_by_gtin, looks_scanned
from gateway.screens.problems import explain

PAGE_SIZE = 50
TEXT_FIELDS = ("code", "name", "active_ingredient", "strength", "dosage_form", "route", "atc_code",
               "registration_number", "base_unit", "unit_name", "gtin")
WHOLE_FIELDS = ("price_amount", "insurance_scope", "insurance_rate", "reorder_level")
FIELDS = ("gtin", "code", "name", "active_ingredient", "strength", "dosage_form", "route", "atc_code",
          "registration_number", "base_unit", "unit_name", "price_amount", "insurance_scope", "insurance_rate",
          "reorder_level")  # in the form's order: the first one at fault is focused
# What each field must be, said when the API refuses it (its own messages are English and name the field by code).
FIELD_HINTS = {
    "gtin": _l("A GTIN has 8, 12, 13 or 14 digits and its last digit checks the others: scan the barcode on the box "
               "again, or leave it empty."),
    "code": _l("The BHYT drug code: 1 to 40 letters, digits, dots, dashes or underscores (e.g. 40.158)."),
    "name": _l("Give the drug's name (at most 200 characters)."),
    "active_ingredient": _l("Give the active ingredient (at most 200 characters)."),
    "strength": _l("Give the strength (at most 100 characters), e.g. 500 mg."),
    "dosage_form": _l("Give the dosage form (at most 100 characters), e.g. Viên nang cứng."),
    "route": _l("Give the route (at most 50 characters), e.g. Uống."),
    "atc_code": _l("A full ATC code has 7 characters: a letter, 2 digits, 2 letters, 2 digits (e.g. J01CA04)."),
    "registration_number": _l("Give the registration number (at most 40 characters), e.g. VD-25731-16."),
    "base_unit": _l("Choose the unit stock is counted in."),
    "unit_name": _l("Write the unit as the national drug list does (Viên, Lọ, Ống...), at most 30 characters."),
    "price_amount": _l("Type the price per unit in whole đồng (e.g. 1.050), at most 1.000.000.000."),
    "insurance_scope": _l("Choose whether the drug is in the BHYT list."),
    "insurance_rate": _l("Type a whole percentage from 0 to 100."),
    "reorder_level": _l("Type a whole number of units, 0 or more."),
}
BASE_UNITS = {"tablet": _l("a tablet"), "capsule": _l("a capsule"), "vial": _l("a vial"), "ampoule": _l("an ampoule"),
              "bottle": _l("a bottle"), "bag": _l("a bag"), "pen": _l("a pen"), "sachet": _l("a sachet"),
              "tube": _l("a tube"), "box": _l("a box")}  # the units the screens name (shared.UNIT_WORDS)
INSURANCE_SCOPES = {"1": _l("in the BHYT list"), "2": _l("outside the BHYT list")}
ROUTES = ("Uống", "Tiêm tĩnh mạch", "Tiêm bắp", "Tiêm dưới da", "Tiêm truyền tĩnh mạch", "Ngậm dưới lưỡi",
          "Dùng ngoài", "Nhỏ mắt", "Nhỏ mũi", "Đặt trực tràng", "Hít")  # DUONG_DUNG words a catalogue uses
DOSAGE_FORMS = ("Viên nén", "Viên nén bao phim", "Viên nang cứng", "Viên sủi", "Bột pha tiêm", "Dung dịch tiêm",
                "Dung dịch tiêm truyền", "Siro", "Thuốc mỡ", "Thuốc nhỏ mắt", "Gói bột")


@blp.route("/catalogue")
def catalogue():
    """Show the drug catalogue (a page at a time, by code) under the form that adds a drug."""
    typed = {"gtin": request.args.get("gtin", "").strip()[:14]}  # from "not in the catalogue" at receiving
    context = {**form_context(typed), **list_context(request.args.get("cursor"))}
    if typed["gtin"]:
        context["focus"] = "code"
    return render("pharmacy/catalogue.html", **context, added=request.args.get("added"))


@blp.route("/catalogue/list")
def catalogue_list():
    """Give one page of the catalogue again (the next page, or the first one after a drug was added)."""
    return render("pharmacy/_drug_list.html", **list_context(request.args.get("cursor")))


@blp.route("/drugs", methods=["POST"])
def add_drug():
    """Add a drug to the catalogue (form fields: FIELDS, submission_id); a refusal comes back in the form, the
    values kept and the fields at fault marked."""
    typed = {name: request.form.get(name, "").strip() for name in FIELDS}
    body = drug_body(typed)
    try:
        answer = api().post(f"{API}/drugs", body, idempotency_key=required_submission_id())
    except Refusal as refusal:
        if ends_the_form(refusal):
            raise
        message, errors = drug_refusal(refusal, body)
        return form_answer(typed, refusal.status, message=message, errors=errors)
    drug = answer.body
    if not is_htmx():
        return redirect(url_for(".catalogue", added=drug["code"]), 303)
    html, status = render("pharmacy/_drug_form.html", **form_context({}), added_drug=drug, replayed=answer.replayed)
    return html, status, {"HX-Trigger": "drug-added"}


def drug_body(typed: dict) -> dict:
    """The API's body from the typed fields: empty ones left out (the API's defaults, or its "required"), whole
    numbers read with their thousands dots, anything else sent as typed for the API to refuse by name."""
    body = {}
    for name in TEXT_FIELDS:
        if typed[name]:
            body[name] = typed[name]
    if "atc_code" in body:
        body["atc_code"] = body["atc_code"].upper()
    if "gtin" in body:
        body["gtin"] = scanned_gtin(body["gtin"])
    for name in WHOLE_FIELDS:
        if typed[name]:
            body[name] = whole(typed[name])
    return body


def scanned_gtin(text: str) -> str:
    """The GTIN of what the scanner typed into the GTIN field: a pack's DataMatrix gives its AI 01, a 1D barcode
    its digits (an AIM prefix such as ]E0 dropped); anything else as typed."""
    barcode = re.fullmatch(r"(\][A-Za-z]\d)?(\d{8,14})", re.sub(r"\s", "", text))
    if barcode:
        return barcode.group(2)
    if looks_scanned(text):
        try:
            return read_scan(text).gtin or text
        except GS1Error:
            return text
    return text


def drug_refusal(refusal: Refusal, body: dict) -> tuple[str, dict]:
    """Say why the drug was not added, and which fields are at fault (name -> what it must be)."""
    if refusal.code == "DRUG_EXISTS":
        return duplicate(body)
    if refusal.code == "UNIT_NAME_REQUIRED":
        return explain(refusal), {"unit_name": FIELD_HINTS["unit_name"]}
    fields = refusal.problem.get("errors") if refusal.code == "VALIDATION_FAILED" else None
    if isinstance(fields, dict) and set(fields) <= set(FIELD_HINTS):
        return (_("The drug was not added: correct the marked fields (%(count)s).", count=len(fields)),
                {name: FIELD_HINTS[name] for name in FIELDS if name in fields})
    return explain(refusal), {}


def duplicate(body: dict) -> tuple[str, dict]:
    """Name the catalogue's drug that already has this code or this GTIN."""
    try:
        same_code = api().get(f"{API}/drugs/{quoted(body['code'])}")
    except Refusal as refusal:
        if refusal.code != "DRUG_NOT_FOUND":
            raise
        same_code = None
    if same_code is not None:
        return (_("Drug code %(code)s is already in the catalogue: %(drug)s. Give another code, or receive lots of "
                  "that drug.", code=same_code["code"], drug=f"{same_code['name']} {same_code['strength']}"),
                {"code": _("This code is taken.")})
    same_gtin = drug_by_gtin(str(body.get("gtin", "")).zfill(14))
    if same_gtin is not None:
        return (_("GTIN %(gtin)s already belongs to %(drug)s (code %(code)s): one pack barcode names one drug.",
                  gtin=same_gtin["gtin"], drug=f"{same_gtin['name']} {same_gtin['strength']}",
                  code=same_gtin["code"]), {"gtin": _("This GTIN is taken.")})
    return _("A drug with this code or GTIN is already in the catalogue."), {}


def form_answer(typed: dict, status: int, message: str, errors: dict):
    """The form again with what was typed, the refusal above it and each field at fault marked."""
    context = {**form_context(typed), "message": message, "errors": errors,
               "focus": next((name for name in FIELDS if name in errors), None)}
    if is_htmx():
        return render("pharmacy/_drug_form.html", status, **context)
    return render("pharmacy/catalogue.html", status, **{**list_context(None), **context})


def form_context(typed: dict) -> dict:
    """What the add-a-drug form shows: the values (typed, or the defaults), the choices."""
    defaults = {"base_unit": "tablet", "insurance_scope": "1", "insurance_rate": "100", "reorder_level": "0"}
    return {"typed": {name: typed.get(name) or defaults.get(name, "") for name in FIELDS}, "errors": {},
            "focus": "gtin", "units": BASE_UNITS, "scopes": INSURANCE_SCOPES, "routes": ROUTES,
            "dosage_forms": DOSAGE_FORMS}


def list_context(cursor: str | None) -> dict:
    """One page of the catalogue by code, and where the next one starts."""
    answer = api().page(f"{API}/drugs", limit=PAGE_SIZE, cursor=cursor or None)
    return {"drugs": items(answer.body), "next_cursor": answer.next_cursor, "cursor": cursor,
            "scopes": INSURANCE_SCOPES}
