"""Secrets: production refuses public, short or shared ones; development generates random ones, never a constant."""

import secrets
import subprocess

import pytest

from common.config import ConfigError
from gateway import create_app
from tests.support import JWT_SECRET, PROJECT_ROOT, PYTHON, SERVICE_TOKEN

MEMORY = {"DATABASE_URL": "sqlite:///:memory:"}


def production(monkeypatch, **secret_values):
    monkeypatch.setenv("APP_ENV", "production")
    for name in ("JWT_SECRET", "SERVICE_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return create_app({**MEMORY, **secret_values})


@pytest.mark.parametrize("values,reason", [
    ({"JWT_SECRET": "change-me-development-only-not-for-production", "SERVICE_TOKEN": secrets.token_urlsafe(32)},
     "JWT_SECRET is a value written in the source code"),
    ({"JWT_SECRET": JWT_SECRET, "SERVICE_TOKEN": secrets.token_urlsafe(32)},
     "JWT_SECRET is a value written in the source code"),
    ({"JWT_SECRET": "k" * 31, "SERVICE_TOKEN": secrets.token_urlsafe(32)}, "JWT_SECRET is shorter than 32 bytes"),
    ({"JWT_SECRET": "one-secret-for-everything-" + "z" * 20, "SERVICE_TOKEN": "one-secret-for-everything-" + "z" * 20},
     "SERVICE_TOKEN is the same as JWT_SECRET"),
    ({"SERVICE_TOKEN": secrets.token_urlsafe(32)}, "JWT_SECRET is not set"),
])
def test_production_refuses_a_secret_that_is_public_short_or_shared(monkeypatch, values, reason):
    with pytest.raises(ConfigError, match="Refusing to start") as refused:
        production(monkeypatch, **values)
    assert reason in str(refused.value)


def test_production_starts_with_two_different_random_secrets(monkeypatch):
    app = production(monkeypatch, JWT_SECRET=secrets.token_urlsafe(32), SERVICE_TOKEN=secrets.token_urlsafe(32))
    assert app.config["APP_ENV"] == "production"


def test_development_without_secrets_generates_random_ones_shared_by_the_hosts_services(monkeypatch, scratch_dir):
    from common.auth import issue_token
    from lab_service import create_app as create_lab

    monkeypatch.setenv("APP_ENV", "development")
    monkeypatch.setenv("VAR_DIR", str(scratch_dir))
    for name in ("JWT_SECRET", "SERVICE_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    gateway, lab = create_app(MEMORY), create_lab(MEMORY)

    assert gateway.config["JWT_SECRET"] == lab.config["JWT_SECRET"]  # a token from the gateway works at the lab
    assert gateway.config["SERVICE_TOKEN"] == lab.config["SERVICE_TOKEN"] != gateway.config["JWT_SECRET"]
    assert len(gateway.config["JWT_SECRET"]) >= 32 and "change-me" not in gateway.config["JWT_SECRET"]
    assert gateway.config["JWT_SECRET"] in (scratch_dir / "secrets.env").read_text()
    public = issue_token("change-me-development-only-not-for-production", "mallory", "admin", 600)
    response = lab.test_client().get("/api/v1/lab/reagents", headers={"Authorization": f"Bearer {public}"})
    assert response.status_code == 401  # the old constant signs nothing any more


def manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "-m", "manage", *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def production_gateway_env(database_urls, make_app, scratch_dir):
    make_app("gateway")  # empties the run's gateway database
    return {"PATH": "/usr/bin:/bin", "HOME": str(scratch_dir), "VAR_DIR": str(scratch_dir), "APP_ENV": "production",
            "GATEWAY_DATABASE_URL": database_urls["gateway"], "JWT_SECRET": JWT_SECRET + "-prod",
            "SERVICE_TOKEN": SERVICE_TOKEN + "-prod", "LOG_LEVEL": "WARNING"}


def test_seed_refuses_to_create_demo_users_in_production(production_gateway_env, make_app):
    # (the secrets above contain test values, so the gateway itself would refuse them; seed stops before)
    result = manage("seed", "gateway", env=production_gateway_env)

    assert result.returncode != 0 and "refusing" in result.stderr and "create-admin" in result.stderr
    gateway = make_app("gateway").test_client()
    assert gateway.post("/api/v1/auth/token", json={"username": "admin", "password": "demo"}).status_code == 401


def test_the_first_administrator_is_created_with_manage_create_admin(production_gateway_env, make_app):
    env = {**production_gateway_env, "JWT_SECRET": secrets.token_urlsafe(32),
           "SERVICE_TOKEN": secrets.token_urlsafe(32), "ADMIN_PASSWORD": "Bv-DaKhoa-2026-quan-tri"}

    created = manage("create-admin", "quantri.nguyen", "--full-name", "Nguyễn Quản Trị", env=env)
    again = manage("create-admin", "quantri.nguyen", env=env)
    weak = manage("create-admin", "quantri.tran", env={**env, "ADMIN_PASSWORD": "demo"})

    assert created.returncode == 0, created.stderr
    assert again.returncode != 0 and "already exists" in again.stderr
    assert weak.returncode != 0 and "at least 12" in weak.stderr
    gateway = make_app("gateway").test_client()
    signed_in = gateway.post("/api/v1/auth/token",
                             json={"username": "quantri.nguyen", "password": "Bv-DaKhoa-2026-quan-tri"})
    assert signed_in.status_code == 200 and signed_in.get_json()["role"] == "admin"
