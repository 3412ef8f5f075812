"""Lab background jobs (plain functions taking ids, run in the lab app wherever they run)."""

import threading
import time

from flask import current_app

from common.queue import enqueue, service_job
from lab_service import services
from lab_service.services.alert_requests import take_alert_requests

PENDING_CHECKS = "lab_alert_checks_pending"
LAST_FULL_CHECK = "lab_alerts_full_check_at"
_pending_lock = threading.Lock()


@service_job("lab_service")
def evaluate_alerts(reagent_id: int) -> int:
    """Job: open or close the alerts of one reagent; return how many opened."""
    current_app.extensions.get(PENDING_CHECKS, set()).discard(reagent_id)  # commits from now on queue a new check
    return len(services.evaluate_reagent_alerts(reagent_id))


@service_job("lab_service")
def check_all_alerts() -> int:
    """Periodic job: re-check every reagent (expiry dates come closer without any request), once a minute at most."""
    now, last = time.monotonic(), current_app.extensions.get(LAST_FULL_CHECK)
    if last is not None and now - last < current_app.config["LAB_FULL_CHECK_SECONDS"]:
        return 0
    current_app.extensions[LAST_FULL_CHECK] = now
    return services.check_every_reagent()


def _already_queued(reagent_id: int) -> bool:
    """Coalesce in-process checks: one queued check per reagent covers every commit made before it starts."""
    if current_app.config.get("REDIS_URL"):
        return False  # rq workers run in other processes; let each commit queue its own check
    with _pending_lock:
        pending = current_app.extensions.setdefault(PENDING_CHECKS, set())
        if reagent_id in pending:
            return True
        pending.add(reagent_id)
        return False


def enqueue_alert_checks(response):
    """After a successful request, queue the alert check of every reagent it moved (the commit is done)."""
    reagent_ids = take_alert_requests()
    if reagent_ids and response.status_code < 400:
        for reagent_id in reagent_ids:
            if not _already_queued(reagent_id):
                enqueue(evaluate_alerts, reagent_id)
    return response
