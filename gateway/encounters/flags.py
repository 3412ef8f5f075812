"""Warnings on visits raised by other services (a recalled drug lot the patient received), kept exactly once."""

import json

import peewee

from common.paging import page
from gateway.encounters.services import find_encounter
from gateway.models import EncounterFlag, db


def store_encounter_flag(event: dict) -> tuple[EncounterFlag, bool]:
    """Store a warning once, keyed on its source key; one for an unknown visit is kept and marked unmatched."""
    existing = EncounterFlag.get_or_none(EncounterFlag.key == event["key"])
    if existing is not None:
        return existing, False
    encounter = find_encounter(event["encounter_id"])
    matched = encounter is not None and str(encounter.patient_id) == event["patient_id"].strip()
    try:
        with db.atomic():
            flag = EncounterFlag.create(
                key=event["key"], encounter_ref=event["encounter_id"], patient_ref=event["patient_id"],
                kind=event["kind"], source=event["source"], message=event["message"],
                details=json.dumps(event["details"], default=str, sort_keys=True, ensure_ascii=False),
                matched=matched, raised_at=event["raised_at"])
    except peewee.IntegrityError:
        return EncounterFlag.get(EncounterFlag.key == event["key"]), False
    return flag, True


def flags_of_patient(patient_id: int) -> list[EncounterFlag]:
    """Return every warning on a patient's visits, newest first."""
    return list(EncounterFlag.select().where(EncounterFlag.patient_ref == str(patient_id))
                .order_by(EncounterFlag.raised_at.desc(), EncounterFlag.id.desc()))


def list_unmatched_flags(query: dict) -> list[EncounterFlag]:
    """Return one page of warnings that name a visit or patient the gateway does not know, newest first."""
    return page(EncounterFlag.select().where(EncounterFlag.matched == False), EncounterFlag.id, query)  # noqa: E712
