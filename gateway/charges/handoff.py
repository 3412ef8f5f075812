"""The billing hand-off: a charge on its visit, and its reversals, queued for billing through the outbox.

Called inside the transaction that stores the charge (charges/services.py), so the charge, its flag and the outbox
row for billing commit together or not at all.
"""

import json

from common import clock, outbox
from common.contracts import BILLING_CHARGES_PATH, BILLING_REVERSALS_PATH, ChargeReversedSchema
from common.errors import Conflict, NotFound
from gateway.encounters.services import encounter_snapshot, get_encounter
from gateway.models import Charge, ChargeReversal, Encounter, db
from gateway.patients.services import cards_of_patients
from gateway.practitioners.services import practitioner_snapshots

BILLABLE_CHARGE = "billing.charge"
BILLABLE_REVERSAL = "billing.charge_reversed"
_reversal = ChargeReversedSchema()


def forward_charge(charge: Charge, encounter: Encounter, reversals: list[ChargeReversal] | None = None) -> None:
    """Queue one charge for billing (see forward_charges); without `reversals`, those applied to it are read."""
    if reversals is None:
        reversals = list(ChargeReversal.select().where((ChargeReversal.charge_key == charge.key)
                                                       & ChargeReversal.flag.is_null()).order_by(ChargeReversal.id))
    forward_charges([(charge, encounter, reversals)])


def forward_charges(charges: list[tuple[Charge, Encounter, list[ChargeReversal]]]) -> None:
    """Queue charges for billing, each with its visit and the card valid on its day, in one outbox statement; then
    the reversals already applied to them. A visit's snapshot is built once per day and set of practitioners."""
    if not charges:
        return
    cards = cards_of_patients(encounter.patient_id for _charge, encounter, _reversals in charges)
    snapshots: dict = {}
    messages = [("billing:" + charge.key, _billable_payload(charge, encounter, cards, snapshots))
                for charge, encounter, _reversals in charges]
    outbox.publish_many(BILLABLE_CHARGE, messages, destination="billing_service", path=BILLING_CHARGES_PATH)
    for _charge, encounter, reversals in charges:
        for reversal in reversals:
            forward_reversal_to_billing(reversal, encounter.id)


def _billable_payload(charge: Charge, encounter: Encounter, cards: dict, snapshots: dict) -> dict:
    """The billing hand-off of a charge: the charge with who ordered and ran it, and the visit's snapshot."""
    event = json.loads(charge.payload)
    event.update(encounter_id=str(encounter.id), patient_id=str(encounter.patient_id))
    named = (encounter.practitioner_id, event.get("ordered_by_id"), event.get("performed_by_id"))
    day = clock.local_day(charge.occurred_at)
    if (encounter.id, day, named) not in snapshots:
        people = practitioner_snapshots(named)  # one query, none when nobody is named
        snapshots[encounter.id, day, named] = (people, encounter_snapshot(encounter, day, people,
                                                                          cards.get(encounter.patient_id, [])))
    people, snapshot = snapshots[encounter.id, day, named]
    event.update(ordered_by=people.get(event.get("ordered_by_id") or ""),
                 performed_by=people.get(event.get("performed_by_id") or ""))
    # Not loaded again against the contract here: the charge was loaded by the gateway's inbox when it arrived and
    # the snapshot is the contract's dump; billing loads the whole hand-off when it receives it (a refusal there
    # is a rejected outbox row, listed for finance).
    return {"charge": event, "encounter": snapshot}


def forward_reversal_to_billing(reversal: ChargeReversal, encounter_id: int) -> None:
    """Queue one reversal for billing, on the visit its charge was billed to."""
    event = json.loads(reversal.payload)
    event["encounter_id"] = str(encounter_id)
    payload = _reversal.dump(_reversal.load(event))
    outbox.publish(BILLABLE_REVERSAL, "billing:" + reversal.key, payload, destination="billing_service",
                   path=BILLING_REVERSALS_PATH)


def pass_on_reversal(reversal: ChargeReversal) -> None:
    """Send billing the reversal of a charge it has; a charge held for finance keeps its reversals too."""
    charge = Charge.get(Charge.key == reversal.charge_key)
    if charge.flag is None:
        forward_reversal_to_billing(reversal, int(charge.encounter_ref))


def attach_flagged_charge(charge_id: int, encounter_id: int) -> Charge:
    """Put a flagged charge on the visit finance chose and bill it there."""
    with db.atomic():
        charge = Charge.get_or_none(Charge.id == charge_id)
        if charge is None:
            raise NotFound(f"No charge with id {charge_id}", code="CHARGE_NOT_FOUND")
        encounter = get_encounter(encounter_id)
        claimed = (Charge.update(flag=None, encounter_ref=str(encounter.id), patient_ref=str(encounter.patient_id))
                   .where((Charge.id == charge.id) & Charge.flag.is_null(False)).execute())
        if not claimed:
            raise Conflict("This charge is already on a visit's bill", code="CHARGE_NOT_FLAGGED")
        charge = Charge.get_by_id(charge.id)
        forward_charge(charge, encounter)
    return charge
