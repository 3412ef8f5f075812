"""Patient verbs: register a patient by CCCD, add BHYT cards, find the card valid on a day."""

from datetime import date

import peewee

from common import clock
from common.errors import Conflict, NotFound, get_or_404
from common.paging import page
from gateway.models import Coverage, Patient, db
from gateway.patients.search import fold


def register_patient(fields: dict) -> Patient:
    """Register a patient; the CCCD number identifies them, so a second registration is a conflict."""
    existing = Patient.get_or_none(Patient.cccd == fields["cccd"])
    if existing is not None:
        raise _already_registered(existing)
    try:
        with db.atomic():
            return Patient.create(**fields, search_name=fold(fields["full_name"]))
    except peewee.IntegrityError:
        raise _already_registered(Patient.get(Patient.cccd == fields["cccd"])) from None


def _already_registered(patient: Patient) -> Conflict:
    return Conflict(f"CCCD {patient.cccd} is already registered", code="PATIENT_ALREADY_REGISTERED",
                    patient_id=str(patient.id))


def get_patient(patient_id: int) -> Patient:
    """Return a patient or raise 404."""
    return get_or_404(Patient, Patient.id == patient_id,
                      detail=f"No patient with id {patient_id}", code="PATIENT_NOT_FOUND")


def find_by_cccd(cccd: str) -> Patient | None:
    """Return the patient holding a CCCD number, if registered."""
    return Patient.get_or_none(Patient.cccd == cccd)


def add_coverage(patient_id: int, fields: dict) -> Coverage:
    """Record a BHYT card of a patient; a card number belongs to one person only."""
    with db.atomic():
        patient = get_patient(patient_id)
        insurance_number = fields["card_number"][5:]
        holder = (Coverage.select(Coverage.patient).where(
            (Coverage.insurance_number == insurance_number) & (Coverage.patient != patient.id)).first())
        if holder is not None:
            raise Conflict("This social-insurance number is on another patient's card",
                           code="CARD_BELONGS_TO_ANOTHER_PATIENT", patient_id=str(holder.patient_id))
        try:
            with db.atomic():
                coverage = Coverage.create(patient=patient, insurance_number=insurance_number, **fields)
        except peewee.IntegrityError:
            raise Conflict("This card with the same start date is already recorded",
                           code="COVERAGE_ALREADY_RECORDED") from None
    return coverage


def coverage_on(patient_id: int, day: date) -> Coverage | None:
    """Return the card that applies on `day` (see card_on)."""
    return card_on(cards_of_patients([patient_id]).get(patient_id, []), day)


def cards_of_patients(patient_ids) -> dict[int, list[Coverage]]:
    """Read every card of these patients (one query), by patient id."""
    cards: dict[int, list[Coverage]] = {}
    for card in Coverage.select().where(Coverage.patient.in_(sorted(set(patient_ids)))):
        cards.setdefault(card.patient_id, []).append(card)
    return cards


def card_on(cards: list[Coverage], day: date) -> Coverage | None:
    """Return the card that applies on `day`: among valid cards, the one starting last (a re-issued card wins)."""
    valid = [card for card in cards if card.valid_from <= day <= card.valid_to]
    return max(valid, key=lambda card: (card.valid_from, card.id), default=None)


def patient_view(patient: Patient) -> dict:
    """Return a patient with the card valid today, as reception sees them."""
    return patient_views([patient])[0]


def patient_views(patients: list[Patient]) -> list[dict]:
    """Return patients with the card valid today, as reception sees them (their cards read in one query)."""
    cards, today = cards_of_patients(patient.id for patient in patients), clock.local_day()
    return [{**{name: getattr(patient, name) for name in patient._meta.fields},
             "current_coverage": card_on(cards.get(patient.id, []), today)} for patient in patients]


def coverages_of(patient_id: int) -> list[Coverage]:
    """Return every card of a patient, latest first."""
    get_patient(patient_id)
    return list(Coverage.select().where(Coverage.patient == patient_id)
                .order_by(Coverage.valid_from.desc(), Coverage.id.desc()))


def list_coverages(patient_id: int, query: dict) -> list[Coverage]:
    """Return one page of a patient's cards, latest first (the order of coverages_of)."""
    get_patient(patient_id)
    return page(Coverage.select().where(Coverage.patient == patient_id), Coverage.valid_from, query,
                then=Coverage.id)


def coverage_for_cccd(cccd: str, day: date | None) -> tuple[Patient, Coverage]:
    """Return the patient holding a CCCD and their card valid on `day` (today by default), or raise 404."""
    patient = find_by_cccd(cccd)
    if patient is None:
        raise NotFound("No patient is registered with this CCCD", code="PATIENT_NOT_FOUND")
    coverage = coverage_on(patient.id, day or clock.local_day())
    if coverage is None:
        raise NotFound("The patient has no BHYT card valid on that day", code="NO_VALID_COVERAGE",
                       patient_id=str(patient.id))
    return patient, coverage
