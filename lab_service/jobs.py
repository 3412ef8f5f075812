"""Lab background jobs (plain functions taking ids, run in the lab app wherever they run)."""

import time

from flask import current_app

from common.queue import service_job
from lab_service import services

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
