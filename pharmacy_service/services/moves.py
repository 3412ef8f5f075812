"""The one way stock changes: a guarded SQL update of a lot bucket plus an append-only stock-card entry."""

from datetime import date

from common import clock
from common.auth import actor
from common.bounds import MAX_AMOUNT, MAX_STOCK_QUANTITY, ensure_within
from common.errors import NotFound, get_or_404
from common.models import utcnow
from pharmacy_service import store
from pharmacy_service.models import Drug, DrugLot, StockEntry


def get_drug(code: str) -> Drug:
    """Return the drug with BHYT code `code` or raise 404."""
    return get_or_404(Drug, Drug.code == code, detail=f"No drug with code {code}", code="DRUG_NOT_FOUND")


def get_lot(lot_id: int) -> DrugLot:
    """Return a lot with its drug or raise 404."""
    lot = DrugLot.select(DrugLot, Drug).join(Drug).where(DrugLot.id == lot_id).first()
    if lot is None:
        raise NotFound(f"No drug lot {lot_id}", code="LOT_NOT_FOUND")
    return lot


def usable_condition(today: date):
    """SQL condition for lots that may be dispensed: available and not past their expiry day."""
    return (DrugLot.status == "available") & (DrugLot.expires_on >= today)


def lot_condition(lot: DrugLot, today: date | None = None) -> str:
    """Say what a lot is good for today: recalled, quarantined, expired (past its expiry day) or usable."""
    if lot.status in ("recalled", "quarantined"):
        return lot.status
    return "expired" if lot.expires_on < (today or clock.today()) else "usable"


def _guarded_update(lot_id: int, condition, column, change: int) -> tuple[int, str | None] | None:
    """Add `change` to `column` of lot `lot_id` where `condition` holds; return the new value and the lot's chain
    head (read under the row lock the update took), or None."""
    rows = list(DrugLot.update({column: column + change}).where(condition)
                .returning(column, DrugLot.chain_head).tuples().execute())
    return rows[0] if rows else None


def take_from_lot(lot_id: int, quantity: int, today: date) -> int | None:
    """Take `quantity` from a usable lot's shelf with a guarded update; return the balance left, or None."""
    column = DrugLot.quantity_on_hand
    condition = (DrugLot.id == lot_id) & (column >= quantity) & usable_condition(today)
    updated = _guarded_update(lot_id, condition, column, -quantity)
    return None if updated is None else updated[0]


def move_stock(lot_id: int, drug_id: int, change: int, *, kind: str, bucket: str = "shelf",
               reason: str | None = None, reference: str | None = None,
               expect_balance: int | None = None) -> StockEntry | None:
    """Change one bucket of a lot by `change` with a guarded update and write its stock-card entry.

    Returns the entry, or None (nothing written) when the guard failed: not enough stock, or the bucket's balance
    no longer `expect_balance`.
    """
    column = DrugLot.quantity_on_hand if bucket == "shelf" else DrugLot.quantity_quarantined
    condition = DrugLot.id == lot_id
    if change < 0:
        condition &= column >= -change
    if expect_balance is not None:
        condition &= column == expect_balance
    updated = _guarded_update(lot_id, condition, column, change)
    if updated is None:
        return None
    balance, head = updated
    return _append(dict(drug=drug_id, lot=lot_id, kind=kind, bucket=bucket, quantity_change=change,
                        balance_after=balance, reason=reason, reference=reference, actor=actor(), created_at=utcnow()),
                   {lot_id: head})


def _append(row: dict, heads: dict | None = None) -> StockEntry:
    """Write one stock-card row, chained after its lot's head (locked and read when not given)."""
    [entry_id] = store.add_stock_entries([row], heads)
    return StockEntry(id=entry_id, **row)


def ensure_room(lot: DrugLot, change: int, *, received: bool = False) -> None:
    """Refuse (422) stock that would take a lot past the ceilings: what it received in all, holds, and is worth."""
    held = lot.quantity_on_hand + lot.quantity_quarantined + change
    if received:
        ensure_within(lot.quantity_received + change, MAX_STOCK_QUANTITY, f"What lot {lot.lot_number} received",
                      code="LOT_TOO_LARGE")
    ensure_within(held, MAX_STOCK_QUANTITY, f"What lot {lot.lot_number} holds", code="LOT_TOO_LARGE")
    ensure_within(held * lot.unit_cost_amount, MAX_AMOUNT, f"The value of lot {lot.lot_number} at cost",
                  code="LOT_TOO_LARGE")


def change_status(lot_id: int, condition, status: str, reason: str) -> tuple[int, str | None] | None:
    """Set a lot's status where `condition` holds (a guarded update); return its shelf balance and chain head, read
    under the row lock the update took, or None."""
    rows = list(DrugLot.update(status=status, status_reason=reason).where((DrugLot.id == lot_id) & condition)
                .returning(DrugLot.quantity_on_hand, DrugLot.chain_head).tuples().execute())
    return rows[0] if rows else None


def note_on_card(lot: DrugLot, kind: str, reason: str, changed: tuple[int, str | None]) -> StockEntry:
    """Write a zero-quantity stock-card entry for a status change (quarantine, release, recall), chained after the
    head that `change_status` read. Locking the row again here (FOR UPDATE, stronger than the update's lock) could
    deadlock with a dispense that holds the key-share lock of its lot picks and waits to take from the lot."""
    balance, head = changed
    return _append(dict(drug=lot.drug_id, lot=lot.id, kind=kind, bucket="shelf", quantity_change=0,
                        balance_after=balance, reason=reason, reference=None, actor=actor(), created_at=utcnow()),
                   {lot.id: head})
