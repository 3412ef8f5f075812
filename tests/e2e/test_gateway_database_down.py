"""Logged tests while the gateway's own database is down, with real processes on the run's engine: every test is
answered 201 or 503 (never 500); a 503 means nothing was recorded, or a replay with the same Idempotency-Key gives
the 201; once the database is back every logged test has exactly one audit line and one charge on its visit."""

import secrets
import sqlite3
from contextlib import closing, contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests

from bench.harness import start_stack
from tests.support import pg_admin, wait_until

TIMEOUT = 30
LOGGED = 12


@pytest.fixture(scope="module")
def stack(engine):
    with start_stack(engine=engine, env_overrides={"OUTBOX_MAX_BACKOFF_SECONDS": "1"}) as running:
        yield running


def sign_in(gateway: str, username: str) -> dict:
    response = requests.post(f"{gateway}/api/v1/auth/token", json={"username": username, "password": "demo"},
                             timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@contextmanager
def gateway_database_down(stack, engine: str):
    """Take the gateway's database away from it: PostgreSQL refuses its connections (and cuts those it has);
    SQLite's file is held by another writer (BEGIN IMMEDIATE) until the block ends."""
    if engine == "postgres":
        name = urlparse(stack.env["GATEWAY_DATABASE_URL"]).path.lstrip("/")
        with closing(pg_admin()) as admin, admin.cursor() as cursor:
            cursor.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        try:
            yield
        finally:
            with closing(pg_admin()) as admin, admin.cursor() as cursor:
                cursor.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    else:
        holder = sqlite3.connect(Path(stack.env["VAR_DIR"]) / "gateway.db", isolation_level=None, timeout=30)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()


def test_logged_tests_while_the_gateway_database_is_down_are_answered_201_or_503_and_audited_once(stack, engine):
    gateway = stack["gateway"]
    lab_tech, admin, finance = sign_in(gateway, "labtech"), sign_in(gateway, "admin"), sign_in(gateway, "finance")
    visits = requests.get(f"{gateway}/api/v1/encounters?status=open", headers=lab_tech, timeout=TIMEOUT).json()
    run = secrets.token_hex(3)
    bodies = [{"encounter_id": str(visits[n % len(visits)]["id"]), "patient_id": str(visits[n % len(visits)]
               ["patient_id"]), "test_code": "GLU", "analyzer_code": "AU480",
               "results": [{"loinc": "2345-7", "value": "5.6", "unit": "mmol/L", "flag": "N"}]}
              for n in range(LOGGED)]
    keys = [f"down-{run}-{n}" for n in range(LOGGED)]
    long_request_id = "r" * 100  # longer than the audit column: it used to turn a stored test into a 500

    answers = {}
    with gateway_database_down(stack, engine):
        for n, (key, body) in enumerate(zip(keys, bodies, strict=True)):
            headers = {**lab_tech, "Idempotency-Key": key, **({"X-Request-ID": long_request_id} if n < 3 else {})}
            response = requests.post(f"{gateway}/api/v1/lab/test-runs", json=body, headers=headers, timeout=TIMEOUT)
            answers[key] = response
    assert {r.status_code for r in answers.values()} <= {201, 503}, [r.text for r in answers.values()]
    assert all(len(r.headers["X-Request-ID"]) <= 64 for r in answers.values())

    for key, response in answers.items():  # a 503 either stored nothing or its replay gives the 201
        if response.status_code == 503:
            replay = requests.post(f"{gateway}/api/v1/lab/test-runs", json=bodies[keys.index(key)],
                                   headers={**lab_tech, "Idempotency-Key": key}, timeout=TIMEOUT)
            assert replay.status_code == 201, replay.text
            answers[key] = replay
    run_ids = {r.json()["id"] for r in answers.values()}
    assert len(run_ids) == LOGGED

    def audited() -> list[dict]:
        lines = requests.get(f"{gateway}/api/v1/audit?actor=labtech&limit=1000", headers=admin,
                             timeout=TIMEOUT).json()
        lines = [line for line in lines if line["action"] == "POST /api/v1/lab/test-runs"]
        return lines if len(lines) >= LOGGED else None

    lines = wait_until(audited, timeout=60, interval=0.5, message="the spooled audit lines in the database")
    assert len(lines) == LOGGED and {line["status_code"] for line in lines} == {201}
    assert all(len(line["request_id"]) <= 64 and line["request_id"] != long_request_id for line in lines)

    def charged() -> list[dict]:
        charges = requests.get(f"{gateway}/api/v1/charges?limit=1000", headers=finance, timeout=TIMEOUT).json()
        ours = [c for c in charges if c["source"] == "lab" and int(c["source_id"]) in run_ids]
        return ours if len(ours) >= LOGGED else None

    charges = wait_until(charged, timeout=60, interval=0.5, message="every logged test charged once")
    assert len(charges) == LOGGED and len({c["key"] for c in charges}) == LOGGED
