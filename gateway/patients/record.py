"""The patient record: identity, cards, visits with every charge, the bill and claim from billing, recall warnings.

Billing is asked with a short timeout, on behalf of the reader (their bearer token, so billing checks their role and
logs who read); when it does not answer the record is still given, marked `"billing": {"available": false}`.
"""

import logging

import requests
from flask import current_app, g, request

from common.clients import session
from common.logs import REQUEST_ID_HEADER
from gateway.encounters.flags import flags_of_patient
from gateway.encounters.services import encounter_view
from gateway.models import Charge, Encounter
from gateway.patients.services import coverages_of, get_patient, patient_view

log = logging.getLogger(__name__)
INVOICES_PATH = "/api/v1/billing/invoices"
CLAIMS_PATH = "/api/v1/billing/claims"


class BillingUnavailable(Exception):
    """Billing did not give a usable answer in time."""


def patient_record(patient_id: int, visit_limit: int) -> dict:
    """Assemble the record of a patient, latest visits first."""
    patient = get_patient(patient_id)
    encounters = list(Encounter.select().where(Encounter.patient == patient.id)
                      .order_by(Encounter.id.desc()).limit(visit_limit))
    charges = _charges_by_visit([str(e.id) for e in encounters])
    flags = flags_of_patient(patient.id)
    closed = [str(e.id) for e in encounters if e.status == "closed"]
    billing = _billing_by_visit(patient.id, closed) if encounters else {}
    visits = []
    for encounter in encounters:
        visit = encounter_view(encounter)
        visit["charges"] = charges.get(str(encounter.id), [])
        visit["charge_total_amount"] = sum(c.amount - c.reversed_amount for c in visit["charges"])
        visit["flags"] = [f for f in flags if f.encounter_ref.strip() == str(encounter.id)]
        visit.update({"invoices": None, "claim": None} if billing is None
                     else billing.get(str(encounter.id), {"invoices": [], "claim": None}))
        visits.append(visit)
    unattached = list(Charge.select().where((Charge.patient_ref == str(patient.id)) & Charge.flag.is_null(False))
                      .order_by(Charge.id.desc()))
    return {"patient": patient_view(patient), "coverages": coverages_of(patient.id), "encounters": visits,
            "unattached_charges": unattached, "recall_flags": flags,
            "billing": {"available": billing is not None}}


def _charges_by_visit(encounter_refs: list[str]) -> dict[str, list[Charge]]:
    grouped: dict[str, list[Charge]] = {}
    if not encounter_refs:
        return grouped
    selection = (Charge.select().where(Charge.encounter_ref.in_(encounter_refs) & Charge.flag.is_null())
                 .order_by(Charge.occurred_at, Charge.id))
    for charge in selection:
        grouped.setdefault(charge.encounter_ref, []).append(charge)
    return grouped


def _billing_by_visit(patient_id: int, closed_visits: list[str]) -> dict[str, dict] | None:
    """Ask billing for the patient's bills with payments, and the claim of each closed visit; None if it fails."""
    found: dict[str, dict] = {}
    try:
        for summary in _billing_get(INVOICES_PATH, {"patient_id": str(patient_id), "limit": "1000"}):
            invoice = _with_payments(summary)
            visit = found.setdefault(str(invoice.get("encounter_id")), {"invoices": [], "claim": None})
            visit["invoices"].append(invoice)
        for encounter_id in closed_visits:
            claims = _billing_get(CLAIMS_PATH, {"encounter_id": encounter_id}, missing_ok=True) or []
            if claims:
                claim = {key: value for key, value in claims[0].items() if key != "lines"}
                found.setdefault(encounter_id, {"invoices": [], "claim": None})["claim"] = claim
    except BillingUnavailable as exc:
        log.warning("patient record without billing: %s", exc)
        return None
    return found


def _with_payments(summary: dict) -> dict:
    """Return a bill with its payments; only a bill with money received is asked for again in full."""
    if not summary.get("paid_amount") and not summary.get("refunded_amount"):
        return {**summary, "payments": []}
    invoice = _billing_get(f"{INVOICES_PATH}/{int(summary['id'])}")
    invoice.pop("lines", None)  # the record lists the charges itself; the bill adds the split and payments
    return invoice


def _billing_get(path: str, params: dict | None = None, missing_ok: bool = False):
    """GET from billing's public API as the reader (billing checks the reader's role itself), briefly."""
    url = current_app.config["SERVICE_URLS"]["billing_service"] + path
    headers = {"Authorization": request.headers.get("Authorization", ""), REQUEST_ID_HEADER: g.get("request_id", "")}
    try:
        response = session().get(url, params=params, headers=headers,
                                 timeout=current_app.config["RECORD_BILLING_TIMEOUT_MS"] / 1000)
    except requests.RequestException as exc:
        raise BillingUnavailable(type(exc).__name__) from None
    if missing_ok and response.status_code in (403, 404):
        return None  # a billing without claims, or a reader who may not see them
    if response.status_code != 200:
        raise BillingUnavailable(f"HTTP {response.status_code} from {path}")
    try:
        return response.json()
    except ValueError:
        raise BillingUnavailable(f"not JSON from {path}") from None
