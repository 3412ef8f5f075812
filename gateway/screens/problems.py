"""What an API refusal means, in the user's language: one message per stable problem `code`.

An area with a refusal that needs more than a sentence (INSUFFICIENT_STOCK at the bench names the lots) explains
it itself and falls back on this table for the rest. A code not listed here shows the API's own detail.
"""

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

MESSAGES = {
    "INVALID_CREDENTIALS": _l("Wrong username or password."),
    "TOO_MANY_REQUESTS": _l("Too many attempts; wait a moment and try again."),
    "FORBIDDEN": _l("Your role may not do this."),
    "ENCOUNTER_NOT_FOUND": _l("There is no visit with this number. Check the label on the sample."),
    "ENCOUNTER_CLOSED": _l("This visit is already closed; nothing more can be logged on it."),
    "PATIENT_NOT_FOUND": _l("There is no patient with this number."),
    "TEST_NOT_FOUND": _l("There is no test with this code in the catalogue."),
    "ANALYZER_NOT_FOUND": _l("There is no analyzer with this code."),
    "REAGENT_NOT_FOUND": _l("There is no reagent with this code."),
    "INSUFFICIENT_STOCK": _l("Not enough usable stock."),
    "LOT_QUARANTINED": _l("This lot is quarantined until QC releases it."),
    "LOT_EXPIRED": _l("This lot has expired."),
    "VALIDATION_FAILED": _l("Some fields are not filled in correctly."),
    "MALFORMED_REQUEST": _l("The request was not understood."),
    "IDEMPOTENCY_KEY_REUSED": _l("This form was already sent with other values; reload the page and try again."),
    "CONFLICT": _l("Someone changed this at the same time; reload and try again."),
    "UPSTREAM_UNAVAILABLE": _l("A service of the hospital system is not answering right now; try again shortly."),
    "UPSTREAM_TIMEOUT": _l("A service of the hospital system took too long to answer; try again shortly."),
    "SERVICE_UNAVAILABLE": _l("The system is busy or being restarted; try again shortly."),
    "INTERNAL_ERROR": _l("Something went wrong on our side; it has been logged. Try again in a moment."),
    # the cashier desk
    "PATIENT_ALREADY_REGISTERED": _l("A patient with this CCCD is already registered."),
    "CARD_BELONGS_TO_ANOTHER_PATIENT": _l("This card's social-insurance number belongs to another patient."),
    "COVERAGE_ALREADY_RECORDED": _l("This card, with the same start date, is already recorded."),
    "ENCOUNTER_ALREADY_OPEN": _l("This patient already has an open visit; close it before opening another."),
    "INVOICE_NOT_FOUND": _l("There is no bill with this number."),
    "INVOICE_ALREADY_PAID": _l("Nothing is left to pay on this bill."),
    "INVOICE_VOID": _l("This bill is void: nothing to pay."),
    "AMOUNT_EXCEEDS_BALANCE": _l("The amount is more than what is left to pay."),
    "PAYMENT_REQUEST_EXPIRED": _l("This QR code has expired; show a new one."),
    "PAYMENT_REQUEST_CANCELED": _l("This QR code was cancelled; show a new one."),
    "PAYMENT_PROVIDER_UNAVAILABLE": _l("The card payment provider is not reachable; take cash or a transfer, or try "
                                       "again shortly."),
    "PAYMENT_PROVIDER_TIMEOUT": _l("The card payment provider did not answer in time; try again shortly."),
    "PAYMENT_PROVIDER_REJECTED": _l("The card payment provider refused the request."),
}


def explain(refusal) -> str:
    """Return the user's-language message of an API refusal (its own detail when the code is not known)."""
    message = MESSAGES.get(refusal.code)
    if message is None:
        return gettext("The system refused: %(detail)s", detail=refusal.problem.get("detail", refusal.code))
    if refusal.code == "VALIDATION_FAILED" and refusal.problem.get("errors"):
        return gettext("%(message)s (%(fields)s)", message=message,
                       fields=", ".join(sorted(map(str, refusal.problem["errors"]))))
    return str(message)
