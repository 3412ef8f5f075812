"""The audit log for the admin: filters (who, what, patient, status, time) and cursor paging through all of it."""

from datetime import UTC, datetime, timedelta

import pytest

from gateway.models import AuditEntry
from tests.support import bearer

ADMIN = bearer("admin")


@pytest.fixture
def gateway_app(make_app):
    app = make_app("gateway")
    lines = []
    start = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # 08:00 in Hà Nội
    for n in range(30):
        actor, action, status, patient = [
            ("cashier", "POST /api/v1/patients", 201, str(n)),
            ("labtech", "POST /api/v1/lab/test-runs", 201, None),
            ("ttlan", "POST /api/v1/auth/token", 401 if n % 2 else 200, None),
        ][n % 3]
        lines.append({"occurred_at": start + timedelta(minutes=10 * n), "actor": actor, "role": "-", "action": action,
                      "status_code": status, "request_id": f"req-{n}", "patient_id": patient})
    with app.app_context():
        AuditEntry.insert_many(lines).execute()
    return app


@pytest.fixture
def client(gateway_app):
    return gateway_app.test_client()


def audit(client, **query) -> list[dict]:
    response = client.get("/api/v1/audit", query_string=query, headers=ADMIN)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def walk(client, **query) -> list[dict]:
    """Follow the next-page cursor from the first page to the last."""
    rows, cursor = [], None
    while True:
        response = client.get("/api/v1/audit", query_string={**query, **({"cursor": cursor} if cursor else {})},
                              headers=ADMIN)
        assert response.status_code == 200
        rows += response.get_json()
        cursor = response.headers.get("X-Next-Cursor")
        if cursor is None:
            return rows


def test_filters_by_actor_action_patient_and_status(client):
    assert {line["actor"] for line in audit(client, actor="ttlan")} == {"ttlan"}
    assert len(audit(client, action="auth/token")) == 10
    assert len(audit(client, action="POST /api/v1/lab")) == 10
    assert [line["request_id"] for line in audit(client, patient_id="3")] == ["req-3"]
    assert {line["status_code"] for line in audit(client, status="4xx")} == {401}
    assert len(audit(client, status="401")) == 5
    assert len(audit(client, status="2xx", actor="ttlan")) == 5


def test_filters_by_a_time_range(client):
    since, until = "2026-11-30T09:00:00+07:00", "2026-11-30T10:00:00+07:00"  # six lines, 10 minutes apart
    lines = audit(client, since=since, until=until)
    assert [line["request_id"] for line in lines] == [f"req-{n}" for n in range(11, 5, -1)]


def test_every_line_is_reached_once_through_the_pages(client):
    rows = walk(client, limit=7)
    assert len(rows) == 30 and len({row["id"] for row in rows}) == 30
    assert [row["id"] for row in rows] == sorted((row["id"] for row in rows), reverse=True)
    filtered = walk(client, limit=4, actor="cashier")
    assert len(filtered) == 10 and {row["actor"] for row in filtered} == {"cashier"}


@pytest.mark.parametrize("query", [{"status": "6xx"}, {"status": "20"}, {"status": "abc"},
                                   {"since": "yesterday"}, {"since": "2026-11-30T09:00:00"},
                                   {"since": "2026-11-30T10:00:00+07:00", "until": "2026-11-30T09:00:00+07:00"},
                                   {"action": "x" * 301}, {"limit": "0"}, {"cursor": "not-a-cursor"}])
def test_bad_filters_are_a_422(client, query):
    response = client.get("/api/v1/audit", query_string=query, headers=ADMIN)
    assert response.status_code == 422 and response.content_type == "application/problem+json"


def test_only_the_admin_reads_the_audit_log(client):
    assert client.get("/api/v1/audit", headers=bearer("finance")).status_code == 403
