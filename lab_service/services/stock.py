"""Reagent stock: which lots are usable, first-expiry-first-out allocation with guarded decrements, the ledger."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import peewee

from common import clock
from common.auth import actor
from common.errors import ApiError, InsufficientStock, NotFound
from common.money import round_half_up
from common.paging import page
from lab_service import store
from lab_service.models import LedgerEntry, Reagent, ReagentLot, db
from lab_service.services.alert_requests import request_alert_check


@dataclass
class Piece:
    """Part of a demand taken from one lot."""

    reagent: Reagent
    lot: ReagentLot
    quantity: int
    basis: str


def reagent_by_code(code: str) -> Reagent:
    """Return the reagent with `code` or raise 404."""
    reagent = Reagent.get_or_none(Reagent.code == code)
    if reagent is None:
        raise NotFound(f"No reagent with code {code}", code="REAGENT_NOT_FOUND")
    return reagent


def lot_by_id(lot_id: int, reagent: Reagent | None = None) -> ReagentLot:
    """Return a lot (of `reagent`, when given) or raise 404."""
    query = ReagentLot.select(ReagentLot, Reagent).join(Reagent).where(ReagentLot.id == lot_id)
    if reagent is not None:
        query = query.where(ReagentLot.reagent == reagent)
    lot = query.first()
    if lot is None:
        raise NotFound(f"No reagent lot {lot_id}", code="LOT_NOT_FOUND")
    return lot


def stability_ends(lot: ReagentLot, reagent: Reagent):
    """Return when an opened lot stops being stable, or None when that does not apply."""
    if lot.opened_at is None or not reagent.stability_days_after_opening:
        return None
    return lot.opened_at + timedelta(days=reagent.stability_days_after_opening)


def unusable_reason(lot: ReagentLot, reagent: Reagent) -> str | None:
    """Say why a lot may not be used now (quarantined, expired, past stability, empty), or None."""
    if lot.state != "released":
        return "quarantined"
    if lot.expires_on < clock.today():
        return "expired"
    ends = stability_ends(lot, reagent)
    if ends is not None and ends <= clock.now():
        return "past_opened_stability"
    if lot.on_hand <= 0:
        return "empty"
    return None


def effective_expiry(lot: ReagentLot, reagent: Reagent) -> date:
    """Return the date a lot stops being usable: its label expiry, or sooner once opened."""
    ends = stability_ends(lot, reagent)
    return lot.expires_on if ends is None else min(lot.expires_on, clock.local_day(ends))


def usable_lots(reagents) -> dict[int, list[ReagentLot]]:
    """Return the usable lots of each reagent by reagent id, the one that stops being usable first at the front."""
    by_id = {reagent.id: reagent for reagent in reagents}
    found = store.lots_with_stock(by_id, clock.today())
    return {reagent_id: sorted((lot for lot in lots if unusable_reason(lot, by_id[reagent_id]) is None),
                               key=lambda lot, r=by_id[reagent_id]: (effective_expiry(lot, r), lot.expires_on, lot.id))
            for reagent_id, lots in found.items()}


def usable_quantity(reagent: Reagent) -> int:
    """Return how much of the reagent can be used now."""
    return sum(lot.on_hand for lot in usable_lots([reagent])[reagent.id])


def cost_of(lot: ReagentLot, quantity: int) -> int:
    """Return the đồng cost of `quantity` base units from a lot, pro rata to what the lot cost."""
    if lot.received_quantity <= 0:
        return 0
    return round_half_up(Decimal(lot.cost_amount) * quantity / lot.received_quantity)


def record(lot: ReagentLot, kind: str, quantity: int, *, test_run=None, basis=None, reason=None,
           cost_amount: int | None = None) -> LedgerEntry:
    """Append one ledger row for a movement that has already been applied to the lot."""
    cost = cost_amount if cost_amount is not None else (cost_of(lot, abs(quantity)) * (1 if quantity >= 0 else -1))
    row = {"reagent": lot.reagent_id, "lot": lot.id, "kind": kind, "quantity": quantity, "cost_amount": cost,
           "test_run": test_run.id if test_run is not None else None, "basis": basis, "reason": reason,
           "recorded_by": actor(), "created_at": clock.now()}
    [entry_id] = store.add_ledger_rows([row])
    return LedgerEntry(id=entry_id, **row)


def shortage_error(shortages: list[dict]) -> InsufficientStock:
    """Build the 409 that names each short reagent with what was needed and what is usable."""
    names = ", ".join(f"{s['reagent_code']} (needs {s['needed']}, usable {s['usable']} {s['base_unit']})"
                      for s in shortages)
    return InsufficientStock(f"Not enough usable reagent: {names}", shortages=shortages)


def check_cover(demand: dict[Reagent, list[tuple[str, int]]], lots: dict[int, list[ReagentLot]] | None = None):
    """Raise 409 INSUFFICIENT_STOCK if any reagent's usable stock is short; return the usable lots per reagent."""
    lots, shortages = dict(lots or {}), []
    missing = [reagent for reagent in demand if reagent.id not in lots]
    if missing:
        lots.update(usable_lots(missing))
    for reagent, parts in demand.items():
        needed, usable = sum(q for _, q in parts), sum(lot.on_hand for lot in lots[reagent.id])
        if needed > usable:
            shortages.append({"reagent_code": reagent.code, "needed": needed, "usable": usable,
                              "base_unit": reagent.base_unit})
    if shortages:
        raise shortage_error(shortages)
    return lots


def plan(demand: dict[Reagent, list[tuple[str, int]]], lots: dict[int, list[ReagentLot]] | None = None):
    """Choose lots first-expiry-first-out for every demand, possibly across lots; 409 if any reagent is short.

    `lots` may hold the usable lots already read in this transaction, by reagent id. Nothing is taken yet.
    """
    lots_by_reagent = check_cover(demand, lots)
    pieces: list[Piece] = []
    for reagent in sorted(demand, key=lambda r: r.id):  # one lock order for every transaction
        parts = list(demand[reagent])
        remaining, taken = sum(q for _, q in parts), []
        for lot in lots_by_reagent[reagent.id]:
            if remaining <= 0:
                break
            take = min(remaining, lot.on_hand)
            taken.append((lot, take))
            remaining -= take
        pieces.extend(_split_by_basis(reagent, parts, taken))
    return pieces


def _split_by_basis(reagent: Reagent, parts: list[tuple[str, int]], taken: list[tuple[ReagentLot, int]]):
    """Attribute what was taken from each lot to the demand parts (test, run, lot_opened, day) in order."""
    pieces, parts = [], [list(p) for p in parts]
    for lot, quantity in taken:
        while quantity > 0:
            basis, wanted = parts[0]
            share = min(wanted, quantity)
            pieces.append(Piece(reagent, lot, share, basis))
            quantity -= share
            parts[0][1] -= share
            if parts[0][1] == 0:
                parts.pop(0)
    return pieces


def take(pieces: list[Piece]) -> dict[int, str | None]:
    """Take the planned quantities off their lots (guarded decrements, StockMoved when a lot no longer holds them)
    and start the stability clock of lots drawn from for the first time; return the lots' chain heads. Called at
    the end of the transaction, so the lots' row locks are held as briefly as possible."""
    per_lot: dict[int, int] = {}
    for piece in pieces:
        per_lot[piece.lot.id] = per_lot.get(piece.lot.id, 0) + piece.quantity
    heads = store.take(per_lot)
    store.mark_opened({piece.lot.id for piece in pieces if piece.lot.opened_at is None}, clock.now())
    return heads


def consumption_lines(pieces: list[Piece]) -> list[dict]:
    """Merge what was taken into one line per lot and basis, each with its cost."""
    lines: dict[tuple[int, str], dict] = {}
    for piece in pieces:
        line = lines.setdefault((piece.lot.id, piece.basis), {
            "reagent_id": piece.reagent.id, "reagent_code": piece.reagent.code, "lot": piece.lot,
            "lot_number": piece.lot.lot_number, "basis": piece.basis, "quantity": 0})
        line["quantity"] += piece.quantity
    for line in lines.values():
        line["cost_amount"] = cost_of(line["lot"], line["quantity"])
    return list(lines.values())


def write_consumption(lines: list[dict], test_run, heads: dict[int, str | None]) -> None:
    """Write one consumption ledger row per lot and basis (one statement), chained after the heads `take` read
    under the lots' locks."""
    recorded_by, now = actor(), clock.now()
    store.add_ledger_rows([
        {"reagent": line["reagent_id"], "lot": line["lot"].id, "kind": "consumption", "quantity": -line["quantity"],
         "cost_amount": -line["cost_amount"], "test_run": test_run.id, "basis": line["basis"],
         "recorded_by": recorded_by, "created_at": now} for line in lines], heads)


def consumption_by_lot(lines: list[dict]) -> list[dict]:
    """The consumption per lot, as a run shows it."""
    by_lot: dict[int, dict] = {}
    for line in lines:
        shown = by_lot.setdefault(line["lot"].id, {"reagent_code": line["reagent_code"],
                                                   "lot_number": line["lot_number"], "quantity": 0,
                                                   "cost_amount": 0})
        shown["quantity"] += line["quantity"]
        shown["cost_amount"] += line["cost_amount"]
    return list(by_lot.values())


def count_lot(lot_id: int, counted: int, reason: str) -> dict:
    """Set a lot's book quantity to a physical count: guarded update plus an adjustment row (0 if it matched)."""
    lot = lot_by_id(lot_id)
    with db.atomic():
        while True:
            book = ReagentLot.select(ReagentLot.on_hand).where(ReagentLot.id == lot.id).scalar()
            changed = (ReagentLot.update(on_hand=counted)
                       .where((ReagentLot.id == lot.id) & (ReagentLot.on_hand == book)).execute())
            if changed:
                break
        entry = record(lot, "count_adjustment", counted - book, reason=reason)
    request_alert_check(lot.reagent_id)
    return movement_view(entry, lot, book_before=book)


def record_wastage(lot_id: int, quantity: int, reason: str) -> dict:
    """Take wasted reagent (spilt, broken, expired) off a lot with a guarded decrement and a wastage row."""
    lot = lot_by_id(lot_id)
    with db.atomic():
        book = ReagentLot.select(ReagentLot.on_hand).where(ReagentLot.id == lot.id).scalar()
        taken = (ReagentLot.update(on_hand=ReagentLot.on_hand - quantity)
                 .where((ReagentLot.id == lot.id) & (ReagentLot.on_hand >= quantity)).execute())
        if not taken:
            raise shortage_error([{"reagent_code": lot.reagent.code, "needed": quantity, "usable": book,
                                   "base_unit": lot.reagent.base_unit}])
        entry = record(lot, "wastage", -quantity, reason=reason)
    request_alert_check(lot.reagent_id)
    return movement_view(entry, lot, book_before=book)


def movement_view(entry: LedgerEntry, lot: ReagentLot, book_before: int) -> dict:
    """Describe one adjustment of a lot with its quantity before and after."""
    return {"id": entry.id, "lot_id": lot.id, "lot_number": lot.lot_number, "reagent_code": lot.reagent.code,
            "kind": entry.kind, "quantity": entry.quantity, "book_before": book_before,
            "book_after": book_before + entry.quantity, "reason": entry.reason, "recorded_by": entry.recorded_by,
            "created_at": entry.created_at}


def reject_past_expiry(expires_on: date) -> None:
    """Refuse a lot whose label date has already passed."""
    if expires_on < clock.today():
        raise ApiError(f"This lot expired on {expires_on.isoformat()}; it cannot be received",
                       code="LOT_EXPIRED", status=422)


def reason_said(entry: LedgerEntry) -> dict:
    """The reason of a row the lab wrote itself (a receipt's "received from <supplier>", in English on the row) as a
    code and its values, for a screen to say in its user's language; a person's own reason has no code."""
    if entry.kind != "receipt":
        return {"reason_code": None, "reason_params": None}
    supplier = entry.lot.supplier
    return {"reason_code": "received_from" if supplier else "received",
            "reason_params": {"supplier": supplier} if supplier else {}}


def stock_card(code: str, query: dict) -> dict:
    """Return one page of the reagent's ledger (the latest `limit` rows, or those before the cursor: older rows are
    reached page by page) in order, with the running balance after each row; `balance` is the balance after the
    page's newest row (on the first page, the reagent's balance now)."""
    reagent = reagent_by_code(code)
    latest = page(LedgerEntry.select(LedgerEntry, ReagentLot).join(ReagentLot).where(LedgerEntry.reagent == reagent),
                  LedgerEntry.id, query)
    latest.reverse()
    balance = 0
    if latest:
        balance = int(LedgerEntry.select(peewee.fn.COALESCE(peewee.fn.SUM(LedgerEntry.quantity), 0))
                      .where((LedgerEntry.reagent == reagent) & (LedgerEntry.id < latest[0].id)).scalar())
    rows = []
    for entry in latest:
        balance += entry.quantity
        rows.append({"id": entry.id, "lot_id": entry.lot_id, "lot_number": entry.lot.lot_number, "kind": entry.kind,
                     "basis": entry.basis, "quantity": entry.quantity, "balance": balance,
                     "cost_amount": entry.cost_amount, "test_run_id": entry.test_run_id, "reason": entry.reason,
                     **reason_said(entry), "recorded_by": entry.recorded_by, "created_at": entry.created_at})
    return {"reagent_code": reagent.code, "base_unit": reagent.base_unit, "balance": balance, "entries": rows}
