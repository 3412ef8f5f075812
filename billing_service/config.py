"""Billing service settings read from the environment."""

import re

from common.config import ConfigError, bhyt_facility_code, env_int, env_str, env_url

DEMO_BANK_ACCOUNT = "113366668888"  # VietinBank demo account of the hospital (not a real account)
DEMO_STRIPE_KEY = "sk_test_local_demo_only"  # accepted by localstripe; production must set its own
WEBHOOK_SECRETS = ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "BANK_WEBHOOK_SECRET")


def settings() -> dict:
    """Return the billing service's own settings."""
    bank_bin = env_str("HOSPITAL_BANK_BIN", "970415")
    if not re.fullmatch(r"\d{6}", bank_bin):
        raise ConfigError(f"HOSPITAL_BANK_BIN must be 6 digits, got {bank_bin!r}")
    account = env_str("HOSPITAL_BANK_ACCOUNT", DEMO_BANK_ACCOUNT)
    if not re.fullmatch(r"[0-9A-Za-z]{1,19}", account):
        raise ConfigError("HOSPITAL_BANK_ACCOUNT must be 1 to 19 letters or digits")
    production = env_str("APP_ENV", "production") == "production"
    return {
        "HOSPITAL_BANK_BIN": bank_bin,
        "HOSPITAL_BANK_ACCOUNT": account,
        "HOSPITAL_ACCOUNT_NAME": env_str("HOSPITAL_ACCOUNT_NAME", "BENH VIEN DA KHOA TINH"),
        "PAYMENT_REQUEST_TTL_SECONDS": env_int("PAYMENT_REQUEST_TTL_SECONDS", 900, minimum=30),
        "STRIPE_API_BASE": env_url("STRIPE_API_BASE", "http://127.0.0.1:8420"),
        "STRIPE_SECRET_KEY": env_str("STRIPE_SECRET_KEY", None if production else DEMO_STRIPE_KEY),
        "STRIPE_WEBHOOK_SECRET": env_str("STRIPE_WEBHOOK_SECRET"),
        "BANK_WEBHOOK_SECRET": env_str("BANK_WEBHOOK_SECRET"),
        "WEBHOOK_TOLERANCE_SECONDS": env_int("WEBHOOK_TOLERANCE_SECONDS", 300, minimum=1),
        "BASE_SALARY_AMOUNT": env_int("BASE_SALARY_AMOUNT", 2_340_000, minimum=1),
        "BHYT_FACILITY_CODE": bhyt_facility_code(),
        "BHYT_FACILITY_NAME": env_str("BHYT_FACILITY_NAME", "Bệnh viện Đa khoa tỉnh"),
    }
