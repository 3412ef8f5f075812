"""Gateway settings read from the environment."""

from common.config import env_int

PROXIED_AREAS = {"lab": "lab_service", "pharmacy": "pharmacy_service", "billing": "billing_service"}


def settings() -> dict:
    """Return the gateway's own settings."""
    return {
        "PROXY_CONNECT_TIMEOUT_MS": env_int("PROXY_CONNECT_TIMEOUT_MS", 2000, minimum=100),
        "PROXY_READ_TIMEOUT_MS": env_int("PROXY_READ_TIMEOUT_MS", 30000, minimum=100),
        "RECORD_BILLING_TIMEOUT_MS": env_int("RECORD_BILLING_TIMEOUT_MS", 1500, minimum=100),
        "SIGN_IN_MAX_FAILURES": env_int("SIGN_IN_MAX_FAILURES", 5, minimum=1),
        "SIGN_IN_MAX_FAILURES_PER_ADDRESS": env_int("SIGN_IN_MAX_FAILURES_PER_ADDRESS", 20, minimum=1),
        "SIGN_IN_WINDOW_SECONDS": env_int("SIGN_IN_WINDOW_SECONDS", 900, minimum=1),
    }
