"""Lab background jobs (plain functions taking ids, run in the lab app wherever they run)."""

from common.queue import enqueue, service_job
from lab_service import services
from lab_service.services.alert_requests import take_alert_requests


@service_job("lab_service")
def evaluate_alerts(reagent_id: int) -> int:
    """Job: open or close the alerts of one reagent; return how many opened."""
    return len(services.evaluate_reagent_alerts(reagent_id))


@service_job("lab_service")
def check_all_alerts() -> int:
    """Periodic job: re-check every reagent, since expiry dates come closer without any request."""
    return services.check_every_reagent()


def enqueue_alert_checks(response):
    """After a successful request, queue the alert check of every reagent it moved (the commit is done)."""
    reagent_ids = take_alert_requests()
    if reagent_ids and response.status_code < 400:
        for reagent_id in reagent_ids:
            enqueue(evaluate_alerts, reagent_id)
    return response
