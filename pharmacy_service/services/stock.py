"""Counts, adjustments, quarantine and release of lots; the stock card and the stock valuation."""

from peewee import JOIN, Case, fn

from common import clock
from common.errors import Conflict, InsufficientStock
from common.paging import page
from pharmacy_service.models import Drug, DrugLot, StockEntry, db
from pharmacy_service.services import alerts
from pharmacy_service.services.moves import (
    change_status,
    ensure_room,
    get_drug,
    get_lot,
    move_stock,
    note_on_card,
    usable_condition,
)


def count_lot(lot_id: int, fields: dict) -> StockEntry:
    """Record a physical count of a lot's shelf stock: the difference becomes a 'count' entry."""
    lot = get_lot(lot_id)
    counted = fields["counted_quantity"]
    with db.atomic():
        # Guarded on the balance we compare with: a dispense in between makes the count retry, not drift.
        for _ in range(5):
            current = DrugLot.select(DrugLot.quantity_on_hand).where(DrugLot.id == lot_id).scalar()
            entry = move_stock(lot_id, lot.drug_id, counted - current, kind="count", reason=fields["reason"],
                               expect_balance=current)
            if entry is not None:
                break
        else:
            raise Conflict("The lot kept changing while the count was recorded; try again", code="STOCK_CHANGED")
    alerts.recheck_after_commit([lot.drug_id])
    return entry


def adjust_lot(lot_id: int, fields: dict) -> StockEntry:
    """Add or remove shelf stock of a lot for a stated reason (breakage, loss, found, destruction...)."""
    lot = get_lot(lot_id)
    change = fields["quantity_change"]
    reason = fields["reason"] + (f": {fields['note']}" if fields.get("note") else "")
    if change > 0:
        ensure_room(lot, change)
    with db.atomic():
        entry = move_stock(lot_id, lot.drug_id, change, kind="adjustment", reason=reason)
        if entry is None:
            on_hand = DrugLot.select(DrugLot.quantity_on_hand).where(DrugLot.id == lot_id).scalar()
            raise InsufficientStock(f"Lot {lot.lot_number} has {on_hand} {lot.drug.base_unit}; cannot remove "
                                    f"{-change}", drug_code=lot.drug.code, requested=-change, usable=on_hand)
    alerts.recheck_after_commit([lot.drug_id])
    return entry


def set_lot_status(lot_id: int, status: str, reason: str) -> DrugLot:
    """Quarantine an available lot or release a quarantined one (recall has its own verb)."""
    expected = {"quarantined": "available", "available": "quarantined"}[status]
    with db.atomic():
        lot = get_lot(lot_id)
        changed = change_status(lot_id, DrugLot.status == expected, status, reason)
        if changed is None:
            raise Conflict(f"Lot {lot.lot_number} is {lot.status}; only a lot that is {expected} can be made {status}",
                           code="LOT_STATUS_CONFLICT", lot_status=lot.status)
        note_on_card(lot, "quarantine" if status == "quarantined" else "release", reason, changed)
    alerts.recheck_after_commit([lot.drug_id])
    return get_lot(lot_id)


def stock_card(drug_code: str, query: dict) -> list[StockEntry]:
    """Return one page of the drug's stock card, newest first (older entries: the next page), each entry with the
    drug's running balance after it."""
    drug = get_drug(drug_code)
    entries = page(StockEntry.select(StockEntry, DrugLot.lot_number, DrugLot.supplier).join(DrugLot)
                   .where(StockEntry.drug == drug.id).objects(), StockEntry.id, query)
    if entries:  # the balance after the newest entry of the page: every entry up to it
        balance = int(StockEntry.select(fn.COALESCE(fn.SUM(StockEntry.quantity_change), 0))
                      .where((StockEntry.drug == drug.id) & (StockEntry.id <= entries[0].id)).scalar())
        for entry in entries:
            entry.drug_balance_after = balance
            balance -= entry.quantity_change
    return entries


def stock_report(paging: dict) -> list[dict]:
    """Return on-hand, usable and quarantined quantities and their value at cost, for one page of drugs by code."""
    today = clock.today()
    usable = Case(None, [(usable_condition(today), DrugLot.quantity_on_hand)], 0)
    held = DrugLot.quantity_on_hand + DrugLot.quantity_quarantined
    query = (Drug.select(Drug, fn.COALESCE(fn.SUM(held), 0).alias("on_hand"),
                         fn.COALESCE(fn.SUM(usable), 0).alias("usable"),
                         fn.COALESCE(fn.SUM(DrugLot.quantity_quarantined), 0).alias("quarantined"),
                         fn.COALESCE(fn.SUM(held * DrugLot.unit_cost_amount), 0).alias("value_amount"))
             .join(DrugLot, JOIN.LEFT_OUTER).group_by(Drug.id))
    return [{"drug_code": d.code, "name": d.name, "strength": d.strength, "base_unit": d.base_unit,
             "on_hand": int(d.on_hand), "usable": int(d.usable), "quarantined": int(d.quarantined),
             "value_amount": int(d.value_amount), "reorder_level": d.reorder_level,
             "below_reorder": int(d.usable) < d.reorder_level}
            for d in page(query, Drug.code, paging, descending=False)]
