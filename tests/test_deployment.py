"""docker-compose.yml describes the production-like deployment, configured only through the environment."""

import os
import shutil
import subprocess
import sys

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


def test_every_long_running_process_restarts_and_has_a_health_check(compose):
    for name in ("postgres", "redis", *APP_SERVICES):
        service = compose["services"][name]
        assert service["restart"] in ("unless-stopped", "always"), name
        assert service["healthcheck"]["test"], name
    for name in APP_SERVICES:
        assert compose["services"][name]["healthcheck"]["test"][-3:] == ["manage", "health", name]
        assert compose["services"][name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert compose["services"]["migrate"]["restart"] == "on-failure"


def test_the_health_command_tells_a_working_service_from_a_stopped_one(make_app, live_server, service_ports,
                                                                      scratch_dir):
    live_server(make_app("lab_service"))
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/tmp", "APP_ENV": "test",
           "VAR_DIR": str(scratch_dir),
           **{f"{s.upper()}_PORT": str(p) for s, p in service_ports.items()}}

    def health(name: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "manage", "health", name], env=env, cwd=PROJECT_ROOT,
                              capture_output=True, text=True, timeout=60)

    working, stopped = health("lab_service"), health("billing_service")
    assert working.returncode == 0 and "healthy" in working.stdout
    assert stopped.returncode == 1 and "billing_service: unhealthy" in stopped.stderr
    assert health("sweeper").returncode == 1  # no sweeper ran on this host
