"""Pharmacy alerts: below reorder level, expiring within 90 / 30 days, expired stock on hand; one open per condition."""

import json
from collections import defaultdict

import peewee
from flask import current_app

from common import clock
from common.models import utcnow
from common.queue import after_commit
from pharmacy_service.models import Alert, Drug, DrugLot, db


def recheck_after_commit(drug_ids) -> None:
    """Re-evaluate these drugs' alerts once the current transaction has committed (at once outside one); a burst
    of commits on one drug shares one check."""
    for drug_id in sorted(set(drug_ids)):
        after_commit(db, "pharmacy_service.jobs.check_drug_alerts", [drug_id],
                     coalesce_ms=current_app.config["ALERT_CHECK_INTERVAL_MS"])


def _conditions(drug: Drug, lots: list[DrugLot], today) -> dict[str, dict]:
    """Return the alert conditions that hold now for `drug` with these stocked lots, by their open key."""
    config = current_app.config
    warning_days, urgent_days = config["PHARMACY_EXPIRY_WARNING_DAYS"], config["PHARMACY_EXPIRY_URGENT_DAYS"]
    found: dict[str, dict] = {}
    usable = sum(lot.quantity_on_hand for lot in lots if lot.status == "available" and lot.expires_on >= today)
    if drug.reorder_level and usable < drug.reorder_level:
        found[f"below_reorder:drug:{drug.id}"] = {
            "kind": "below_reorder", "lot": None,
            "message": f"{drug.name} {drug.strength}: {usable} {drug.base_unit} usable, reorder level "
                       f"{drug.reorder_level}",
            "details": {"usable": usable, "reorder_level": drug.reorder_level}}
    for lot in lots:
        days = (lot.expires_on - today).days
        on_hand = lot.quantity_on_hand + lot.quantity_quarantined
        if days < 0:
            kind, message = "expired", f"expired on {lot.expires_on}; {on_hand} {drug.base_unit} still on hand"
        elif lot.status == "recalled" or lot.quantity_on_hand == 0:
            continue
        elif days <= urgent_days:
            kind, message = f"expiring_{urgent_days}", f"expires on {lot.expires_on} (in {days} days)"
        elif days <= warning_days:
            kind, message = f"expiring_{warning_days}", f"expires on {lot.expires_on} (in {days} days)"
        else:
            continue
        found[f"{kind}:lot:{lot.id}"] = {
            "kind": kind, "lot": lot.id, "message": f"{drug.name} {drug.strength} lot {lot.lot_number} {message}",
            "details": {"lot_number": lot.lot_number, "expires_on": lot.expires_on.isoformat(),
                        "quantity_on_hand": on_hand, "days_left": days}}
    return found


def evaluate_drug_alerts(drug_ids: list[int]) -> dict[str, int]:
    """Open the alerts whose condition now holds for these drugs and resolve the ones that no longer hold."""
    today = clock.today()
    lots_by_drug = defaultdict(list)
    for lot in DrugLot.select().where(DrugLot.drug.in_(drug_ids) & (
            (DrugLot.quantity_on_hand > 0) | (DrugLot.quantity_quarantined > 0))):
        lots_by_drug[lot.drug_id].append(lot)
    conditions: dict[str, dict] = {}
    for drug in Drug.select().where(Drug.id.in_(drug_ids)):
        conditions.update({key: {**c, "drug": drug.id} for key, c in _conditions(drug, lots_by_drug[drug.id],
                                                                                  today).items()})
    open_keys = {a.open_key for a in Alert.select(Alert.open_key).where(
        Alert.drug.in_(drug_ids) & Alert.open_key.is_null(False))}
    opened = 0
    for key, condition in conditions.items():
        if key in open_keys:
            continue
        try:
            with db.atomic():
                Alert.create(kind=condition["kind"], drug=condition["drug"], lot=condition["lot"], open_key=key,
                             message=condition["message"], details=json.dumps(condition["details"]))
                opened += 1
        except peewee.IntegrityError:
            pass  # another check opened the same condition a moment ago: still one open alert
    stale = open_keys - set(conditions)
    resolved = 0
    if stale:
        resolved = (Alert.update(status="resolved", open_key=None, resolved_at=utcnow())
                    .where(Alert.open_key.in_(sorted(stale))).execute())
    return {"opened": opened, "resolved": resolved}


def evaluate_all_alerts() -> dict[str, int]:
    """Evaluate every drug (expiry moves with the calendar, not only with stock changes)."""
    drug_ids = [d.id for d in Drug.select(Drug.id).order_by(Drug.id)]
    totals = {"opened": 0, "resolved": 0}
    for start in range(0, len(drug_ids), 200):
        for name, count in evaluate_drug_alerts(drug_ids[start:start + 200]).items():
            totals[name] += count
    return totals
