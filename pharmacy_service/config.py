"""Pharmacy service settings read from the environment."""

from common.config import env_int


def settings() -> dict:
    """Return the pharmacy service's own settings."""
    return {
        "PHARMACY_EXPIRY_WARNING_DAYS": env_int("PHARMACY_EXPIRY_WARNING_DAYS", 90, minimum=1),
        "PHARMACY_EXPIRY_URGENT_DAYS": env_int("PHARMACY_EXPIRY_URGENT_DAYS", 30, minimum=1),
        "PHARMACY_ALERT_SCAN_SECONDS": env_int("PHARMACY_ALERT_SCAN_SECONDS", 600, minimum=0),
    }
