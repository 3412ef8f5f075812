"""The lab head's catalogue: reagents, tests and analyzers listed, and new ones added (URLs: the package's docstring).

A new hospital sets its lab up here: its analyzers, its reagents (then a first lot on the reagent's page), its tests
(then their recipe, in the recipe editor the new test leads to). Each form posts a whole page back: a refusal shows
above the form with the fields the API named marked, everything typed kept; a success shows the page again with the
new row marked (a new test goes on to its recipe). The forms' submission UUID goes as the Idempotency-Key, so a form
sent twice (a double click, a reload) adds the entry once.
"""

from flask import redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from gateway.screens.api import Refusal, items
from gateway.screens.formatting import whole
from gateway.screens.lab.shared import blp
from gateway.screens.pages import api, ends_the_form, form_submission_id, is_htmx, render
from gateway.screens.problems import explain

PAGE_SIZE = 50  # rows per page of a catalogue list; "more" fetches the next page (the API's cursor)
PATHS = {"reagents": "/api/v1/lab/reagents", "tests": "/api/v1/lab/tests", "analyzers": "/api/v1/lab/analyzers"}
UNITS = ("uL", "mL", "L", "test", "g", "mg")  # proposed for a reagent's base unit (any may be typed)
KINDS = {"reagents": _l("Reagents"), "tests": _l("Tests"), "analyzers": _l("Analyzers")}
# each form's fields in the order it shows them: text, a whole number, or a checkbox
FIELDS = {
    "reagents": (("code", "text"), ("name", "text"), ("manufacturer", "text"), ("base_unit", "text"),
                 ("reorder_level", "number"), ("unit_cost_amount", "number"),
                 ("stability_days_after_opening", "number"), ("requires_qc_release", "check")),
    "tests": (("code", "text"), ("name", "text"), ("loinc", "text"), ("service_code", "text"),
              ("price_amount", "number"), ("insurance_price_amount", "number"), ("insurance_covered", "check"),
              ("unit_name", "text")),
    "analyzers": (("code", "text"), ("name", "text"), ("manufacturer", "text")),
}
BLANK = {"reagents": {"reorder_level": "0", "requires_qc_release": False},
         "tests": {"unit_name": "Lần", "insurance_covered": True},
         "analyzers": {}}
EXISTS = ("REAGENT_EXISTS", "TEST_EXISTS", "ANALYZER_EXISTS")


def typed(kind: str) -> dict:
    """What the person typed in a catalogue form, as typed (shown again after a refusal)."""
    form = request.form
    return {name: form.get(name) == "on" if sort == "check" else form.get(name, "") for name, sort in FIELDS[kind]}


def body_of(kind: str, values: dict) -> dict:
    """The API body of a catalogue form: texts trimmed, whole numbers read with their thousands dots, an empty
    optional field left out (the API's default); a bad entry goes as typed and the API names the field."""
    body = {}
    for name, sort in FIELDS[kind]:
        value = values[name] if sort == "check" else whole(values[name]) if sort == "number" else values[name].strip()
        if value not in (None, "") or name == "code":
            body[name] = value
    return body


def listed(kind: str, cursor: str | None = None) -> tuple[list[dict], str | None]:
    """One page of a catalogue list, by code, and the cursor of the next page when more follow."""
    answer = api().page(PATHS[kind], limit=PAGE_SIZE, cursor=cursor)
    return items(answer.body), answer.next_cursor


def catalogue_context(kind: str, values: dict | None = None, **shown) -> dict:
    """What a catalogue page shows: its list (first page, or the one after `cursor`), its form and the units."""
    try:
        rows, next_cursor = listed(kind, request.args.get("cursor") or None)
        unlisted = False
    except Refusal as refusal:
        if refusal.status < 500 or shown.get("error") is None:
            raise
        rows, next_cursor, unlisted = [], None, True  # the lab is not answering: the form keeps what was typed
    units = sorted(set(UNITS) | {reagent["base_unit"] for reagent in rows}) if kind == "reagents" else UNITS
    context = {"kind": kind, "kinds": KINDS, "rows": rows, "next_cursor": next_cursor,
               "values": values or dict(BLANK[kind]), "units": units, "invalid": set(), "error": None, "added": None,
               "existing": None, "notice": None, "unlisted": unlisted, **shown}
    context["first_invalid"] = next((name for name, _sort in FIELDS[kind] if name in context["invalid"]), None)
    return context


@blp.route("/catalogue")
def catalogue_home():
    """Open the catalogue on its reagents."""
    return redirect(url_for(".catalogue", kind="reagents"))


@blp.route("/catalogue/<any(reagents, tests, analyzers):kind>")
def catalogue(kind):
    """Show a catalogue list (reagents, tests or analyzers) with the form that adds one."""
    return render("lab/catalogue.html", **catalogue_context(kind))


@blp.route("/catalogue/<any(reagents, tests, analyzers):kind>/rows")
def catalogue_rows(kind):
    """Give the next page of a catalogue list (its "more" button); without htmx, the page itself at that cursor."""
    if not is_htmx():
        return redirect(url_for(".catalogue", kind=kind, cursor=request.args.get("cursor")), 303)
    rows, next_cursor = listed(kind, request.args.get("cursor") or None)
    return render("lab/_catalogue_rows.html", kind=kind, rows=rows, next_cursor=next_cursor, added=None)


@blp.route("/catalogue/<any(reagents, tests, analyzers):kind>", methods=["POST"])
def catalogue_add(kind):
    """Add a reagent, test or analyzer; a new test goes on to its recipe."""
    values = typed(kind)
    try:
        answer = api().post(PATHS[kind], body_of(kind, values), idempotency_key=form_submission_id())
    except Refusal as refusal:
        if ends_the_form(refusal):
            raise
        invalid = {"code"} if refusal.code in EXISTS else {str(name) for name in refusal.problem.get("errors") or {}}
        return render("lab/catalogue.html", refusal.status, **catalogue_context(
            kind, values, invalid=invalid, error=explain(refusal),
            existing=values["code"].strip() if refusal.code in EXISTS else None))
    added = answer.body
    if kind == "tests":
        return redirect(url_for(".recipe", code=added["code"], added=1), 303)
    notice = {"reagents": _("Reagent %(code)s added to the catalogue."),
              "analyzers": _("Analyzer %(code)s added.")}[kind] % {"code": added["code"]}
    if answer.replayed:
        notice += " " + _("(This form had already been sent; added once.)")
    return render("lab/catalogue.html", **catalogue_context(kind, notice=notice, added=added["code"]))
