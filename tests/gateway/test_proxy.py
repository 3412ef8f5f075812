"""The gateway forwards to the services, keeps the request id, and fails fast with problem+json."""

import time

import pytest

from tests.support import bearer, free_port


def test_a_stopped_service_is_a_503_problem_with_retry_after_not_a_hang(make_app):
    gateway = make_app("gateway").test_client()  # nothing listens on the lab port
    started = time.monotonic()
    response = gateway.get("/api/v1/lab/reagents", headers=bearer("lab_tech"))
    assert time.monotonic() - started < 5
    assert response.status_code == 503 and int(response.headers["Retry-After"]) > 0
    assert response.content_type == "application/problem+json"
    assert response.get_json()["code"] == "UPSTREAM_UNAVAILABLE"


def test_a_service_that_does_not_answer_in_time_is_a_504_problem(make_app, live_server):
    lab = make_app("lab_service")

    @lab.route("/api/v1/lab/slow")
    def slow():
        time.sleep(2)
        return {"ok": True}

    live_server(lab)
    gateway = make_app("gateway", PROXY_READ_TIMEOUT_MS=300).test_client()
    response = gateway.get("/api/v1/lab/slow", headers=bearer("lab_tech"))
    assert response.status_code == 504
    assert response.get_json()["code"] == "UPSTREAM_TIMEOUT"


def test_the_request_id_goes_through_to_the_service(make_app, live_server):
    seen = {}
    lab = make_app("lab_service")

    @lab.route("/api/v1/lab/echo-request-id")
    def echo():
        from flask import g

        seen["request_id"] = g.request_id
        return {"ok": True}

    live_server(lab)
    gateway = make_app("gateway").test_client()
    response = gateway.get("/api/v1/lab/echo-request-id", headers={**bearer("lab_tech"), "X-Request-ID": "abc-123"})
    assert response.status_code == 200
    assert seen["request_id"] == "abc-123" == response.headers["X-Request-ID"]
    fresh = gateway.get("/api/v1/lab/echo-request-id", headers=bearer("lab_tech"))
    assert len(fresh.headers["X-Request-ID"]) >= 16 and seen["request_id"] == fresh.headers["X-Request-ID"]


def test_query_strings_errors_and_statuses_come_back_unchanged(make_app, live_server):
    live_server(make_app("lab_service"))
    gateway = make_app("gateway").test_client()
    missing = gateway.get("/api/v1/lab/reagents/NOPE?x=1", headers=bearer("lab_tech"))
    assert missing.status_code == 404
    assert missing.content_type == "application/problem+json"
    assert missing.get_json()["code"] == "REAGENT_NOT_FOUND"


@pytest.mark.parametrize("area", ["lab", "pharmacy", "billing"])
def test_every_area_is_routed_to_its_service(make_app, live_server, area):
    service = {"lab": "lab_service", "pharmacy": "pharmacy_service", "billing": "billing_service"}[area]
    live_server(make_app(service))
    gateway = make_app("gateway").test_client()
    role = {"lab": "lab_head", "pharmacy": "pharmacist", "billing": "finance"}[area]
    response = gateway.get(f"/api/v1/{area}/outbox?state=pending", headers=bearer(role))
    assert response.status_code == 200 and response.get_json() == []


def test_an_unknown_area_is_not_forwarded(make_app):
    gateway = make_app("gateway").test_client()
    assert gateway.get(f"/api/v1/radiology/x{free_port()}", headers=bearer("admin")).status_code == 404
