"""Ask for reagents' alerts to be checked right after the commit that moved them."""

from flask import current_app

from common.queue import after_commit
from lab_service.models import db


def request_alert_check(*reagent_ids: int) -> None:
    """Re-evaluate these reagents' alerts once the current transaction has committed (a burst shares one check)."""
    for reagent_id in sorted(set(reagent_ids)):
        after_commit(db, "lab_service.jobs.evaluate_alerts", reagent_id,
                     coalesce_ms=current_app.config["ALERT_CHECK_INTERVAL_MS"])
