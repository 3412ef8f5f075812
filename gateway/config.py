"""Gateway settings read from the environment."""

from common.config import bhyt_facility_code, env_bool, env_int, env_str, env_url

PROXIED_AREAS = {"lab": "lab_service", "pharmacy": "pharmacy_service", "billing": "billing_service"}


def settings() -> dict:
    """Return the gateway's own settings."""
    return {
        "PROXY_CONNECT_TIMEOUT_MS": env_int("PROXY_CONNECT_TIMEOUT_MS", 2000, minimum=100),
        "PROXY_READ_TIMEOUT_MS": env_int("PROXY_READ_TIMEOUT_MS", 30000, minimum=100),
        "RECORD_BILLING_TIMEOUT_MS": env_int("RECORD_BILLING_TIMEOUT_MS", 1500, minimum=100),
        "BHYT_FACILITY_CODE": bhyt_facility_code(),
        # The BHYT assessment portal that takes check-in records; unset: they are kept, listed, and sent later.
        "BHYT_PORTAL_URL": env_url("BHYT_PORTAL_URL"),
        "BHYT_PORTAL_USERNAME": env_str("BHYT_PORTAL_USERNAME"),
        "BHYT_PORTAL_PASSWORD": env_str("BHYT_PORTAL_PASSWORD"),
        # the screens (gateway/screens): a signed-in page is signed out after this long without a user action
        "SESSION_IDLE_MINUTES": env_int("SESSION_IDLE_MINUTES", 30, minimum=1),
        "SESSION_COOKIE_SECURE": env_bool("SESSION_COOKIE_SECURE", False),  # true behind HTTPS
        "SCREENS_POLL_SECONDS": env_int("SCREENS_POLL_SECONDS", 5, minimum=1),
        # the hospital's name on the cashier's customer display and receipts (billing's BHYT_FACILITY_NAME)
        "HOSPITAL_NAME": env_str("BHYT_FACILITY_NAME", "Bệnh viện Đa khoa tỉnh"),
        # drains of the audit spool start at least this far apart, so a busy moment's lines go in a few statements
        "AUDIT_DRAIN_INTERVAL_MS": env_int("AUDIT_DRAIN_INTERVAL_MS", 500, minimum=0),
        # how long a process trusts what it read of an account (disabled, role) before reading it again
        "STANDING_CACHE_SECONDS": env_int("STANDING_CACHE_SECONDS", 5, minimum=0),
        "SIGN_IN_MAX_FAILURES": env_int("SIGN_IN_MAX_FAILURES", 5, minimum=1),
        "SIGN_IN_MAX_FAILURES_PER_ADDRESS": env_int("SIGN_IN_MAX_FAILURES_PER_ADDRESS", 20, minimum=1),
        "SIGN_IN_WINDOW_SECONDS": env_int("SIGN_IN_WINDOW_SECONDS", 900, minimum=1),
        # the merged /openapi.json (gateway/openapi.py): how long a service's document is kept, how long to wait
        "OPENAPI_CACHE_SECONDS": env_int("OPENAPI_CACHE_SECONDS", 60, minimum=0),
        "OPENAPI_FETCH_TIMEOUT_MS": env_int("OPENAPI_FETCH_TIMEOUT_MS", 2000, minimum=100),
    }
