"""Charge intake: every charge stored once, keyed on its source key, attached to its visit and handed to billing.

A charge that cannot go on its visit's bill as it is (unknown visit, another patient's, closed before it happened)
is stored with a flag and held for finance. A reversal reduces its charge with a guarded update; one that arrives
before its charge is kept (flagged unknown_charge) and applied when the charge comes.
"""

import json
from collections import Counter

import peewee

from common.models import utcnow
from gateway import store as chain_store
from gateway.charges import handoff, store
from gateway.encounters.services import find_encounters
from gateway.models import CHARGE_CHAIN, Charge, ChargeReversal, Encounter, db


def charge_flag(patient_ref: str, occurred_at, encounter: Encounter | None) -> str | None:
    """Say why a charge cannot go on its visit's bill as it is, or None when it can."""
    if encounter is None:
        return "unknown_encounter"
    if str(encounter.patient_id) != patient_ref.strip():
        return "patient_mismatch"
    if encounter.status == "closed" and occurred_at > encounter.discharged_at:
        return "closed_encounter"
    return None


def _charge_row(event: dict, encounter: Encounter | None) -> dict:
    """The charge row of a charge.created event, flagged by its visit."""
    return dict(
        key=event["key"], source=event["source"], source_id=event["source_id"], encounter_ref=event["encounter_id"],
        patient_ref=event["patient_id"], item_kind=event["item_kind"], code=event["code"], name=event["name"],
        quantity=event["quantity"], amount=event["amount"], cost_amount=event["cost_amount"],
        occurred_at=event["occurred_at"], flag=charge_flag(event["patient_id"], event["occurred_at"], encounter),
        payload=json.dumps(event, default=str, sort_keys=True), received_at=utcnow())


def store_charges(events: list[dict]) -> list[tuple[Charge, bool]]:
    """Store charges once each: a new one goes on its visit's bill (through billing's outbox) unless it is flagged;
    a resend returns the stored charge unchanged. Returns (charge, created) per event, in order."""
    visits = find_encounters([event["encounter_id"] for event in events])
    rows: dict[str, dict] = {}
    for event in events:  # a key twice in one delivery is one charge
        rows.setdefault(event["key"], _charge_row(event, visits.get(event["encounter_id"])))
    with db.atomic():
        heads = chain_store.lock_heads(CHARGE_CHAIN, {row["source"] for row in rows.values()})
        stored = store.by_keys(rows)  # read under the sources' chain locks: no other delivery adds one now
        fresh = [row for key, row in sorted(rows.items()) if key not in stored]
        moved = CHARGE_CHAIN.link(fresh, {source: head for source, (head, _length) in heads.items()})
        inserted = store.insert_new(fresh)
        chain_store.move_heads(CHARGE_CHAIN, {source: moved[source] for source in {row["source"] for row in fresh}},
                               Counter(row["source"] for row in fresh))
        new = [_charge(rows[key], charge_id) for key, charge_id in inserted.items()]
        waiting = store.keys_with_waiting_reversals([charge.key for charge in new])
        billable = []
        for charge in new:
            applied = apply_waiting_reversals(charge) if charge.key in waiting else []
            if charge.flag is None:
                billable.append((charge, visits[charge.encounter_ref], applied))
        handoff.forward_charges(billable)
    charges = {**stored, **{charge.key: charge for charge in new}}
    results, answered = [], set()
    for event in events:
        results.append((charges[event["key"]], event["key"] in inserted and event["key"] not in answered))
        answered.add(event["key"])
    return results


def _charge(row: dict, charge_id: int) -> Charge:
    charge = Charge(**row)
    charge.id = charge_id
    return charge


def store_charge(event: dict) -> tuple[Charge, bool]:
    """Store one charge once (see store_charges)."""
    return store_charges([event])[0]


def store_charge_reversal(event: dict) -> tuple[ChargeReversal, bool]:
    """Store a reversal once and reduce its charge; one of an unknown charge, or beyond it, is kept and flagged."""
    existing = ChargeReversal.get_or_none(ChargeReversal.key == event["key"])
    if existing is not None:
        return existing, False
    try:
        with db.atomic():
            reversal = ChargeReversal.create(
                key=event["key"], charge_key=event["charge_key"], quantity=event["quantity"], amount=event["amount"],
                reason=event["reason"], payload=json.dumps(event, default=str, sort_keys=True),
                flag=reduce_charge(event["charge_key"], event["quantity"], event["amount"]))
            if reversal.flag is None:  # else its charge has not arrived: store_charges applies and forwards it
                handoff.pass_on_reversal(reversal)
    except peewee.IntegrityError:  # the same reversal, delivered twice at once: the other one stored it
        return ChargeReversal.get(ChargeReversal.key == event["key"]), False
    return reversal, True


def reduce_charge(charge_key: str, quantity: int, amount: int) -> str | None:
    """Take a reversal off its charge with a guarded update; return None, or why it cannot be applied."""
    updated = (Charge.update(reversed_quantity=Charge.reversed_quantity + quantity,
                             reversed_amount=Charge.reversed_amount + amount)
               .where((Charge.key == charge_key) & (Charge.reversed_quantity + quantity <= Charge.quantity)
                      & (Charge.reversed_amount + amount <= Charge.amount))
               .execute())
    if updated:
        return None
    return "exceeds_charge" if Charge.select().where(Charge.key == charge_key).exists() else "unknown_charge"


def apply_waiting_reversals(charge: Charge) -> list[ChargeReversal]:
    """Apply the reversals that arrived before their charge (flagged unknown_charge); return those applied."""
    waiting = list(ChargeReversal.select().where((ChargeReversal.charge_key == charge.key)
                                                 & (ChargeReversal.flag == "unknown_charge"))
                   .order_by(ChargeReversal.id))
    applied = []
    for reversal in waiting:
        reversal.flag = reduce_charge(charge.key, reversal.quantity, reversal.amount)
        ChargeReversal.update(flag=reversal.flag).where(ChargeReversal.id == reversal.id).execute()
        if reversal.flag is None:
            applied.append(reversal)
    fresh = Charge.get_by_id(charge.id)
    charge.reversed_quantity, charge.reversed_amount = fresh.reversed_quantity, fresh.reversed_amount
    return applied
