"""Pharmacy background jobs: plain functions taking ids, run in the service's app context wherever they run."""

import time

from flask import current_app

from common.queue import service_job
from pharmacy_service.services import alerts

_last_scan: dict[str, float] = {}


@service_job("pharmacy_service")
def check_drug_alerts(drug_ids: list[int]) -> dict[str, int]:
    """Job: re-evaluate the alerts of these drugs after a stock change."""
    return alerts.evaluate_drug_alerts(drug_ids)


@service_job("pharmacy_service")
def scan_expiry_alerts() -> dict[str, int] | None:
    """Periodic job: evaluate every drug's alerts, at most once per PHARMACY_ALERT_SCAN_SECONDS."""
    now = time.monotonic()
    every = current_app.config["PHARMACY_ALERT_SCAN_SECONDS"]
    database = current_app.config["DATABASE_URL"]
    if database in _last_scan and now - _last_scan[database] < every:
        return None
    _last_scan[database] = now
    return alerts.evaluate_all_alerts()
