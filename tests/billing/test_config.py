"""Billing settings: strict, and production refuses to start without the payment secrets."""

import pytest

from billing_service import create_app
from common.config import ConfigError


def test_production_refuses_to_start_without_the_webhook_secrets_and_card_key(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    for name in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "BANK_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    config = {"DATABASE_URL": "sqlite:///:memory:", "JWT_SECRET": "j" * 32, "SERVICE_TOKEN": "s" * 32}

    with pytest.raises(ConfigError) as refused:
        create_app(config)

    assert all(name in str(refused.value) for name in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET",
                                                       "BANK_WEBHOOK_SECRET"))


@pytest.mark.parametrize("name,value", [("HOSPITAL_BANK_BIN", "97041"), ("HOSPITAL_BANK_ACCOUNT", "0011-0019"),
                                        ("PAYMENT_REQUEST_TTL_SECONDS", "ten"), ("BASE_SALARY_AMOUNT", "0")])
def test_a_malformed_payment_setting_stops_the_service(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError):
        create_app({"APP_ENV": "test", "DATABASE_URL": "sqlite:///:memory:"})


def test_the_demo_defaults_point_at_vietinbank_and_a_local_card_api(monkeypatch):
    monkeypatch.setenv("APP_ENV", "development")
    app = create_app({"DATABASE_URL": "sqlite:///:memory:"})
    assert (app.config["HOSPITAL_BANK_BIN"], app.config["STRIPE_API_BASE"]) == ("970415", "http://127.0.0.1:8420")
    assert app.config["BASE_SALARY_AMOUNT"] == 2_340_000 and app.config["PAYMENT_REQUEST_TTL_SECONDS"] == 900
