"""docker-compose.yml describes the production-like deployment, configured only through the environment."""

import os
import shutil
import subprocess

import pytest
import yaml

from tests.support import PROJECT_ROOT

APP_SERVICES = ("gateway", "lab_service", "pharmacy_service", "billing_service", "worker", "sweeper")
SECRETS = {"POSTGRES_PASSWORD": "pw-0123456789abcdef", "JWT_SECRET": "j" * 40, "SERVICE_TOKEN": "s" * 40,
           "STRIPE_SECRET_KEY": "sk_test_123", "STRIPE_WEBHOOK_SECRET": "whsec_" + "w" * 32,
           "BANK_WEBHOOK_SECRET": "b" * 40, "HOSPITAL_BANK_ACCOUNT": "0011001932418"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())


def test_the_deployment_has_every_part(compose):
    assert {"postgres", "redis", "stripe-mock", *APP_SERVICES} <= set(compose["services"])


def test_secrets_come_from_the_environment_only(compose):
    for name in APP_SERVICES:
        environment = compose["services"][name]["environment"]
        for key in ("JWT_SECRET", "SERVICE_TOKEN", "STRIPE_WEBHOOK_SECRET", "BANK_WEBHOOK_SECRET"):
            assert environment[key].startswith("${") and ":?" in environment[key], (name, key)
        assert environment["APP_ENV"] == "production"


def docker_compose_config(env_extra: dict) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/tmp", **env_extra}
    return subprocess.run(["docker-compose", "-f", str(PROJECT_ROOT / "docker-compose.yml"), "config", "-q"],
                          env=env, capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=60)


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose (Debian package) not installed")
def test_docker_compose_accepts_the_file_with_secrets_set():
    result = docker_compose_config(SECRETS)
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose (Debian package) not installed")
def test_docker_compose_refuses_the_file_without_secrets():
    result = docker_compose_config({k: v for k, v in SECRETS.items() if k != "JWT_SECRET"})
    assert result.returncode != 0 and "JWT_SECRET" in result.stderr
