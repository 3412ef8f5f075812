"""Gateway settings read from the environment."""

from common.config import env_int

PROXIED_AREAS = {"lab": "lab_service", "pharmacy": "pharmacy_service", "billing": "billing_service"}


def settings() -> dict:
    """Return the gateway's own settings."""
    return {
        "PROXY_CONNECT_TIMEOUT_MS": env_int("PROXY_CONNECT_TIMEOUT_MS", 2000, minimum=100),
        "PROXY_READ_TIMEOUT_MS": env_int("PROXY_READ_TIMEOUT_MS", 30000, minimum=100),
        "RECORD_BILLING_TIMEOUT_MS": env_int("RECORD_BILLING_TIMEOUT_MS", 1500, minimum=100),
    }
