"""Texts the services write, said in the user's language: a service keeps its English sentence for API clients and
sends beside it a stable code and the values in it (`<field>_code`, `<field>_params`); the screens say the code's
sentence here, with the values formatted as everywhere else. A code this table does not know (a service newer than
the screens, a result stored before codes existed) shows the service's own sentence.

Filters for the templates: `finding_text` (a claim batch's pre-submission finding), `discrepancy_text` (a
reconciliation's discrepancy), `row_reason` (a remittance row the import did not use), `ledger_reason` (a lab stock
card row), `run_step` (where a reconciliation run is).
"""

from flask import Flask
from flask_babel import lazy_gettext as _l

from gateway.screens.formatting import day, moment, money, number

FINDINGS = {  # billing_service/claims/precheck.py: the finding's message_code
    "no_card": _l("BHYT pays %(insurer_amount)s but the visit has no card."),
    "card_not_valid_on_day": _l("Card %(card_number)s is valid from %(starts_on)s to %(ends_on)s, not on the service "
                                "date %(service_on)s."),
    "no_practitioner": _l("Neither the line nor the visit names the doctor who ordered it (MA_BAC_SI)."),
    "no_performer": _l("The test run names no one who performed it (NGUOI_THUC_HIEN)."),
    "price_above_list": _l("DON_GIA_BH %(price_amount)s is above the BHYT price %(list_price_amount)s of %(code)s."),
    "outside_bhyt_list": _l("%(code)s is outside the BHYT list (PHAM_VI 2), yet BHYT pays %(insurer_amount)s."),
    "not_on_price_list": _l("%(code)s is not on the BHYT price list on %(service_on)s, yet BHYT pays for it."),
    "before_visit": _l("NGAY_YL %(service_at)s is before the visit opened (%(opened_at)s)."),
    "after_discharge": _l("NGAY_YL %(service_at)s is after discharge (%(discharged_at)s)."),
    "parts_not_total": _l("T_BHTT + T_BNCCT + T_BNTT + T_NGUONKHAC = %(parts_amount)s, but THANH_TIEN_BV = "
                          "%(hospital_amount)s."),
    "total_not_quantity_times_price": _l("THANH_TIEN_BV %(hospital_amount)s ≠ SO_LUONG %(quantity)s × DON_GIA "
                                         "%(unit_price_amount)s."),
    "insured_above_total": _l("THANH_TIEN_BH %(insured_amount)s is above THANH_TIEN_BV %(hospital_amount)s."),
    "funding_parts_not_total": _l("The parts of T_NGUONKHAC add up to %(parts_amount)s, not "
                                  "%(other_funding_amount)s."),
    "charge_reversed": _l("The charge was reversed after the batch was built: the line claims a service no longer "
                          "charged."),
    "charge_changed": _l("The charge is now %(now_amount)s (BHYT %(now_insurer_amount)s); the batch claims "
                         "%(claimed_amount)s (BHYT %(claimed_insurer_amount)s)."),
    "unit_not_national": _l("DON_VI_TINH “%(unit)s” is not written as the national list writes it (Viên, Lọ, Ống, "
                            "Lần...)."),
    "expired_lots": _l("Dispensed from expired lot(s) %(lots)s."),
    "no_department": _l("The visit's department has no MA_KHOA code (K01, K26...)."),
    "diagnosis_not_icd10": _l("MA_BENH_CHINH “%(diagnosis)s” is not an ICD-10 code."),
    "same_code_and_minute": _l("Same code and minute as %(table)s line %(line_no)s."),
    "no_price_list": _l("No BHYT price list is loaded: prices and scope were not checked."),
}
DISCREPANCIES = {  # billing_service/claims/services/reconciliation.py: the discrepancy's detail_code
    "charged_not_claimed": _l("Charged %(hospital_amount)s (BHYT share %(insurer_amount)s) on a closed insured visit, "
                              "in no claim."),
    "charge_reversed_after_claim": _l("Claimed %(claimed_amount)s, but the charge was reversed after the claim."),
    "charge_changed_after_claim": _l("Charged %(charged_amount)s now, claimed %(claimed_amount)s."),
    "insurer_share_changed": _l("The BHYT share is %(charged_insurer_amount)s now, claimed "
                                "%(claimed_insurer_amount)s."),
    "insurer_reason": _l("The insurer's reason: %(reason)s"),  # the insurer's own words, as they came
    "no_reason_given": _l("The insurer gave no reason."),
    "approved_above_claim": _l("The insurer approved %(approved_amount)s, more than the %(claimed_amount)s claimed."),
    "paid_less_than_approved": _l("Approved %(approved_amount)s, paid %(paid_amount)s."),
    "same_item_and_minute": _l("Same item and minute as charge %(first_charge)s."),
    "patient_share_and_paid": _l("Bill %(reference)s: the patient's share is %(share_amount)s, paid %(paid_amount)s."),
    "transfer_matches_no_bill": _l("Transfer %(transaction_id)s (“%(memo)s”) matches no bill."),
}
REMITTANCE_ROWS = {  # billing_service/claims/services/remittances.py: the rejected row's reason_code
    "not_json": _l("Not valid JSON."),
    "not_json_object": _l("Not a JSON object."),
    "invalid_columns": _l("These columns cannot be read: %(columns)s."),  # the file's own column names
    "no_claimed_line": _l("No claimed %(table)s line %(line_no)s for MA_LK %(ma_lk)s."),
    "payment_reference_conflict": _l("This line already has a row with payment reference “%(payment_reference)s” "
                                     "and other amounts; send a correction with its own payment reference."),
}
LEDGER_REASONS = {  # lab_service/services/stock.py and pharmacy_service/schemas.py: a stock card row's reason_code
    # (a person's reason has none)
    "received_from": _l("received from %(supplier)s"),
    "received": _l("received"),
}
CARD_DECLINES = {  # billing_service/services/webhooks.py: a failed card request's failure_code (the provider's)
    "card_declined": _l("the card's bank declined it"),
    "generic_decline": _l("the card's bank declined it"),
    "do_not_honor": _l("the card's bank declined it"),
    "insufficient_funds": _l("not enough money on the card"),
    "expired_card": _l("the card has expired"),
    "incorrect_cvc": _l("the security code (CVC) is wrong"),
    "incorrect_number": _l("the card number is wrong"),
    "lost_card": _l("the card was reported lost"),
    "stolen_card": _l("the card was reported stolen"),
    "card_velocity_exceeded": _l("the card's limit is reached"),
    "processing_error": _l("the card provider could not process it; try again"),
    "payment_intent_authentication_failure": _l("the patient did not confirm the payment (3-D Secure)"),
}
RUN_STEPS = {  # billing_service/claims/services/report.py and runs.py: a reconciliation run's step, as it is
    "starting": _l("starting"),
    "charges not claimed": _l("charges not claimed"),
    "claims against charges": _l("claims against the charges"),
    "insurer assessment": _l("the insurer's assessment"),
    "duplicate charges": _l("duplicate charges"),
    "patient balances": _l("patients' balances"),
    "payments without a bill": _l("payments without a bill"),
    "totals": _l("totals"),
    "done": _l("done"),
}


def shown(name: str, value) -> str:
    """A value of a service's text as the screens show it: amounts (`_amount`) in đồng, days (`_on`) and moments
    (`_at`) in the hospital's forms, lists of lots or columns joined."""
    if isinstance(value, list):
        return ", ".join(f"{item.get('lot_number', '')} ({day(item.get('expires_on'))})" if isinstance(item, dict)
                         else str(item) for item in value)
    if value is None:
        return ""
    if name.endswith("_amount"):
        return money(value)
    if name.endswith("_on"):
        return day(value)
    if name.endswith("_at"):
        return moment(value)
    if name == "quantity":
        return number(value)
    return str(value)


def say(table: dict, code, params, fallback) -> str:
    """The sentence of a code in the user's language with its values; the service's own sentence when the code is
    not known or its values do not fit."""
    sentence = table.get(code) if code else None
    if sentence is None:
        return fallback or ""
    try:
        return str(sentence) % {name: shown(name, value) for name, value in (params or {}).items()}
    except (KeyError, ValueError, TypeError, AttributeError):  # values of another shape than the sentence's
        return fallback or ""


def finding_text(finding: dict) -> str:
    return say(FINDINGS, finding.get("message_code"), finding.get("message_params"), finding.get("message"))


def discrepancy_text(row: dict) -> str:
    return say(DISCREPANCIES, row.get("detail_code"), row.get("detail_params"), row.get("detail"))


def row_reason(row: dict) -> str:
    return say(REMITTANCE_ROWS, row.get("reason_code"), row.get("reason_params"), row.get("reason"))


def ledger_reason(row: dict) -> str:
    return say(LEDGER_REASONS, row.get("reason_code"), row.get("reason_params"), row.get("reason"))


def card_decline(card: dict) -> str:
    return say(CARD_DECLINES, card.get("failure_code"), {}, card.get("failure_message"))


def run_step(step: str | None) -> str:
    return str(RUN_STEPS.get(step or "", step or ""))


FILTERS = {"finding_text": finding_text, "discrepancy_text": discrepancy_text, "row_reason": row_reason,
           "ledger_reason": ledger_reason, "card_decline": card_decline, "run_step": run_step}


def install(app: Flask) -> None:
    """Make the filters available to every template."""
    for name, function in FILTERS.items():
        app.add_template_filter(function, name)
