"""A fault is a 503 problem with Retry-After, never a 500: a database that is down or busy, Redis, another service."""

import sqlite3
from contextlib import closing

import pytest

from tests.support import bearer, create_pg_database, drop_pg_database, free_port, pg_admin, unique_name

REAGENT = {"code": "GLU-R1", "name": "Glucose GOD-PAP R1", "manufacturer": "Roche", "base_unit": "uL"}


def assert_fault(response, code: str) -> dict:
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.content_type == "application/problem+json"
    assert int(response.headers["Retry-After"]) > 0
    body = response.get_json()
    assert body["code"] == code and body["status"] == 503
    assert body["title"] != "Bad request" and "Traceback" not in str(body)
    return body


def test_a_lab_whose_postgresql_server_is_gone_answers_503_database_unavailable(make_app):
    make_app("lab_service")  # the run's lab database is emptied by the first app, not by this one
    lab = make_app("lab_service", DATABASE_URL=f"postgresql://postgres@127.0.0.1:{free_port()}/lab_service")
    client = lab.test_client()

    problem = assert_fault(client.get("/api/v1/lab/reagents", headers=bearer("lab_head")), "DATABASE_UNAVAILABLE")
    assert problem["title"] == "The database is not reachable"
    assert_fault(client.post("/api/v1/lab/reagents", json=REAGENT, headers=bearer("lab_head")), "DATABASE_UNAVAILABLE")
    health = client.get("/healthz")
    assert health.status_code == 503 and health.get_json()["code"] == "UNHEALTHY" and health.headers["Retry-After"]


def test_a_lab_whose_database_stops_taking_connections_answers_503_then_recovers(engine, make_app):
    if engine != "postgres":
        pytest.skip("PostgreSQL connections; the SQLite run checks a locked database file")
    from common.db import run_migrations
    from tests.support import service_module

    name = unique_name("fault")
    url = create_pg_database(name)
    try:
        lab = make_app("lab_service", DATABASE_URL=url)
        run_migrations(lab.extensions["database"], service_module("lab_service").MIGRATIONS_DIR)
        client = lab.test_client()
        assert client.post("/api/v1/lab/reagents", json=REAGENT, headers=bearer("lab_head")).status_code == 201

        with closing(pg_admin()) as admin, admin.cursor() as cursor:
            cursor.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        other = {**REAGENT, "code": "CHOL-R1", "name": "Cholesterol CHOD-PAP R1"}
        for _try in range(2):  # the pooled connection that was cut, then a new one that is refused
            assert_fault(client.post("/api/v1/lab/reagents", json=other, headers=bearer("lab_head")),
                         "DATABASE_UNAVAILABLE")

        with closing(pg_admin()) as admin, admin.cursor() as cursor:
            cursor.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        assert client.post("/api/v1/lab/reagents", json=other, headers=bearer("lab_head")).status_code == 201
        codes = [r["code"] for r in client.get("/api/v1/lab/reagents", headers=bearer("lab_head")).get_json()]
        assert sorted(codes) == ["CHOL-R1", "GLU-R1"]
    finally:
        lab.extensions["database"].close_all()
        drop_pg_database(name)


def test_a_lab_whose_sqlite_file_is_locked_past_its_busy_timeout_answers_503_then_recovers(engine, make_app):
    if engine != "sqlite":
        pytest.skip("a SQLite file lock; the PostgreSQL run checks refused connections")
    lab = make_app("lab_service")
    database = lab.extensions["database"]
    database.pragma("busy_timeout", 200, permanent=True)  # the default waits 15 s before giving up
    client = lab.test_client()
    holder = sqlite3.connect(database.database, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the write lock and does not let go
        problem = assert_fault(client.post("/api/v1/lab/reagents", json=REAGENT, headers=bearer("lab_head")),
                               "DATABASE_BUSY")
        assert problem["title"] == "The database is busy"
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert client.post("/api/v1/lab/reagents", json=REAGENT, headers=bearer("lab_head")).status_code == 201


def test_redis_that_is_down_is_a_503_queue_unavailable(make_app):
    import redis

    lab = make_app("lab_service")

    @lab.route("/api/v1/lab/ping-queue")
    def ping_queue():
        redis.Redis(port=free_port(), socket_connect_timeout=1).ping()
        return {"ok": True}

    lab.config["PROPAGATE_EXCEPTIONS"] = False
    assert_fault(lab.test_client().get("/api/v1/lab/ping-queue"), "QUEUE_UNAVAILABLE")


def test_a_real_bug_is_still_a_500_not_a_fault(make_app):
    lab = make_app("lab_service")

    @lab.route("/api/v1/lab/bad-sql")
    def bad_sql():
        lab.extensions["database"].execute_sql("SELECT * FROM no_such_table")
        return {"ok": True}

    lab.config["PROPAGATE_EXCEPTIONS"] = False
    response = lab.test_client().get("/api/v1/lab/bad-sql")
    assert response.status_code == 500 and response.get_json()["code"] == "INTERNAL_ERROR"
    assert "Retry-After" not in response.headers
