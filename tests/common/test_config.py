"""Settings are read strictly: bad values and missing production secrets stop the process at start."""

import pytest

from common.config import ConfigError, base_settings, database_url_for, env_bool, env_int, env_url
from gateway import create_app


@pytest.mark.parametrize("reader,value", [
    (lambda env: env_int("X", 1, env=env), "ten"),
    (lambda env: env_int("X", 1, minimum=5, env=env), "3"),
    (lambda env: env_bool("X", False, env=env), "maybe"),
    (lambda env: env_url("X", env=env), "ftp://example"),
])
def test_a_malformed_setting_is_refused(reader, value):
    with pytest.raises(ConfigError):
        reader({"X": value})


def test_readers_fall_back_to_defaults_and_parse_good_values():
    assert env_int("X", 7, env={}) == 7 and env_int("X", 7, env={"X": " 42 "}) == 42
    assert env_bool("X", False, env={"X": "yes"}) is True
    assert env_url("X", env={"X": "http://127.0.0.1:8001/"}) == "http://127.0.0.1:8001"


def test_database_urls_come_per_service_or_from_a_shared_server():
    shared = {"DATABASE_URL": "postgresql://app@db:5432/postgres"}
    assert database_url_for("lab_service", env=shared) == "postgresql://app@db:5432/lab_service"
    own = {**shared, "LAB_SERVICE_DATABASE_URL": "postgresql://lab@db2/lab"}
    assert database_url_for("lab_service", env=own) == "postgresql://lab@db2/lab"
    assert database_url_for("lab_service", env={"VAR_DIR": "/srv/h"}) == "sqlite:////srv/h/lab_service.db"


def test_an_unknown_app_env_is_refused():
    with pytest.raises(ConfigError):
        base_settings("gateway", env={"APP_ENV": "staging-ish"})


@pytest.mark.parametrize("secrets", [
    {},
    {"JWT_SECRET": "change-me", "SERVICE_TOKEN": "a-long-enough-service-token"},
    {"JWT_SECRET": "short", "SERVICE_TOKEN": "a-long-enough-service-token"},
])
def test_production_refuses_to_start_without_real_secrets(monkeypatch, secrets):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.delenv("JWT_SECRET", raising=False)
    monkeypatch.delenv("SERVICE_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="Refusing to start"):
        create_app({"DATABASE_URL": "sqlite:///:memory:", **secrets})


def test_production_starts_with_real_secrets(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    app = create_app({"DATABASE_URL": "sqlite:///:memory:", "JWT_SECRET": "x" * 40, "SERVICE_TOKEN": "y" * 40})
    assert app.config["APP_ENV"] == "production"


def test_importing_a_service_does_nothing_until_create_app():
    import subprocess
    import sys

    code = ("import sys, gateway, lab_service, pharmacy_service, billing_service; "
            "print(sorted(m for m in ('flask', 'peewee', 'common.app', 'common.config') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={"PATH": "/usr/bin:/bin", "APP_ENV": "production"})
    assert result.stdout.strip() == "[]"
