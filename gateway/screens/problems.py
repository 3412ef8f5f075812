"""What an API refusal means, in the user's language: one message per stable problem `code`.

An area with a refusal that needs more than a sentence (INSUFFICIENT_STOCK at the bench names the lots) explains
it itself and falls back on this table for the rest. A code not listed here shows the API's own detail. The fields a
VALIDATION_FAILED names are said by their labels (gateway/screens/fields.py).
"""

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from gateway.screens import fields

MESSAGES = {
    "NO_SUBMISSION_ID": _l("This form has no submission number; reload the page."),  # a page's own refusal
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
    "LOT_NOT_FOUND": _l("There is no lot with this number."),
    "LOT_EXISTS": _l("A lot with this number was already received for this reagent."),
    "LOT_ALREADY_QUARANTINED": _l("This lot is already quarantined."),
    "LOT_NOT_QUARANTINED": _l("This lot is not in quarantine; there is nothing to release."),
    "LOT_ALREADY_OPENED": _l("This lot was already opened."),
    "LOT_COST_TOO_HIGH": _l("The cost of this lot is larger than the system accepts; check the amount."),
    "REAGENT_EXISTS": _l("A reagent with this code is already in the catalogue; choose another code."),
    "TEST_EXISTS": _l("A test with this code is already in the catalogue; choose another code."),
    "ANALYZER_EXISTS": _l("An analyzer with this code is already listed; choose another code."),
    "ALERT_NOT_FOUND": _l("There is no such alert."),
    "ALERT_NOT_OPEN": _l("This alert is no longer open (already acknowledged or closed)."),
    "BILLING_UNAVAILABLE": _l("Billing is not answering, so the margin cannot be computed now; try again shortly."),
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
    "NOT_FOUND": _l("What this page asked for does not exist (any more)."),
    "PAYLOAD_TOO_LARGE": _l("What was sent is larger than the system takes at once."),
    "DATABASE_BUSY": _l("The system is busy with other work; nothing was done. Try again in a moment."),
    "DATABASE_UNAVAILABLE": _l("The database is not answering; nothing was done. Try again shortly."),
    "QUEUE_UNAVAILABLE": _l("The system's job queue is not answering; try again shortly."),
    "STOCK_BUSY": _l("Many people are taking from the same stock right now; nothing was taken. Send it again."),
    "IDEMPOTENCY_KEY_REQUIRED": _l("This form has no submission number; reload the page."),
    "IDEMPOTENCY_KEY_INVALID": _l("This form's submission number is not valid; reload the page."),
    "PRACTITIONER_NOT_FOUND": _l("This doctor is not in the practitioners' list, or no longer active."),
    "TEST_RUN_NOT_FOUND": _l("There is no lab test run with this number."),
    "DISPENSE_LINE_NOT_FOUND": _l("There is no dispensed line with this number."),
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
    # the pharmacy counter
    "PRESCRIPTION_NOT_FOUND": _l("There is no prescription with this number."),
    "DISPENSE_NOT_FOUND": _l("There is no dispense with this number."),
    "DRUG_NOT_FOUND": _l("There is no drug with this code in the catalogue."),
    "EXCEEDS_PRESCRIPTION": _l("That is more than is left to dispense on the prescription."),
    "UNKNOWN_LINE": _l("This line is not on the prescription or dispense; open it again."),
    "DUPLICATE_LINE": _l("A line was given twice; open the prescription again."),
    "RETURN_EXCEEDS_DISPENSED": _l("That is more than was dispensed and not yet brought back."),
    "GS1_INVALID": _l("The scanned code is not a valid GS1 DataMatrix."),
    "GS1_INCOMPLETE": _l("The scanned code lacks the GTIN, the expiry or the lot."),
    "UNKNOWN_GTIN": _l("The scanned GTIN is not in the drug catalogue."),
    "GTIN_MISMATCH": _l("The scanned GTIN belongs to another drug."),
    "LOT_RECALLED": _l("This lot has been recalled; it cannot be received or dispensed."),
    "LOT_ALREADY_RECALLED": _l("This lot is already recalled."),
    "LOT_EXPIRY_MISMATCH": _l("This lot is on file with another expiry date; check the pack."),
    "LOT_TOO_LARGE": _l("That quantity would take the lot past what one lot may hold or be worth."),
    "DRUG_EXISTS": _l("A drug with this code or GTIN is already in the catalogue."),
    "UNIT_NAME_REQUIRED": _l("Write the unit as the national drug list does (Viên, Lọ, Ống...) for this base unit."),
    "STOCK_CHANGED": _l("The lot kept changing while the count was recorded (dispensing); nothing was recorded. Count "
                        "again when the counter is quiet."),
    # finance: claim batches, remittances, reconciliation (billing_service/claims)
    "PERIOD_INVALID": _l("Write the month as YYYY-MM, e.g. 2026-10."),
    "NO_CLAIMABLE_VISITS": _l("No closed, insured visit with charges was discharged in this month: nothing to claim."),
    "CLAIM_BATCH_EXISTS": _l("Every visit of this month is already in a batch; open the month's batches."),
    "CLAIM_BATCH_NOT_FOUND": _l("There is no claim batch with this number."),
    "CLAIM_BATCH_HAS_CRITICAL_FINDINGS": _l("This batch has critical findings: fix them, or record an override, "
                                            "before sending it."),
    "NOTHING_TO_OVERRIDE": _l("This batch has no critical finding: it can be sent without an override."),
    "FINDINGS_CANNOT_BE_OVERRIDDEN": _l("Some critical findings must be fixed; they cannot be overridden."),
    "UNSUPPORTED_MEDIA_TYPE": _l("This is not a remittance file: upload a .csv file (with a header row) or a .ndjson "
                                 "file (one JSON object per line)."),
    "REMITTANCE_NOT_UTF8": _l("The file is not UTF-8 text; save it again as CSV UTF-8 and upload it."),
    "REMITTANCE_COLUMNS_MISSING": _l("The file's header row lacks required columns (ma_lk, table, line_no, "
                                     "approved_amount)."),
    "REMITTANCE_EMPTY": _l("The file has no rows."),
    "REMITTANCE_REJECTED": _l("No row of the file could be used; see each line's reason below."),
    "REMITTANCE_IMPORT_CONFLICT": _l("Another import of the same rows finished first; upload the file again to see "
                                     "what is left."),
    "REMITTANCE_NOT_FOUND": _l("There is no remittance import with this number."),
    "RECONCILIATION_RUN_NOT_FOUND": _l("There is no reconciliation run with this number."),
}


def explain(refusal) -> str:
    """Return the user's-language message of an API refusal (its own detail when the code is not known)."""
    message = MESSAGES.get(refusal.code)
    if message is None:
        return gettext("The system refused: %(detail)s", detail=refusal.problem.get("detail", refusal.code))
    named = fields.labels(refusal.problem.get("errors")) if refusal.code == "VALIDATION_FAILED" else []
    if named:  # the fields as the form names them, in the user's language (not the API's field names)
        return gettext("%(message)s Check: %(fields)s.", message=message, fields=", ".join(named))
    return str(message)
