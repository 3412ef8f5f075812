"""First-expiry-first-out: plan the picks from a plain read, then take them with guarded decrements.

Planning before locking keeps the hot lot rows locked only for the last few statements of a dispense: the
decrements, their stock-card rows, and the commit. A decrement that finds less than planned (another dispense
won the race) raises StockMoved, and the caller plans again from what is now committed.
"""

from collections import defaultdict
from datetime import date
from typing import NamedTuple

import peewee

from common.errors import InsufficientStock
from common.models import utcnow
from common.sql import defer, execute, fetch_all
from pharmacy_service.models import DrugLot, StockEntry
from pharmacy_service.services.moves import actor, take_from_lot


class StockMoved(Exception):
    """A lot holds less than planned by the time it is decremented; plan again."""


class UsableLot(NamedTuple):
    """What planning needs of a usable lot: read with a hand-written statement, no model instance."""

    id: int
    drug_id: int
    lot_number: str
    expires_on: date
    unit_cost_amount: int
    quantity_on_hand: int


LOT_COLUMNS = "lot.id, lot.drug_id, lot.lot_number, lot.expires_on, lot.unit_cost_amount, lot.quantity_on_hand"
USABLE_LOT = "lot.status = 'available' AND lot.expires_on >= %s AND lot.quantity_on_hand > 0"


def usable_lot(row) -> UsableLot:
    """Make a UsableLot of the LOT_COLUMNS of a row (SQLite returns dates as text)."""
    return UsableLot(row[0], row[1], row[2], DrugLot.expires_on.python_value(row[3]), row[4], row[5])


def usable_lots(drug_ids, today) -> dict[int, list[UsableLot]]:
    """Return each drug's usable lots with stock on the shelf, earliest expiry first."""
    drug_ids = sorted(set(drug_ids))
    rows = fetch_all(DrugLot, f"SELECT {LOT_COLUMNS} FROM drug_lot AS lot WHERE lot.drug_id IN "
                              f"({', '.join(['%s'] * len(drug_ids))}) AND {USABLE_LOT} "
                              "ORDER BY lot.drug_id, lot.expires_on, lot.id", (*drug_ids, today))
    lots_by_drug: dict[int, list[UsableLot]] = defaultdict(list)
    for row in rows:
        lots_by_drug[row[1]].append(usable_lot(row))
    return lots_by_drug


def plan_picks(wanted: list[tuple[object, int]], lots_by_drug: dict[int, list[UsableLot]]
               ) -> dict[int, list[tuple[UsableLot, int]]]:
    """Allocate each (line, quantity) over its drug's usable lots, earliest expiry first; 409 when short.

    `lots_by_drug` is a plain read (usable_lots): nothing is locked until take_planned.
    """
    free = {lot.id: lot.quantity_on_hand for lots in lots_by_drug.values() for lot in lots}
    plan: dict[int, list[tuple[UsableLot, int]]] = {}
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
        if needed:
            drug = line.drug
            usable = quantity - needed
            raise InsufficientStock(f"{drug.name} {drug.strength}: {quantity} {drug.base_unit} asked, {usable} "
                                    "usable", drug_code=drug.code, requested=quantity, usable=usable)
        plan[line.id] = picks
    return plan


def take_planned(plan: dict[int, list[tuple[UsableLot, int]]], reference: str, today) -> dict[int, int]:
    """Decrement every planned lot and write its stock-card row; return each lot's balance left.

    Raises StockMoved when a lot no longer has enough.
    """
    per_lot: dict[int, int] = defaultdict(int)
    lots: dict[int, UsableLot] = {}
    for picks in plan.values():
        for lot, take in picks:
            per_lot[lot.id] += take
            lots[lot.id] = lot
    database = DrugLot._meta.database
    if isinstance(database.obj if hasattr(database, "obj") else database, peewee.PostgresqlDatabase):
        return _take_in_one_statement(database, per_lot, reference, today)
    who, rows, balances = actor(), [], {}
    for lot_id in sorted(per_lot, key=lambda i: (lots[i].drug_id, lots[i].expires_on, i)):  # one global lock order
        balance = take_from_lot(lot_id, per_lot[lot_id], today)
        if balance is None:
            raise StockMoved(lot_id)
        balances[lot_id] = balance
        rows.append({"drug": lots[lot_id].drug_id, "lot": lot_id, "kind": "dispense", "bucket": "shelf",
                     "quantity_change": -per_lot[lot_id], "balance_after": balance, "reference": reference,
                     "actor": who})
    StockEntry.insert_many(rows).execute()
    return balances


# Guarded decrements of every planned lot and their stock-card rows in one round trip, so the hot rows stay locked
# for as short a time as possible. A lot whose guard fails is simply not returned; the caller then plans again.
# The lots are first locked in id order (LockRows above the Sort): an UPDATE ... FROM locks rows in whatever order
# its join visits them, so two multi-lot dispenses could lock the same lots in opposite orders and deadlock, which
# PostgreSQL only notices after deadlock_timeout (1 s) -- the cause of multi-second p99s under load. NO KEY UPDATE
# is the lock the UPDATE takes anyway; FOR UPDATE would conflict with the KEY SHARE locks that this transaction's
# own pick rows (foreign keys to drug_lot) and other dispenses' hold, and deadlock in turn.
_LOCK_SQL = "SELECT 1 FROM drug_lot WHERE id IN ({ids}) ORDER BY id FOR NO KEY UPDATE"
_TAKE_SQL = """
WITH wanted(lot_id, qty) AS (VALUES {values}),
taken AS (
    UPDATE drug_lot SET quantity_on_hand = drug_lot.quantity_on_hand - wanted.qty
    FROM wanted
    WHERE drug_lot.id = wanted.lot_id AND drug_lot.quantity_on_hand >= wanted.qty
      AND drug_lot.status = 'available' AND drug_lot.expires_on >= %s
    RETURNING drug_lot.id, drug_lot.drug_id, drug_lot.quantity_on_hand, wanted.qty
)
INSERT INTO stock_entry (drug_id, lot_id, kind, bucket, quantity_change, balance_after, reference, actor, created_at)
SELECT drug_id, id, 'dispense', 'shelf', -qty, quantity_on_hand, %s, %s, %s FROM taken ORDER BY id
RETURNING lot_id, balance_after
"""


def _take_in_one_statement(database, per_lot: dict[int, int], reference: str, today) -> dict[int, int]:
    """Run _LOCK_SQL and _TAKE_SQL (prepared) for these lots in one round trip and return their balances;
    StockMoved unless every lot was decremented."""
    lot_ids = sorted(per_lot)
    params: list = []
    for lot_id in lot_ids:
        params += [lot_id, per_lot[lot_id]]
    params += [today, reference, actor(), utcnow().replace(tzinfo=None)]
    try:
        defer(database, _LOCK_SQL.format(ids=", ".join(["%s"] * len(lot_ids))), lot_ids)  # travels with the take
        taken = execute(database, _TAKE_SQL.format(values=", ".join(["(%s::integer, %s::integer)"] * len(lot_ids))),
                        params, prepared=True).fetchall()
    except peewee.OperationalError as exc:  # a deadlock with another verb moving these lots: plan again
        if getattr(getattr(exc, "orig", exc), "pgcode", None) == "40P01" or "deadlock" in str(exc):
            raise StockMoved(lot_ids) from None
        raise
    if len(taken) != len(lot_ids):
        raise StockMoved(lot_ids)
    return dict(taken)


def drugs_to_recheck(plan: dict[int, list[tuple[UsableLot, int]]], balances: dict[int, int], lines) -> set[int]:
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
