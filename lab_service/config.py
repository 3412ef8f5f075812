"""Lab service settings read from the environment."""

from common.config import env_int, env_url


def settings() -> dict:
    """Return the lab service's own settings."""
    return {
        "LAB_COVER_DAYS_ALERT": env_int("LAB_COVER_DAYS_ALERT", 3, minimum=1),
        "LAB_USAGE_WINDOW_DAYS": env_int("LAB_USAGE_WINDOW_DAYS", 7, minimum=1),
        "LAB_EXPIRY_WARNING_DAYS": env_int("LAB_EXPIRY_WARNING_DAYS", 30, minimum=1),
        "LAB_ALERT_WEBHOOK_URL": env_url("LAB_ALERT_WEBHOOK_URL"),
        "LAB_FULL_CHECK_SECONDS": env_int("LAB_FULL_CHECK_SECONDS", 60, minimum=1),
    }
