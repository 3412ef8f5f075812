"""What the pharmacy area's views share: the blueprint, names of states, helpers."""

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from gateway.screens.api import Refusal, items
from gateway.screens.formatting import number
from gateway.screens.pages import (
    api,
    area_blueprint,
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
ADJUSTMENT_REASONS = {"damaged": _l("damaged, broken"), "lost": _l("lost"), "found": _l("found (more than the book)"),
                      "destroyed": _l("destroyed (expired, recalled)"),
                      "returned_to_supplier": _l("returned to the supplier"), "sample": _l("taken as a sample"),
                      "other": _l("other (say what in the note)")}  # the API's list (pharmacy_service.schemas)
MOVEMENTS = {"receipt": _l("receipt"), "dispense": _l("dispensed"), "return": _l("taken back"), "count": _l("count"),
             "adjustment": _l("adjustment"), "quarantine": _l("quarantined"), "release": _l("released"),
             "recall": _l("recalled")}
QUANTITY_FIELD = re.compile(r"^qty_(\d{1,10})$")
API = "/api/v1/pharmacy"


class Stopped(Exception):  # noqa: N818 (the counter's answer, not a fault)
    """The counter will not go on with this number or scan: it names nothing known, or cannot be read."""

    def __init__(self, status: int, message: str, gtin: str | None = None):
        super().__init__(message)
        self.status, self.message, self.gtin = status, message, gtin  # gtin: a scanned pack not in the catalogue


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




@blp.app_template_filter("stock_movement")
def movement_name(kind: str) -> str:
    """Say a stock card entry's kind (receipt, dispense, count, adjustment...) in the user's language."""
    return str(MOVEMENTS.get(kind, kind))


@blp.app_template_filter("adjustment_reason")
def adjustment_reason(reason: str | None) -> str:
    """Say an adjustment's reason ("damaged" or "damaged: Vỡ 2 lọ", as the stock card keeps it) in the user's
    language; any other reason as it was written."""
    code, _sep, note = (reason or "").partition(": ")
    if code not in ADJUSTMENT_REASONS:
        return reason or ""
    return f"{ADJUSTMENT_REASONS[code]}: {note}" if note else str(ADJUSTMENT_REASONS[code])


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




# --- shared helpers --------------------------------------------------------------------------------------------------

def drug_names() -> dict[str, str]:
    """Return each catalogue drug's name and strength by code."""
    return {drug["code"]: f"{drug['name']} {drug['strength']}" for drug in items(api().get(f"{API}/drugs",
                                                                                          limit=1000))}
