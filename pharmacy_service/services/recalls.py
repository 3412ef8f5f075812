"""Recalls that reach the patient: block the lot, find who received it, flag each affected visit at the gateway."""

from collections import defaultdict

from common import outbox
from common.auth import actor
from common.charges import publish_charge_reversed
from common.contracts import ENCOUNTER_FLAGGED, ENCOUNTER_FLAGS_PATH, EncounterFlagSchema
from common.errors import Conflict
from pharmacy_service.models import Dispense, DispenseLine, DispenseLotPick, DrugLot, Recall, db
from pharmacy_service.services import alerts
from pharmacy_service.services.moves import change_status, get_lot, note_on_card

_flag_schema = EncounterFlagSchema()


def lot_recipients(lot_id: int) -> list[dict]:
    """List every visit (patient and encounter) that received the lot, with quantities and dispenses."""
    get_lot(lot_id)
    picks = (DispenseLotPick.select(DispenseLotPick, DispenseLine, Dispense)
             .join(DispenseLine).join(Dispense)
             .where(DispenseLotPick.lot == lot_id).order_by(Dispense.id))
    by_visit: dict[tuple[str, str], dict] = defaultdict(
        lambda: {"quantity": 0, "quantity_returned": 0, "dispenses": []})
    for pick in picks:
        dispense = pick.dispense_line.dispense
        visit = by_visit[(dispense.patient_id, dispense.encounter_id)]
        visit.update(patient_id=dispense.patient_id, encounter_id=dispense.encounter_id)
        visit["quantity"] += pick.quantity
        visit["quantity_returned"] += pick.quantity_returned
        visit["dispenses"].append({"dispense_id": dispense.id, "prescription_id": dispense.prescription_id,
                                   "dispensed_at": dispense.created_at,
                                   "quantity": pick.quantity, "quantity_returned": pick.quantity_returned})
    return list(by_visit.values())


def recall_lot(lot_id: int, fields: dict) -> dict:
    """Block a lot at once, queue a flag for every visit that received it and kept some, and, when the recall's
    money rule says so, take back the charge of what each dispensed line kept of the lot."""
    reason = fields["reason"]
    with db.atomic():
        lot = get_lot(lot_id)
        blocked = change_status(lot_id, DrugLot.status != "recalled", "recalled", reason)
        if blocked is None:
            raise Conflict(f"Lot {lot.lot_number} is already recalled", code="LOT_ALREADY_RECALLED")
        fixes_money = takes_money_back(fields["kind"], fields["money"])
        recall = Recall.create(lot=lot_id, reason=reason, recalled_by=actor(), kind=fields["kind"],
                               money=fields["money"], money_fixed=fixes_money)
        note_on_card(lot, "recall", reason, blocked)
        # Read after the guarded update: any dispense of this lot that committed first is now visible.
        recipients = lot_recipients(lot_id)
        flagged = [visit for visit in recipients if visit["quantity"] > visit["quantity_returned"]]
        for visit in flagged:
            _publish_flag(recall, lot, visit)
        reversed_lines = _take_money_back(recall, lot) if fixes_money else 0
    alerts.recheck_after_commit([lot.drug_id])
    return {"id": recall.id, "lot_id": lot.id, "lot_number": lot.lot_number, "drug_code": lot.drug.code,
            "reason": reason, "kind": recall.kind, "money": recall.money, "money_fixed": fixes_money,
            "reversed_lines": reversed_lines, "recalled_at": recall.created_at, "recipients": recipients,
            "flagged_encounters": len(flagged)}


def takes_money_back(kind: str, money: str) -> bool:
    """Whether a recall takes the dispensed lines' money back: always, only for a defective product, or never."""
    return money == "all" or (money == "defective_only" and kind == "defective")


def _take_money_back(recall: Recall, lot: DrugLot) -> int:
    """Publish a charge.reversed (with the recall) for what each dispensed line kept of the lot; return how many."""
    picks = (DispenseLotPick.select(DispenseLotPick, DispenseLine, Dispense).join(DispenseLine).join(Dispense)
             .where((DispenseLotPick.lot == lot.id) & (DispenseLotPick.quantity > DispenseLotPick.quantity_returned))
             .order_by(DispenseLine.id))
    kept: dict[int, tuple[DispenseLine, int]] = {}
    for pick in picks:
        line = pick.dispense_line
        _, quantity = kept.get(line.id, (line, 0))
        kept[line.id] = (line, quantity + pick.quantity - pick.quantity_returned)
    for line_id, (line, quantity) in kept.items():
        publish_charge_reversed({
            "key": f"pharmacy:recall:{recall.id}:line:{line_id}", "charge_key": f"pharmacy:dispense-line:{line_id}",
            "source": "pharmacy", "encounter_id": line.dispense.encounter_id, "quantity": quantity,
            "amount": line.unit_price_amount * quantity, "occurred_at": recall.created_at,
            "reason": f"Recall of lot {lot.lot_number}: {recall.reason}"[:500],
            "recall_id": f"pharmacy:recall:{recall.id}"})
    return len(kept)


def _publish_flag(recall: Recall, lot: DrugLot, visit: dict) -> None:
    """Queue one encounter.flagged for the gateway, so the warning shows on the patient's record."""
    drug = lot.drug
    kept = visit["quantity"] - visit["quantity_returned"]
    flag = {
        "key": f"pharmacy:recall:{recall.id}:encounter:{visit['encounter_id']}",
        "encounter_id": visit["encounter_id"], "patient_id": visit["patient_id"], "kind": "drug_recall",
        "message": (f"Recalled: {drug.name} {drug.strength} lot {lot.lot_number} (exp. {lot.expires_on}). "
                    f"This patient received {kept} {drug.base_unit}. Reason: {recall.reason}")[:1000],
        "source": "pharmacy",
        "details": {"drug_code": drug.code, "drug_name": drug.name, "atc_code": drug.atc_code,
                    "lot_id": lot.id, "lot_number": lot.lot_number, "expires_on": lot.expires_on.isoformat(),
                    "quantity": kept, "recall_reason": recall.reason,
                    "dispense_ids": [d["dispense_id"] for d in visit["dispenses"]]},
        "raised_at": recall.created_at,
    }
    payload = _flag_schema.dump(_flag_schema.load(_flag_schema.dump(flag)))
    outbox.publish(ENCOUNTER_FLAGGED, payload["key"], payload, destination="gateway", path=ENCOUNTER_FLAGS_PATH)
