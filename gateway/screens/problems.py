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
    "PASSWORD_CHANGE_REQUIRED": _l("Change your password first."),
    "WRONG_PASSWORD": _l("The current password is wrong."),
    "PASSWORD_UNCHANGED": _l("The new password must differ from the current one."),
    "PASSWORD_TOO_WEAK": _l("The password is too weak: at least 10 characters, not containing the username, not a "
                            "few characters repeated."),
    "SIGN_IN_LOCKED": _l("Too many wrong passwords: sign-in is locked for a while. Try again later or ask an "
                         "administrator to reset the password."),
    "USER_EXISTS": _l("A user with this username already exists."),
    "USER_NOT_FOUND": _l("There is no such user."),
    "OWN_ACCOUNT": _l("You cannot change your own role, disable yourself or reset your own password here; ask "
                      "another administrator."),
    "VALIDATION_FAILED": _l("Some fields are not filled in correctly."),
    "MALFORMED_REQUEST": _l("The request was not understood."),
    "IDEMPOTENCY_KEY_REUSED": _l("This form was already sent with other values; reload the page and try again."),
    "CONFLICT": _l("Someone changed this at the same time; reload and try again."),
    "UPSTREAM_UNAVAILABLE": _l("A service of the hospital system is not answering right now; try again shortly."),
    "UPSTREAM_TIMEOUT": _l("A service of the hospital system took too long to answer; try again shortly."),
    "SERVICE_UNAVAILABLE": _l("The system is busy or being restarted; try again shortly."),
    "INTERNAL_ERROR": _l("Something went wrong on our side; it has been logged. Try again in a moment."),
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
