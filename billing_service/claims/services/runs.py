"""Reconciliation runs: a month reconciled in the background, its progress and result kept for the caller to poll."""

import json

from billing_service.claims.models import ReconciliationRun
from billing_service.claims.services.periods import period_bounds
from billing_service.claims.services.report import reconcile
from billing_service.models import db
from common.errors import get_or_404
from common.models import utcnow
from common.queue import after_commit


def start_reconciliation_run(period: str, actor: str) -> ReconciliationRun:
    """Queue a reconciliation of the month and return the run to poll."""
    period_bounds(period)  # refuse a bad month now, not in the worker
    with db.atomic():
        run = ReconciliationRun.create(period=period, requested_by=actor)
        after_commit(db, "billing_service.claims.jobs.reconcile_period", run.id)  # the worker must find the run
    return ReconciliationRun.get_by_id(run.id)


def _record_progress(run_id: int):
    def progress(step: str, percent: int) -> None:
        ReconciliationRun.update(step=step, progress=percent).where(ReconciliationRun.id == run_id).execute()

    return progress


def compute_run(run_id: int) -> str:
    """Compute a queued run, recording progress as each check finishes; return its final state."""
    claimed = (ReconciliationRun.update(state="running", started_at=utcnow(), step="starting", error=None)
               .where((ReconciliationRun.id == run_id) & ReconciliationRun.state.in_(("queued", "failed")))
               .execute())
    run = ReconciliationRun.get_or_none(ReconciliationRun.id == run_id)
    if not claimed or run is None:
        return run.state if run else "missing"
    try:
        result = reconcile(run.period, _record_progress(run_id))
    except Exception as exc:  # recorded for the caller, then raised so the queue keeps the failure too
        ReconciliationRun.update(state="failed", error=f"{type(exc).__name__}: {exc}"[:500],
                                 finished_at=utcnow()).where(ReconciliationRun.id == run_id).execute()
        raise
    ReconciliationRun.update(state="done", progress=100, step="done", finished_at=utcnow(),
                             result_json=json.dumps(result, ensure_ascii=False)).where(
        ReconciliationRun.id == run_id).execute()
    return "done"


def get_reconciliation_run(run_id: int) -> ReconciliationRun:
    """Return a run or raise 404."""
    return get_or_404(ReconciliationRun, ReconciliationRun.id == run_id,
                      detail=f"No reconciliation run {run_id}", code="RECONCILIATION_RUN_NOT_FOUND")
