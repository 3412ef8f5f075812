"""The audit log never undoes an answer: the gateway's own changes are audited in their transaction, everything else
after the answer through a spool that survives the database being away, and odd request ids or paths fit."""

import shutil
import time

from gateway import audit_spool
from tests.gateway.conftest import NGUYEN_VAN_AN
from tests.support import bearer, wait_until


def audit_lines(client, **query) -> list[dict]:
    response = client.get("/api/v1/audit", query_string={"limit": 1000, **query}, headers=bearer("admin"))
    assert response.status_code == 200
    return response.get_json()


def test_a_registration_with_an_overlong_request_id_is_answered_201_and_audited_under_a_new_id(gateway):
    supplied = "x" * 100
    response = gateway.post("/api/v1/patients", json=NGUYEN_VAN_AN,
                            headers={**bearer("cashier"), "X-Request-ID": supplied})

    assert response.status_code == 201
    replaced = response.headers["X-Request-ID"]
    assert replaced != supplied and 1 <= len(replaced) <= 64
    [line] = audit_lines(gateway, actor="cashier")
    assert (line["action"], line["status_code"], line["request_id"]) == ("POST /api/v1/patients", 201, replaced)
    assert line["patient_id"] == str(response.get_json()["id"])


def test_a_well_formed_request_id_is_kept(gateway):
    response = gateway.post("/api/v1/patients", json=NGUYEN_VAN_AN,
                            headers={**bearer("cashier"), "X-Request-ID": "quay-3:2026-12-01.0815"})
    assert response.headers["X-Request-ID"] == "quay-3:2026-12-01.0815"
    assert audit_lines(gateway)[0]["request_id"] == "quay-3:2026-12-01.0815"


def test_a_refused_change_is_audited_after_its_answer(gateway):
    response = gateway.post("/api/v1/encounters", json={"patient_id": "999999", "kind": "outpatient",
                                                        "department": "K01"}, headers=bearer("cashier"))

    assert response.status_code == 404
    [line] = audit_lines(gateway, actor="cashier")
    assert (line["action"], line["status_code"]) == ("POST /api/v1/encounters", 404)


def test_a_path_with_a_nul_character_is_audited_without_breaking_the_log(gateway):
    response = gateway.post("/api/v1/lab/reagents%00x", json={}, headers=bearer("lab_head"))

    assert response.status_code == 503  # nothing listens on the lab port in this test
    [line] = audit_lines(gateway, actor="labhead")
    assert line["action"] == "POST /api/v1/lab/reagents?x" and line["status_code"] == 503


def test_audit_lines_wait_in_the_spool_while_the_database_is_away_and_land_once(gateway_app, gateway):
    with gateway_app.test_request_context():
        folder = audit_spool.spool_dir()
        for number in range(3):  # spooled while the database is away (no drain yet)
            assert audit_spool.append(audit_spool.clean_line("labtech", "lab_tech", "POST /api/v1/lab/test-runs",
                                                             201, f"req-{number}"))
        spool = folder / audit_spool.SPOOL
        assert len(spool.read_text().splitlines()) == 3
        # A drainer that died after storing a batch but before deleting it leaves the batch to be stored again.
        shutil.copy(spool, folder / f"{audit_spool.BATCH_PREFIX}0-left-by-a-crash.jsonl")
        database = gateway_app.extensions["database"]
        with database.connection_context():
            assert audit_spool.drain() == 6  # both files read...
    lines = audit_lines(gateway, actor="labtech")
    assert sorted(line["request_id"] for line in lines) == ["req-0", "req-1", "req-2"]  # ...each line stored once
    assert not list(folder.glob("audit-*.jsonl"))


def test_the_drainer_thread_stores_lines_soon_and_lets_a_busy_moment_share_a_drain(make_app):
    """Out of the inline mode a line is drained right after it is spooled; lines spooled just after a drain wait
    for the next one, AUDIT_DRAIN_INTERVAL_MS later, and land together."""
    app = make_app("gateway", JOBS_INLINE_SYNC=False, AUDIT_DRAIN_INTERVAL_MS=800)
    client = app.test_client()

    def stored() -> set[str]:
        return {line["request_id"] for line in audit_lines(client, actor="labtech")}

    def spool_line(request_id: str) -> None:
        audit_spool.record_later(audit_spool.clean_line("labtech", "lab_tech", "POST /api/v1/lab/test-runs", 201,
                                                        request_id))

    with app.test_request_context():
        spool_line("first")
        wait_until(lambda: "first" in stored(), timeout=10, message="the first line drained")
        for number in range(5):
            spool_line(f"next-{number}")
        time.sleep(0.2)
        assert stored() == {"first"}  # the drainer waits out its interval...
        wait_until(lambda: len(stored()) == 6, timeout=10, message="the next lines drained")
    spool = audit_spool_file(app)
    assert not spool.exists() or not spool.read_text()  # ...then takes them all


def audit_spool_file(app):
    with app.test_request_context():
        return audit_spool.spool_dir() / audit_spool.SPOOL


def test_a_spool_folder_removed_while_the_gateway_runs_is_made_again(gateway_app, gateway):
    with gateway_app.test_request_context():
        line = audit_spool.clean_line("labtech", "lab_tech", "POST /api/v1/lab/test-runs", 201, "req-before")
        assert audit_spool.append(line)
        shutil.rmtree(audit_spool.spool_dir())
        assert audit_spool.append({**line, "request_id": "req-after"})
        with gateway_app.extensions["database"].connection_context():
            assert audit_spool.drain() == 1
    assert [line["request_id"] for line in audit_lines(gateway, actor="labtech")] == ["req-after"]
