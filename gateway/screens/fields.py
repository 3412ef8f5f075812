"""The name of every field a screen sends to the API, in the user's language: what a refusal says when it names the
fields that are wrong (a problem's `errors`, keyed by the API's field names), instead of "cccd" or "expires_on".

One table for every screen. A field the API names that is not listed is shown as its name with spaces for the
underscores (tests/screens/test_field_labels.py fails when a field of a form the screens send has no label).
"""

import re

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

LABELS = {
    # the cashier desk: patients, their cards and visits, discharge, payments; the patient search
    "full_name": _l("Full name"),
    "cccd": _l("CCCD number"),
    "birth_date": _l("Date of birth"),
    "sex": _l("Sex"),
    "phone": _l("Phone"),
    "address": _l("Address"),
    "name": _l("Name"),
    "card": _l("BHYT card or social-insurance number"),
    "card_number": _l("BHYT card number"),
    "registered_facility": _l("Registered facility (MA_DKBD)"),
    "valid_from": _l("Valid from"),
    "valid_to": _l("Valid to"),
    "benefit_level": _l("Benefit level"),
    "patient_id": _l("Patient number"),
    "encounter_id": _l("Visit number"),
    "kind": _l("Kind"),
    "department": _l("Department"),
    "practitioner_id": _l("Doctor"),
    "in_network": _l("In network"),
    "network_rate": _l("Out-of-network rate"),
    "diagnosis_main": _l("Main diagnosis (ICD-10)"),
    "diagnosis_other": _l("Other diagnoses (ICD-10)"),
    "discharged_at": _l("Discharge time"),
    "method": _l("Payment method"),
    "amount": _l("Amount (đồng)"),
    "reason": _l("Reason"),
    "reference": _l("Transaction reference"),
    "invoice_id": _l("Bill number"),
    # the lab bench and the lab head's office
    "test_code": _l("Test"),
    "analyzer_code": _l("Analyzer"),
    "is_rerun": _l("Rerun"),
    "ordered_by_id": _l("Ordered by"),
    "performed_by_id": _l("Performed by"),
    "results": _l("Results"),
    "loinc": _l("LOINC code"),
    "value": _l("Value"),
    "unit": _l("Unit"),
    "reference_range": _l("Reference range"),
    "flag": _l("Result flag"),
    "reorder_level": _l("Reorder level"),
    "unit_cost_amount": _l("Unit cost (đồng)"),
    "stability_days_after_opening": _l("Stable days once opened"),
    "requires_qc_release": _l("QC release before use"),
    "lot_number": _l("Lot number"),
    "supplier": _l("Supplier"),
    "expires_on": _l("Expiry date"),
    "quantity": _l("Quantity"),
    "cost_amount": _l("Cost (đồng)"),
    "counted_quantity": _l("Counted quantity"),
    "lot": _l("Lot"),
    "lot_id": _l("Lot"),
    "recipe": _l("Recipe"),
    "reagent_code": _l("Reagent"),
    "basis": _l("Basis"),
    "levels": _l("Levels (control levels or calibrator points)"),
    "from": _l("From"),
    "to": _l("To"),
    "group": _l("Periods"),
    # the pharmacy counter
    "lines": _l("Drug lines"),
    "line_id": _l("Line"),
    "line": _l("Line"),
    "gs1": _l("Scanned DataMatrix (GS1)"),
    "drug_code": _l("Drug"),
    "manufacturer": _l("Manufacturer"),
    # the pharmacy's catalogue, a lot's count and adjustment
    "code": _l("Code"),
    "price_amount": _l("Price per unit (đồng)"),
    "active_ingredient": _l("Active ingredient"),
    "atc_code": _l("ATC code"),
    "base_unit": _l("Base unit"),
    "unit_name": _l("Unit as the national drug list writes it (DON_VI_TINH)"),
    "dosage_form": _l("Dosage form"),
    "strength": _l("Strength"),
    "route": _l("Route"),
    "registration_number": _l("Registration number"),
    "gtin": _l("GTIN (scan the box's barcode or DataMatrix)"),
    "insurance_scope": _l("BHYT list"),
    "insurance_rate": _l("BHYT payment rate"),
    "quantity_change": _l("Units added or taken off"),
    "note": _l("Note"),
    "money": _l("Money taken back"),
    "state": _l("State"),
    "order": _l("Order"),
    # the finance office
    "period": _l("Month"),
    "columns": _l("Columns of the file"),
    "batch_id": _l("Claim batch"),
    "format": _l("File format"),
    "part": _l("Part of the report"),
    "severity": _l("Severity"),
    # administration and one's own account
    "username": _l("Username"),
    "password": _l("Password"),
    "role": _l("Role"),
    "active": _l("Status"),
    "temporary_password": _l("Temporary password"),
    "current_password": _l("Current password"),
    "new_password": _l("New password"),
    "q": _l("Name or username contains"),
    "actor": _l("User (username)"),
    "action": _l("Action or path contains"),
    "status": _l("Status"),
    "since": _l("From"),
    "until": _l("To"),
    "service": _l("Service"),
    # paging, on every list
    "cursor": _l("Page (the link to the next page)"),
    "limit": _l("Rows per page"),
    "_schema": _l("The form as a whole"),  # a rule over several fields (marshmallow's name for it)
}
INDEX = re.compile(r"\d{1,6}")


def label(name: str) -> str:
    """One field's name in the user's language (a name not listed: its words, e.g. "unit name")."""
    found = LABELS.get(name)
    return str(found) if found is not None else name.replace("_", " ").strip() or name


def paths(errors: dict, prefix: tuple = ()) -> list[tuple[str, ...]]:
    """The fields a problem's `errors` names, each as its path: nested errors ({"recipe": {"0": {"quantity":
    [...]}}}) and dotted names ("recipe.0.quantity") alike, in the order of their names."""
    found = []
    for key in sorted(errors, key=str):
        path = prefix + tuple(str(key).split("."))
        value = errors[key]
        if isinstance(value, dict) and value:
            found += paths(value, path)
        else:
            found.append(path)
    return found


def path_label(path: tuple[str, ...]) -> str:
    """A field's path in words: "Recipe › line 1 › Reagent" (an index counts from 1, as people count lines)."""
    return " › ".join(gettext("line %(n)s", n=int(part) + 1) if INDEX.fullmatch(part) else label(part)
                      for part in path)


def labels(errors) -> list[str]:
    """The user's-language names of the fields a problem's `errors` names, each once, in order."""
    if not isinstance(errors, dict):
        return []
    return list(dict.fromkeys(path_label(path) for path in paths(errors)))
