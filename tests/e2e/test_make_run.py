"""`make run` starts the four services, the sweeper and (with Redis) the worker; all answer /healthz."""

import requests

from tests.support import PROJECT_ROOT, free_port, healthy, start_process, stop_process, wait_until

SERVICES = ("gateway", "lab_service", "pharmacy_service", "billing_service")


def test_make_run_brings_every_service_up_with_demo_logins(scratch_dir):
    ports = {service: free_port() for service in SERVICES}
    env = {"PATH": f"{PROJECT_ROOT / '.venv' / 'bin'}:/usr/local/bin:/usr/bin:/bin", "VAR_DIR": str(scratch_dir),
           "WEB_CONCURRENCY": "1", "HOME": str(scratch_dir), "LOG_LEVEL": "WARNING"}
    env.update({f"{service.upper()}_PORT": str(port) for service, port in ports.items()})
    log_path = scratch_dir / "make-run.log"
    process = start_process(["make", "-s", "run"], env, log_path)
    try:
        for service, port in ports.items():
            wait_until(lambda port=port: healthy(f"http://127.0.0.1:{port}"), timeout=90,
                       message=f"{service} /healthz (log: {log_path.read_text()[-3000:]})")
        gateway = f"http://127.0.0.1:{ports['gateway']}"
        token = requests.post(f"{gateway}/api/v1/auth/token", json={"username": "labhead", "password": "demo"},
                              timeout=10)
        assert token.status_code == 200
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        through = requests.get(f"{gateway}/api/v1/lab/outbox", headers=headers, timeout=10)
        assert through.status_code == 200
        assert requests.get(f"{gateway}/openapi.json", timeout=10).json()["info"]["title"] == "Hospital gateway"
    finally:
        stop_process(process)
    output = log_path.read_text()
    assert "Demo logins" in output and "http://127.0.0.1:" in output
    assert (scratch_dir / "secrets.env").exists() and (scratch_dir / "gateway.db").exists()
    for port in ports.values():
        assert not healthy(f"http://127.0.0.1:{port}"), "every process stops with make run"
