"""Audit lines written after the answer, through a spool file: bookkeeping never replaces an answer already given.

A proxied change is committed by the service behind the gateway before the gateway writes its audit line; a read
of a patient's record is answered before its line is written. Writing such a line straight to the gateway's
database would turn a database fault into a 500 after the work was done. Instead the line is appended to a spool
file under VAR_DIR (no database involved), and a drain moves spooled lines into `audit_entry` later: right after
the request in this process (a background thread, at most every AUDIT_DRAIN_INTERVAL_MS; at once under
JOBS_INLINE_SYNC), and every 2 s from the sweeper, which shares VAR_DIR. While the database is down the lines
wait in the spool; nothing is lost.

A drain first renames the spool to a batch file (under a lock, so an append never lands in a file being drained),
then inserts the batch and deletes it. Every line carries its own key (`entry_key`, unique): a batch inserted but
not yet deleted when a process died is inserted again without doubles.
"""

import fcntl
import json
import logging
import os
import re
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path

from flask import current_app

from common.config import var_dir
from common.errors import fault_of
from common.models import utcnow
from common.queue import app_connection
from gateway import store
from gateway.models import AuditEntry, db

log = logging.getLogger(__name__)
SPOOL = "audit-spool.jsonl"
BATCH_PREFIX = "audit-batch-"
INSERT_CHUNK = 500
RETRY_SECONDS = 5
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_LIMITS = {"actor": 64, "role": 20, "action": 300, "request_id": 64, "patient_id": 64}


def spool_dir(make: bool = False) -> Path:
    """The folder of this host's audit spool (under VAR_DIR, shared with the sweeper); made the first time this
    process asks for it (or again when `make`: it was removed since)."""
    folder = Path(current_app.config.get("AUDIT_SPOOL_DIR") or var_dir() / "audit-spool")
    if make or folder not in _made:
        folder.mkdir(parents=True, exist_ok=True)
        _made.add(folder)
    return folder


_made: set[Path] = set()


def clean_line(actor: str, role: str, action: str, status_code: int, request_id: str | None,
               patient_id: str | None = None, details: dict | None = None) -> dict:
    """An audit line that fits its columns: control characters (a NUL in a path) become '?', cut to length.
    `details` (JSON) says what a read covered: a claim batch, how many patients."""
    values = {"actor": actor, "role": role, "action": action, "request_id": request_id or "-",
              "patient_id": patient_id}
    line = {name: None if value is None else _CONTROL.sub("?", str(value))[:_LIMITS[name]]
            for name, value in values.items()}
    line["status_code"] = int(status_code)
    line["details"] = json.dumps(details, ensure_ascii=False, sort_keys=True) if details else None
    return line


def _locked(folder: Path):
    """An exclusive lock on the spool folder, held while appending or while taking the spool for a drain."""
    handle = open(folder / "audit-spool.lock", "a")  # a new open file per use: flock then excludes threads too
    fcntl.flock(handle, fcntl.LOCK_EX)
    return handle


def chain_soon() -> None:
    """Have the lines written inside the gateway's own changes placed in the audit chain soon."""
    _wake_drainer()


def record_later(line: dict) -> None:
    """Audit after the answer: spool the line and have the spool drained soon; never raises."""
    if append(line):
        _wake_drainer()


def append(line: dict) -> bool:
    """Add one audit line to the spool, stamped with its time and its own key; False (logged) if it could not."""
    entry = {**line, "occurred_at": utcnow().isoformat(), "entry_key": uuid.uuid4().hex}
    text = json.dumps(entry, ensure_ascii=False) + "\n"
    try:
        try:
            _append_to(spool_dir(), text)
        except FileNotFoundError:  # the folder was removed since this process made it
            _append_to(spool_dir(make=True), text)
    except OSError:
        # The disk is the last resort; the log line keeps what the audit log could not.
        log.exception("audit line could not be spooled: %s", json.dumps(entry, ensure_ascii=False))
        return False
    return True


def _append_to(folder: Path, text: str) -> None:
    with _locked(folder), open(folder / SPOOL, "a", encoding="utf-8") as spool:
        spool.write(text)


def drain() -> int:
    """Move every spooled audit line into the database; return how many were stored. Lines stay spooled while the
    database does not answer (the fault is raised to the caller, who tries again later)."""
    folder = spool_dir(make=True)
    with _locked(folder):
        if (folder / SPOOL).exists() and (folder / SPOOL).stat().st_size:
            (folder / SPOOL).rename(folder / f"{BATCH_PREFIX}{uuid.uuid4().hex}.jsonl")
    stored = 0
    for batch in sorted(folder.glob(f"{BATCH_PREFIX}*.jsonl")):
        stored += _store_batch(batch)
    with db.atomic():
        store.chain_audit_lines()  # the lines stored now, and those the gateway's own changes wrote
    return stored


def _store_batch(batch: Path) -> int:
    """Insert one batch file's lines (a line already stored is skipped), then delete the file."""
    try:
        lines = batch.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return 0  # another drain took it
    rows = []
    for text in lines:
        try:
            row = json.loads(text)
            rows.append({**row, "occurred_at": datetime.fromisoformat(row["occurred_at"])})
        except (ValueError, KeyError, TypeError):
            log.error("unreadable audit spool line dropped (a write cut short by a crash?): %r", text[:300])
    try:
        with db.atomic():
            for start in range(0, len(rows), INSERT_CHUNK):
                AuditEntry.insert_many(rows[start:start + INSERT_CHUNK]).on_conflict_ignore().execute()
    except Exception as exc:
        if fault_of(exc) is not None:
            raise
        # Not a fault: these lines can never be stored as they are. Kept aside for a person, not retried for ever.
        log.exception("audit batch %s could not be stored; kept as %s", batch.name, batch.name + ".rejected")
        batch.rename(batch.with_name(batch.name + ".rejected"))
        return 0
    batch.unlink(missing_ok=True)
    return len(rows)


def drain_quietly() -> None:
    """Drain, logging instead of raising: for after a request, and the sweeper's periodic job."""
    try:
        drain()
    except Exception as exc:  # the database is down: the lines wait in the spool
        log.warning("audit spool not drained yet (%s: %s); retrying later", type(exc).__name__, exc)


_drainers: dict[int, threading.Event] = {}
_drainers_lock = threading.Lock()


def _wake_drainer() -> None:
    """Have the spool drained soon: at once under JOBS_INLINE_SYNC, else by this process's drainer thread."""
    app = current_app._get_current_object()
    if app.config.get("JOBS_INLINE_SYNC"):
        drain_quietly()
        return
    with _drainers_lock:
        wake = _drainers.get(id(app))
        if wake is None or os.getpid() != getattr(wake, "pid", None):  # none yet, or forked since
            wake = _drainers[id(app)] = threading.Event()
            wake.pid = os.getpid()
            threading.Thread(target=_drainer, args=(app, wake), daemon=True, name="audit-drainer").start()
    wake.set()


def _drainer(app, wake: threading.Event) -> None:
    """Drain whenever woken, at most once per AUDIT_DRAIN_INTERVAL_MS (the lines of a busy moment share a drain);
    while lines are left (the database is down), try again every RETRY_SECONDS."""
    left = False
    while True:
        wake.wait(timeout=RETRY_SECONDS if left else None)
        wake.clear()
        try:
            with app_connection(app):
                drain()
            left = False
            time.sleep(app.config["AUDIT_DRAIN_INTERVAL_MS"] / 1000)
        except Exception as exc:  # the database is down: the lines wait in the spool
            log.warning("audit spool not drained yet (%s: %s); retrying in %s s", type(exc).__name__, exc,
                        RETRY_SECONDS)
            left = True
