"""What the pharmacy's hot verbs need from the database: each function one read or one write, the same on SQLite
and PostgreSQL. The verbs (services/dispensing.py, services/fefo.py) call these inside their own `with db.atomic():`.
"""

from datetime import date

import peewee

from common import sql
from common.stock import StockMoved
from pharmacy_service.models import (
    STOCK_CARD_CHAIN,
    Dispense,
    DispenseLine,
    DispenseLotPick,
    Drug,
    DrugLot,
    Prescription,
    PrescriptionLine,
    StockEntry,
)

_PRESCRIPTION_LINES = (f"SELECT {sql.columns(PrescriptionLine, 'pl')}, {sql.columns(Prescription, 'p')}, "
                       f"{sql.columns(Drug, 'd')} FROM prescription_line pl "
                       "JOIN prescription p ON p.id = pl.prescription_id JOIN drug d ON d.id = pl.drug_id "
                       "WHERE pl.prescription_id = %s ORDER BY pl.id")


def prescription_lines(prescription_id: int) -> list[PrescriptionLine]:
    """Read a prescription's lines with their prescription and drug attached, in line-id order."""
    lines = []
    for line, prescription, drug in sql.joined((PrescriptionLine, Prescription, Drug), _PRESCRIPTION_LINES,
                                               (prescription_id,)):
        line.prescription, line.drug = prescription, drug
        lines.append(line)
    return lines


def claim_lines(quantities: dict[int, int]) -> int | None:
    """Count quantities against their prescription lines' remainders with guarded updates, in line-id order (one
    lock order for every dispense); return the first line that has less left than asked, or None."""
    database = PrescriptionLine._meta.database
    for line_id, quantity in sorted(quantities.items()):
        claimed = sql.execute(database, "UPDATE prescription_line SET quantity_dispensed = quantity_dispensed + %s"
                              " WHERE id = %s AND quantity_dispensed + %s <= quantity", (quantity, line_id, quantity))
        if claimed.rowcount != 1:
            return line_id
    return None


def line_remainder(line_id: int) -> int:
    """Return what is left to dispense on a prescription line."""
    line = PrescriptionLine.get_by_id(line_id)
    return line.quantity - line.quantity_dispensed


def usable_lots(drug_ids, today: date) -> dict[int, list[DrugLot]]:
    """Read each drug's dispensable lots with stock on the shelf, earliest expiry first, by drug id."""
    found: dict[int, list[DrugLot]] = {drug_id: [] for drug_id in drug_ids}
    if not found:
        return found
    ids = sorted(found)
    for lot in sql.select(DrugLot, "SELECT t.* FROM drug_lot t WHERE t.drug_id IN (" + ", ".join(["%s"] * len(ids))
                          + ") AND t.status = %s AND t.expires_on >= %s AND t.quantity_on_hand > 0"
                          " ORDER BY t.expires_on, t.id", (*ids, "available", sql.db_value(DrugLot.expires_on, today))):
        found[lot.drug_id].append(lot)
    return found


def add_dispense(**values) -> Dispense:
    """Write a dispense."""
    [(dispense_id,)] = sql.insert(Dispense, [values], returning=("id",))
    return Dispense(id=dispense_id, **sql.with_defaults(Dispense, values))


def add_dispense_lines(lines: list[DispenseLine]) -> dict[int, int]:
    """Write dispense lines (one statement); return each one's id by its prescription line."""
    rows = [sql.row_of(line, _DISPENSE_LINE_FIELDS) for line in lines]
    inserted = sql.insert(DispenseLine, rows, returning=("id", "prescription_line"))
    return {prescription_line_id: line_id for line_id, prescription_line_id in inserted}


_DISPENSE_LINE_FIELDS = tuple(field.name for field in DispenseLine._meta.sorted_fields if field.name != "id")


def add_lot_picks(rows: list[dict]) -> None:
    """Write which lots each dispense line came from (one statement)."""
    sql.insert(DispenseLotPick, rows)


def take(quantities: dict[int, int], today: date) -> dict[int, tuple[int, str | None]]:
    """Take quantities off dispensable lots' shelves with guarded decrements, in lot-id order (one lock order for
    every verb); return each lot's balance left and its chain head, read under its lock. Raise StockMoved when a
    lot no longer holds what was planned (or when taking it ran into another verb's locks the other way round: plan
    again)."""
    taken_from = {}
    database, until = DrugLot._meta.database, sql.db_value(DrugLot.expires_on, today)
    try:
        for lot_id, quantity in sorted(quantities.items()):
            taken = sql.execute(database, "UPDATE drug_lot SET quantity_on_hand = quantity_on_hand - %s WHERE id = %s"
                                " AND quantity_on_hand >= %s AND status = %s AND expires_on >= %s"
                                " RETURNING quantity_on_hand, chain_head",
                                (quantity, lot_id, quantity, "available", until)).fetchall()
            if not taken:
                raise StockMoved(lot_id)
            taken_from[lot_id] = taken[0]
    except peewee.OperationalError as error:
        if "deadlock" in str(error):
            raise StockMoved(sorted(quantities)) from None
        raise
    return taken_from


def add_stock_entries(rows: list[dict], heads: dict[int, str | None] | None = None) -> list[int]:
    """Append stock-card rows (one statement), chained after their lots' heads, and move the heads; return the
    rows' ids. The caller holds the lots' row locks (`take`, a guarded update) and passes the heads it read, or
    `heads` is None and they are locked and read here."""
    if not rows:
        return []
    rows = [sql.with_defaults(StockEntry, row) for row in rows]
    if heads is None:
        heads = lock_heads({row["lot"] for row in rows})
    heads = STOCK_CARD_CHAIN.link(rows, heads)
    ids = [row_id for (row_id,) in sql.insert(StockEntry, rows, returning=("id",))]
    moved = sorted({row["lot"] for row in rows})
    sql.update_many(DrugLot, [{"id": lot_id, "chain_head": heads[lot_id]} for lot_id in moved], ("chain_head",))
    return ids


def lock_heads(lot_ids) -> dict[int, str | None]:
    """Lock lots' rows (in id order) and read their chain heads (SQLite's write transaction already holds them)."""
    ids = sorted(lot_ids)
    database = DrugLot._meta.database
    text = ("SELECT id, chain_head FROM drug_lot WHERE id IN (" + ", ".join(["%s"] * len(ids)) + ") ORDER BY id"
            + (" FOR UPDATE" if database.for_update else ""))
    return dict(sql.execute(database, text, ids).fetchall())
