"""Background jobs of the claims area: plain functions taking ids, run in the billing app wherever they run."""

from billing_service.claims.services import runs
from common.queue import service_job


@service_job("billing_service")
def reconcile_period(run_id: int) -> str:
    """Job: compute reconciliation run `run_id`."""
    return runs.compute_run(run_id)
