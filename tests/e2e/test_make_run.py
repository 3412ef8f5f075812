"""`make run` starts the four services, the sweeper and (with Redis) the worker; all answer /healthz."""

import requests

from tests.support import start_make_run, stop_process, wait_for_every_port_to_stop


def test_make_run_brings_every_service_up_with_demo_logins(scratch_dir):
    process, ports, log_path = start_make_run(scratch_dir)
    try:
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
    first = next(line for line in output.splitlines() if line.strip() and not line.startswith(("make", ".venv")))
    assert first.startswith(f"Sign in: http://127.0.0.1:{ports['gateway']}/"), first  # the sign-in URL comes first
    assert "Traceback" not in output and "Control server error" not in output
    assert (scratch_dir / "secrets.env").exists() and (scratch_dir / "gateway.db").exists()
    wait_for_every_port_to_stop(ports)
