"""Under `make run` a process that dies is restarted, with a line saying what died, and the others keep running."""

import os
import signal

import requests

from tests.support import healthy, start_make_run, stop_process, wait_for_every_port_to_stop, wait_until


def pid_of(scratch_dir, name: str) -> int:
    return int((scratch_dir / "run" / f"{name}.pid").read_text())


def test_a_killed_service_is_restarted_and_the_others_never_stop(scratch_dir):
    process, ports, log_path = start_make_run(scratch_dir)
    try:
        gateway = f"http://127.0.0.1:{ports['gateway']}"
        lab_pid, first_gateway_pid = pid_of(scratch_dir, "lab_service"), pid_of(scratch_dir, "gateway")

        os.kill(first_gateway_pid, signal.SIGKILL)  # the gateway's gunicorn master dies without a word

        wait_until(lambda: "gateway was killed by signal 9; restarting it" in log_path.read_text(), timeout=30,
                   message="the supervisor's line about the gateway")
        wait_until(lambda: pid_of(scratch_dir, "gateway") != first_gateway_pid and healthy(gateway), timeout=60,
                   message=f"the gateway back (log: {log_path.read_text()[-3000:]})")
        assert pid_of(scratch_dir, "lab_service") == lab_pid  # never stopped
        assert all(healthy(f"http://127.0.0.1:{port}") for port in ports.values())
        token = requests.post(f"{gateway}/api/v1/auth/token", json={"username": "labhead", "password": "demo"},
                              timeout=10)
        assert token.status_code == 200
        assert "restarted gateway" in log_path.read_text()
    finally:
        stop_process(process)
    wait_for_every_port_to_stop(ports)
