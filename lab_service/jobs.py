"""Lab background jobs (plain functions taking ids, run in the lab app wherever they run)."""

import time

from flask import current_app

from common.queue import enqueue_coalesced, service_job
from lab_service import services
from lab_service.services.alert_requests import take_alert_requests

LAST_FULL_CHECK = "lab_alerts_full_check_at"


@service_job("lab_service")
def evaluate_alerts(reagent_id: int) -> int:
    """Job: open or close the alerts of one reagent; return how many opened."""
    return len(services.evaluate_reagent_alerts(reagent_id))


@service_job("lab_service")
def check_all_alerts() -> int:
    """Periodic job: re-check every reagent (expiry dates come closer without any request), once a minute at most."""
    now, last = time.monotonic(), current_app.extensions.get(LAST_FULL_CHECK)
    if last is not None and now - last < current_app.config["LAB_FULL_CHECK_SECONDS"]:
        return 0
    current_app.extensions[LAST_FULL_CHECK] = now
    return services.check_every_reagent()


def enqueue_alert_checks(response):
    """After a successful request, queue the alert check of every reagent it moved (the commit is done)."""
    reagent_ids = take_alert_requests()
    if reagent_ids and response.status_code < 400:
        interval = current_app.config["ALERT_CHECK_INTERVAL_MS"]
        for reagent_id in reagent_ids:  # a burst of commits on one reagent shares one check
            enqueue_coalesced(f"lab-alerts:{reagent_id}", interval, evaluate_alerts, reagent_id)
    return response
