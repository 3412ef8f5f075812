"""What charge intake needs from the database: each function one read or one write, the same on SQLite and
PostgreSQL. The verbs (charges/services.py) call these inside their own `with db.atomic():`."""

from common import sql
from gateway.models import Charge, ChargeReversal


def insert_new(rows: list[dict]) -> dict[str, int]:
    """Insert the charges whose keys are not stored yet (one statement, in key order: concurrent deliveries take the
    key index's locks in one order); return {key: id} of those inserted."""
    if not rows:
        return {}
    inserted = sql.insert(Charge, sorted(rows, key=lambda row: row["key"]), returning=("id", "key"), unless=("key",))
    return {key: charge_id for charge_id, key in inserted}


def by_keys(keys) -> dict[str, Charge]:
    """Read stored charges by their keys."""
    keys = sorted(set(keys))
    return {charge.key: charge for charge in Charge.select().where(Charge.key.in_(keys))} if keys else {}


def keys_with_waiting_reversals(keys) -> set[str]:
    """Return which of these charge keys have reversals that arrived before their charge (flagged unknown_charge)."""
    keys = sorted(set(keys))
    if not keys:
        return set()
    return {row.charge_key for row in ChargeReversal.select(ChargeReversal.charge_key).where(
        ChargeReversal.charge_key.in_(keys) & (ChargeReversal.flag == "unknown_charge"))}
