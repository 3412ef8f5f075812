"""Visit verbs: open a visit for a registered patient, close it with its diagnoses, tell billing either way."""

from datetime import timedelta

from common import clock, outbox
from common.contracts import BILLING_ENCOUNTERS_PATH, EncounterSnapshotSchema
from common.errors import ApiError, Conflict, get_or_404
from common.models import utcnow
from common.paging import page
from gateway.check_ins.services import check_in_after_card, check_in_of, record_check_in
from gateway.models import Encounter, Patient, db
from gateway.patients.services import add_coverage, card_on, coverage_on, get_patient
from gateway.practitioners.services import active_practitioner, practitioner_snapshots

ENCOUNTER_SNAPSHOT = "billing.encounter"
CLOCK_SKEW = timedelta(minutes=5)
_snapshot_schema = EncounterSnapshotSchema()


def get_encounter(encounter_id: int) -> Encounter:
    """Return a visit or raise 404."""
    return get_or_404(Encounter, Encounter.id == encounter_id,
                      detail=f"No visit with id {encounter_id}", code="ENCOUNTER_NOT_FOUND")


def find_encounter(reference: str) -> Encounter | None:
    """Return the visit a service refers to by its string id, or None when there is no such visit."""
    return find_encounters([reference]).get(reference)


def find_encounters(references: list[str]) -> dict[str, Encounter]:
    """find_encounter for many references in one query: {reference: visit} for those that name a visit."""
    ids = {reference: int(reference.strip()) for reference in references
           if reference and reference.strip().isdigit() and len(reference.strip()) <= 18}
    if not ids:
        return {}
    by_id = {encounter.id: encounter for encounter in Encounter.select(Encounter, Patient).join(Patient)
             .where(Encounter.id.in_(sorted(set(ids.values()))))}
    return {reference: by_id[number] for reference, number in ids.items() if number in by_id}


def open_encounter(fields: dict) -> Encounter:
    """Open a visit; a patient has at most one open visit, claimed by a guarded update on the patient."""
    network_rate = 100 if fields.get("network_rate") is None else fields["network_rate"]
    in_network = fields["in_network"] if fields.get("in_network") is not None else network_rate == 100
    with db.atomic():
        patient = get_patient(fields["patient_id"])
        practitioner = active_practitioner(fields.get("practitioner_id"))
        encounter = Encounter.create(patient=patient, kind=fields["kind"], department=fields["department"],
                                     in_network=in_network, network_rate=network_rate, opened_at=utcnow(),
                                     practitioner=practitioner)
        claimed = (Patient.update(open_encounter_id=encounter.id)
                   .where((Patient.id == patient.id) & Patient.open_encounter_id.is_null()).execute())
        if not claimed:
            current = Patient.get_by_id(patient.id).open_encounter_id
            raise Conflict(f"The patient already has an open visit ({current}); close it first",
                           code="ENCOUNTER_ALREADY_OPEN", encounter_id=str(current))
        publish_snapshot(encounter)
        record_check_in(encounter)
    return encounter


def close_encounter(encounter_id: int, fields: dict) -> Encounter:
    """Close an open visit with its ICD-10 diagnoses and discharge time, and send billing the closed visit."""
    now = utcnow()
    discharged_at = fields.get("discharged_at") or now
    with db.atomic():
        encounter = get_encounter(encounter_id)
        if encounter.status == "closed":
            raise _already_closed(encounter)
        if not encounter.opened_at - CLOCK_SKEW <= discharged_at <= now + CLOCK_SKEW:
            raise ApiError("The discharge time must lie between the visit's opening and now",
                           code="DISCHARGE_TIME_INVALID", status=422)
        closed = (Encounter.update(status="closed", diagnosis_main=fields["diagnosis_main"],
                                   diagnosis_other=fields.get("diagnosis_other"), discharged_at=discharged_at,
                                   closed_at=now, version=Encounter.version + 1)
                  .where((Encounter.id == encounter.id) & (Encounter.status == "open")).execute())
        if not closed:
            raise _already_closed(encounter)
        (Patient.update(open_encounter_id=None)
         .where((Patient.id == encounter.patient_id) & (Patient.open_encounter_id == encounter.id)).execute())
        encounter = Encounter.get_by_id(encounter.id)
        publish_snapshot(encounter)
    return encounter


def _already_closed(encounter: Encounter) -> Conflict:
    return Conflict(f"Visit {encounter.id} is already closed", code="ENCOUNTER_CLOSED",
                    encounter_id=str(encounter.id))


def encounter_view(encounter: Encounter) -> dict:
    """Return a visit with the card valid on the day it opened."""
    view = {name: getattr(encounter, name) for name in encounter._meta.fields
            if name not in ("patient", "practitioner")}
    view["patient_id"] = encounter.patient_id
    view["practitioner"] = encounter.practitioner if encounter.practitioner_id else None
    view["check_in"] = check_in_of(encounter.id)
    view["coverage"] = coverage_on(encounter.patient_id, clock.local_day(encounter.opened_at))
    return view


def encounter_snapshot(encounter: Encounter, coverage_day=None, practitioners: dict | None = None,
                       cards: list | None = None) -> dict:
    """Return the visit as billing needs it, with the card valid on `coverage_day` (the opening day by default) and
    its doctor; `practitioners` ({id: snapshot}) and the patient's `cards` when the caller read them already."""
    patient = encounter.patient
    doctor = None
    if encounter.practitioner_id is not None:
        found = practitioners if practitioners is not None else practitioner_snapshots([encounter.practitioner_id])
        doctor = found.get(str(encounter.practitioner_id))
    day = coverage_day or clock.local_day(encounter.opened_at)
    coverage = coverage_on(patient.id, day) if cards is None else card_on(cards, day)
    snapshot = {
        "id": str(encounter.id), "kind": encounter.kind, "department": encounter.department,
        "in_network": encounter.in_network, "network_rate": encounter.network_rate,
        "opened_at": encounter.opened_at, "status": encounter.status,
        "diagnosis_main": encounter.diagnosis_main, "diagnosis_other": encounter.diagnosis_other,
        "discharged_at": encounter.discharged_at,
        "patient": {"id": str(patient.id), "full_name": patient.full_name, "birth_date": patient.birth_date,
                    "sex": patient.sex, "cccd": patient.cccd, "address": patient.address},
        "coverage": None if coverage is None else {
            "card_number": coverage.card_number, "registered_facility": coverage.registered_facility,
            "valid_from": coverage.valid_from, "valid_to": coverage.valid_to,
            "benefit_level": coverage.benefit_level},
        "practitioner": doctor,
    }
    return _snapshot_schema.dump(snapshot)


def publish_snapshot(encounter: Encounter) -> None:
    """Queue this version of the visit for billing in the current transaction, checked against the contract."""
    payload = _snapshot_schema.dump(_snapshot_schema.load(encounter_snapshot(encounter)))
    outbox.publish(ENCOUNTER_SNAPSHOT, f"encounter:{encounter.id}:v{encounter.version}", payload,
                   destination="billing_service", path=BILLING_ENCOUNTERS_PATH)


def record_coverage(patient_id: int, fields: dict):
    """Record a BHYT card of a patient; a visit open now goes to billing again, as a new version with the card."""
    with db.atomic():
        coverage = add_coverage(patient_id, fields)
        patient = Patient.get_by_id(patient_id)
        resend_open_visit(patient, coverage)
        check_in_after_card(patient, coverage)
    return coverage


def resend_open_visit(patient: Patient, coverage) -> None:
    """Send billing a new version of the patient's open visit when a card brought later covers its day."""
    if patient.open_encounter_id is None:
        return
    encounter = Encounter.get_by_id(patient.open_encounter_id)
    if not coverage.valid_from <= clock.local_day(encounter.opened_at) <= coverage.valid_to:
        return
    Encounter.update(version=Encounter.version + 1).where(Encounter.id == encounter.id).execute()
    publish_snapshot(Encounter.get_by_id(encounter.id))


def list_encounters(query: dict) -> list[dict]:
    """List visits, newest first, optionally of one patient or in one state."""
    selection = Encounter.select()
    if query.get("patient_id") is not None:
        selection = selection.where(Encounter.patient == query["patient_id"])
    if query.get("status"):
        selection = selection.where(Encounter.status == query["status"])
    return [encounter_view(encounter) for encounter in page(selection, Encounter.id, query)]
