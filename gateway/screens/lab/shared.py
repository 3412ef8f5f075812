"""What the lab area's views share: the blueprint, names of states, helpers."""

from functools import wraps

from flask_babel import lazy_gettext as _l

from gateway.screens.api import Refusal
from gateway.screens.pages import area_blueprint, is_htmx, render
from gateway.screens.problems import explain

blp = area_blueprint("lab")

LOT_STATUS = {"usable": _l("usable"), "quarantined": _l("quarantined"), "expired": _l("expired"),
              "past_opened_stability": _l("past stability once opened"), "empty": _l("empty")}
BASES = {"test": _l("per test"), "run": _l("per run (dead volume)"), "lot_opened": _l("when a run opens a new lot"),
         "day": _l("once a day (QC)")}
ALERT_STATES = {"open": _l("Not acknowledged"), "acknowledged": _l("Acknowledged"), "closed": _l("Closed")}
LOT_ACTIONS = {"release": _l("Lot %(lot)s released: tests may use it."),
               "quarantine": _l("Lot %(lot)s quarantined: no test takes from it until it is released."),
               "open": _l("Lot %(lot)s opened: its stability clock has started.")}
UNBILLED = {"rerun": _l("rerun"), "charge_reversed": _l("charge reversed"), "charge_not_billed": _l("not billed")}
PAYERS = {"bhyt": _l("BHYT"), "self_pay": _l("self-pay")}
RECIPE_ROWS_FREE = 3  # blank lines under a recipe, to add reagents
MOVEMENT_KINDS = ("count_adjustment", "wastage")


def lot_status(lot: dict) -> str:
    """Return a lot's status word: usable, or why it is not (quarantined, expired, past stability, empty)."""
    return "usable" if lot.get("usable") else (lot.get("unusable_reason") or "empty")


def acting(view):
    """Answer an API refusal of a form above the form (its values stay as typed), in the user's language."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except Refusal as refusal:
            if refusal.status == 401 or not is_htmx():
                raise
            html, status = render("common/_refusal.html", refusal.status, message=explain(refusal))
            return html, status, {"HX-Retarget": "#outcome", "HX-Reswap": "innerHTML"}
    return wrapper
