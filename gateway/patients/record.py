"""The patient record: identity, cards, visits with every charge, the bill and claim from billing, recall warnings.

Billing is asked with a short timeout; when it does not answer the record is still given, marked
`"billing": {"available": false}`, because reception must never be blocked by a payment service.
"""

import logging

import requests
from flask import current_app

from common.clients import call_service
from gateway.encounters.flags import flags_of_patient
from gateway.encounters.services import encounter_view
from gateway.models import Charge, Encounter
from gateway.patients.services import coverages_of, get_patient, patient_view

log = logging.getLogger(__name__)
INVOICES_PATH = "/api/v1/billing/invoices"


class BillingUnavailable(Exception):
    """Billing did not give a usable answer in time."""


def patient_record(patient_id: int, visit_limit: int) -> dict:
    """Assemble the record of a patient, latest visits first."""
    patient = get_patient(patient_id)
    encounters = list(Encounter.select().where(Encounter.patient == patient.id)
                      .order_by(Encounter.id.desc()).limit(visit_limit))
    charges = _charges_by_visit([str(e.id) for e in encounters])
    flags = flags_of_patient(patient.id)
    billing = _billing_by_visit([e.id for e in encounters])
    visits = []
    for encounter in encounters:
        visit = encounter_view(encounter)
        visit["charges"] = charges.get(str(encounter.id), [])
        visit["charge_total_amount"] = sum(c.amount - c.reversed_amount for c in visit["charges"])
        visit["flags"] = [f for f in flags if f.encounter_ref.strip() == str(encounter.id)]
        visit.update((billing or {}).get(encounter.id, {"invoices": None, "claim": None}))
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


def _billing_by_visit(encounter_ids: list[int]) -> dict | None:
    """Ask billing for the invoices (with payments and claim state) of each visit; None when it cannot answer."""
    found = {}
    try:
        for encounter_id in encounter_ids:
            invoices = _invoices_of(encounter_id)
            claims = [i.get("claim") or i.get("claim_status") for i in invoices]
            found[encounter_id] = {"invoices": invoices, "claim": next((c for c in claims if c), None)}
    except BillingUnavailable as exc:
        log.warning("patient record without billing: %s", exc)
        return None
    return found


def _invoices_of(encounter_id: int) -> list[dict]:
    try:
        response = call_service("GET", "billing_service", INVOICES_PATH, params={"encounter_id": str(encounter_id)},
                                timeout_ms=current_app.config["RECORD_BILLING_TIMEOUT_MS"])
    except requests.RequestException as exc:
        raise BillingUnavailable(f"{type(exc).__name__}") from None
    if response.status_code != 200:
        raise BillingUnavailable(f"HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        raise BillingUnavailable("not JSON") from None
    invoices = body.get("items", body.get("invoices")) if isinstance(body, dict) else body
    if not isinstance(invoices, list):
        raise BillingUnavailable("unexpected invoice list")
    return invoices
