"""Gateway settings read from the environment."""

from common.config import env_bool, env_int

PROXIED_AREAS = {"lab": "lab_service", "pharmacy": "pharmacy_service", "billing": "billing_service"}


def settings() -> dict:
    """Return the gateway's own settings."""
    return {
        "PROXY_CONNECT_TIMEOUT_MS": env_int("PROXY_CONNECT_TIMEOUT_MS", 2000, minimum=100),
        "PROXY_READ_TIMEOUT_MS": env_int("PROXY_READ_TIMEOUT_MS", 30000, minimum=100),
        "RECORD_BILLING_TIMEOUT_MS": env_int("RECORD_BILLING_TIMEOUT_MS", 1500, minimum=100),
        # the screens (gateway/screens): a signed-in page is signed out after this long without a user action
        "SESSION_IDLE_MINUTES": env_int("SESSION_IDLE_MINUTES", 30, minimum=1),
        "SESSION_COOKIE_SECURE": env_bool("SESSION_COOKIE_SECURE", False),  # true behind HTTPS
        "SCREENS_POLL_SECONDS": env_int("SCREENS_POLL_SECONDS", 5, minimum=1),
    }
