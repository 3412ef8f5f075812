"""What the gateway's chains need from the database (common.chain): the heads kept in `chain_head` (charges per
source, the audit log), locked while a writer appends, and the audit drain's placing of new lines in the chain.
Each function one statement or a few, the same on SQLite and PostgreSQL."""

import json

from common import sql
from common.chain import Chain, row_hash
from gateway.models import AUDIT_CHAIN, AuditEntry, ChainHead

AUDIT_CHUNK = 500


def lock_heads(chain: Chain, streams) -> dict[str, tuple[str | None, int]]:
    """Lock the heads of `streams` of a chain (in stream order; created empty the first time) until the transaction
    ends; return {stream: (head, length)}. SQLite's write transaction holds them already."""
    streams = sorted(set(streams))
    database = ChainHead._meta.database
    select = ("SELECT stream, head, length FROM chain_head WHERE chain = %s AND stream IN ("
              + ", ".join(["%s"] * len(streams)) + ") ORDER BY stream" + (" FOR UPDATE" if database.for_update else ""))
    rows = sql.execute(database, select, [chain.name, *streams]).fetchall()
    if len(rows) < len(streams):  # a stream's first row: its head row is made once
        sql.execute(database, "INSERT INTO chain_head (chain, stream, length) VALUES "
                    + ", ".join(["(%s, %s, 0)"] * len(streams)) + " ON CONFLICT (chain, stream) DO NOTHING",
                    [value for stream in streams for value in (chain.name, stream)])
        rows = sql.execute(database, select, [chain.name, *streams]).fetchall()
    return {stream: (head, length) for stream, head, length in rows}


def move_heads(chain: Chain, heads: dict[str, str], added: dict[str, int]) -> None:
    """Record the new heads of a chain's streams and how many rows each gained (their locks are held)."""
    for stream in sorted(heads):
        sql.execute(ChainHead._meta.database, "UPDATE chain_head SET head = %s, length = length + %s"
                    " WHERE chain = %s AND stream = %s", (heads[stream], added.get(stream, 0), chain.name, stream))


def chain_audit_lines() -> int:
    """Place the audit lines not yet in the chain at its end, oldest id first, under the chain's lock; return how
    many. The one writer of the audit chain: the spool drain (a request never waits for it)."""
    if not AuditEntry.select().where(AuditEntry.chain_seq.is_null()).exists():
        return 0  # nothing to place: no lock taken
    [(head, length)] = lock_heads(AUDIT_CHAIN, ["all"]).values()
    waiting = list(AuditEntry.select().where(AuditEntry.chain_seq.is_null()).order_by(AuditEntry.id)
                   .limit(AUDIT_CHUNK * 20))
    if not waiting:
        return 0
    placed = []
    for entry in waiting:
        length += 1
        entry.chain_seq, entry.prev_hash = length, head or "0" * 64
        head = entry.row_hash = row_hash(entry.prev_hash, AUDIT_CHAIN.content(entry))
        placed.append(entry)
    for start in range(0, len(placed), AUDIT_CHUNK):
        sql.update_many(AuditEntry, [{"id": entry.id, "chain_seq": entry.chain_seq, "prev_hash": entry.prev_hash,
                                      "row_hash": entry.row_hash} for entry in placed[start:start + AUDIT_CHUNK]],
                        ("chain_seq", "prev_hash", "row_hash"))
    move_heads(AUDIT_CHAIN, {"all": head}, {"all": len(placed)})
    return len(placed)


def details_text(details: dict | None) -> str | None:
    return None if not details else json.dumps(details, ensure_ascii=False, sort_keys=True)
