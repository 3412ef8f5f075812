"""First-expiry-first-out: plan the picks from a plain read, then take them with guarded decrements.

Planning before locking keeps the hot lot rows locked only for the last few statements of a dispense: the
decrements, their stock-card rows, and the commit. A decrement that finds less than planned (another dispense
won the race) raises StockMoved (common.stock), and the verb plans again from what is now committed.
"""

from collections import defaultdict

from common.auth import actor
from common.errors import InsufficientStock
from pharmacy_service import store
from pharmacy_service.models import DrugLot


def allocate(wanted: list[tuple[object, int]], lots_by_drug: dict[int, list[DrugLot]]
             ) -> dict[int, tuple[list[tuple[DrugLot, int]], int]]:
    """Allocate each (prescription line, quantity) over its drug's usable lots, earliest expiry first, as far as
    they go; return each line's picks and what is left unmet (0 when served in full), by line id."""
    free = {lot.id: lot.quantity_on_hand for lots in lots_by_drug.values() for lot in lots}
    allocation: dict[int, tuple[list[tuple[DrugLot, int]], int]] = {}
    for line, quantity in wanted:  # two lines of one drug share its lots
        needed, picks = quantity, []
        for lot in lots_by_drug.get(line.drug_id, ()):
            take = min(needed, free[lot.id])
            if take:
                picks.append((lot, take))
                free[lot.id] -= take
                needed -= take
            if not needed:
                break
        allocation[line.id] = (picks, needed)
    return allocation


def plan_picks(wanted: list[tuple[object, int]], lots_by_drug: dict[int, list[DrugLot]]
               ) -> dict[int, list[tuple[DrugLot, int]]]:
    """Allocate each line FEFO (see allocate); 409 for the first line its usable lots cannot serve in full.
    Nothing is locked yet: take_planned does that."""
    allocation = allocate(wanted, lots_by_drug)
    for line, quantity in wanted:
        _picks, unmet = allocation[line.id]
        if unmet:
            drug = line.drug
            usable = quantity - unmet
            raise InsufficientStock(f"{drug.name} {drug.strength}: {quantity} {drug.base_unit} asked, {usable} "
                                    "usable", drug_code=drug.code, requested=quantity, usable=usable)
    return {line_id: picks for line_id, (picks, _unmet) in allocation.items()}


def take_planned(plan: dict[int, list[tuple[DrugLot, int]]], reference: str, today) -> dict[int, int]:
    """Decrement every planned lot and write its stock-card row; return each lot's balance left.

    Raises StockMoved when a lot no longer has enough.
    """
    per_lot: dict[int, int] = defaultdict(int)
    lots: dict[int, DrugLot] = {}
    for picks in plan.values():
        for lot, take in picks:
            per_lot[lot.id] += take
            lots[lot.id] = lot
    taken = store.take(per_lot, today)
    who = actor()
    store.add_stock_entries([{"drug": lots[lot_id].drug_id, "lot": lot_id, "kind": "dispense", "bucket": "shelf",
                              "quantity_change": -per_lot[lot_id], "balance_after": balance,
                              "reference": reference, "actor": who} for lot_id, (balance, _head) in taken.items()],
                            {lot_id: head for lot_id, (_balance, head) in taken.items()})
    return {lot_id: balance for lot_id, (balance, _head) in taken.items()}


def drugs_to_recheck(plan: dict[int, list[tuple[DrugLot, int]]], balances: dict[int, int], lines) -> set[int]:
    """Return the drugs whose alerts this dispense may have changed.

    A dispense only lowers stock, so it can open 'below reorder level' or close an expiry alert of a lot it emptied.
    The lots it took from were locked when their balances were read, so their sum is a floor of the drug's usable
    stock that no later dispense can see higher: when that floor is at or above the reorder level and no lot was
    emptied, nothing changed for the drug.
    """
    drug_of = {lot.id: lot.drug_id for picks in plan.values() for lot, _ in picks}
    floors: dict[int, int] = defaultdict(int)
    recheck = set()
    for lot_id, balance in balances.items():
        floors[drug_of[lot_id]] += balance
        if balance == 0:
            recheck.add(drug_of[lot_id])
    return recheck | {line.drug_id for line, _ in lines if floors[line.drug_id] < line.drug.reorder_level}
