"""Idempotency-Key on POSTs: the first response is replayed, a different body with the same key is refused."""

import threading

import pytest
from flask import jsonify

from common.auth import require_roles
from common.errors import Conflict
from common.idempotency import idempotent
from tests.support import NO_KEY, bearer

HEADERS = {**bearer("cashier"), "Idempotency-Key": "pay-2026-11-23-0001"}


@pytest.fixture
def app(make_app):
    """A gateway app with a money-like endpoint that counts how often its effect really happened."""
    app = make_app("gateway")
    app.effects = []

    @app.post("/api/v1/test-payments")
    @require_roles("cashier")
    @idempotent
    def pay():
        from flask import request

        body = request.get_json()
        if body.get("amount", 0) <= 0:
            raise Conflict("Nothing to pay", code="NOTHING_TO_PAY")
        if body.get("only_once") and committed(app):
            raise Conflict("Already paid", code="ALREADY_PAID")
        from gateway.services import record_audit

        record_audit("cashier", "cashier", f"pay {body['amount']}", 201, "-")  # a real row in the same transaction
        app.effects.append(body["amount"])
        return jsonify({"paid": body["amount"], "receipt": len(app.effects)}), 201

    return app


def committed(app) -> list[str]:
    """The payments whose effect was committed (the audit rows the view writes in its transaction)."""
    from gateway.models import AuditEntry

    with app.app_context():
        return [a.action for a in AuditEntry.select().where(AuditEntry.action.startswith("pay "))]


def ran_once(app) -> bool:
    """One committed effect, and the view ran once: a replay is answered from the stored response."""
    return committed(app) == ["pay 150000"] and app.effects == [150000]


def test_a_replayed_post_returns_the_first_response_and_does_nothing_again(app):
    client = app.test_client()
    first = client.post("/api/v1/test-payments", json={"amount": 150000}, headers=HEADERS)
    again = client.post("/api/v1/test-payments", json={"amount": 150000}, headers=HEADERS)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() == {"paid": 150000, "receipt": 1}
    assert again.headers["Idempotent-Replayed"] == "true"
    assert ran_once(app)


def test_the_same_key_with_another_body_is_a_409(app):
    client = app.test_client()
    client.post("/api/v1/test-payments", json={"amount": 150000}, headers=HEADERS)
    response = client.post("/api/v1/test-payments", json={"amount": 999000}, headers=HEADERS)
    assert response.status_code == 409
    assert response.get_json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert ran_once(app)


def test_a_resend_that_would_now_fail_still_gets_the_first_answer(app):
    client = app.test_client()
    body = {"amount": 150000, "only_once": True}
    first = client.post("/api/v1/test-payments", json=body, headers=HEADERS)
    again = client.post("/api/v1/test-payments", json=body, headers=HEADERS)
    assert first.status_code == again.status_code == 201 and again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert committed(app) == ["pay 150000"]


def test_a_failed_request_stores_nothing_so_the_key_can_be_retried(app):
    client = app.test_client()
    failed = client.post("/api/v1/test-payments", json={"amount": 0}, headers=HEADERS)
    assert failed.status_code == 409 and failed.get_json()["code"] == "NOTHING_TO_PAY"
    retried = client.post("/api/v1/test-payments", json={"amount": 0}, headers=HEADERS)
    assert retried.status_code == 409 and "Idempotent-Replayed" not in retried.headers


def test_keys_are_separate_per_user(app):
    client = app.test_client()
    other = {**bearer("cashier", subject="cashier2"), "Idempotency-Key": HEADERS["Idempotency-Key"]}
    client.post("/api/v1/test-payments", json={"amount": 150000}, headers=HEADERS)
    assert client.post("/api/v1/test-payments", json={"amount": 150000}, headers=other).get_json()["receipt"] == 2


def test_an_overlong_key_is_refused(app):
    headers = {**HEADERS, "Idempotency-Key": "k" * 201}
    response = app.test_client().post("/api/v1/test-payments", json={"amount": 1}, headers=headers)
    assert response.status_code == 400 and response.get_json()["code"] == "IDEMPOTENCY_KEY_INVALID"


def test_concurrent_duplicates_have_one_effect(app, engine):
    results = []

    def post():
        results.append(app.test_client().post("/api/v1/test-payments", json={"amount": 150000}, headers=HEADERS))

    threads = [threading.Thread(target=post) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {r.status_code for r in results} == {201}
    assert len({r.get_json()["receipt"] for r in results}) == 1
    assert len(app.effects) <= 8  # the view may start in several threads, but only one transaction commits
    assert committed(app) == ["pay 150000"]


def test_a_money_post_without_a_key_is_a_428_that_names_the_header_and_does_nothing(app):
    response = app.test_client().post("/api/v1/test-payments", json={"amount": 150000},
                                      headers={**HEADERS, **NO_KEY})
    assert response.status_code == 428 and response.content_type == "application/problem+json"
    problem = response.get_json()
    assert problem["code"] == "IDEMPOTENCY_KEY_REQUIRED" and problem["header"] == "Idempotency-Key"
    assert "Idempotency-Key" in problem["detail"]
    assert committed(app) == [] and app.effects == []


def test_a_post_that_only_records_takes_a_key_when_given_one(make_app):
    app = make_app("gateway")
    runs = []

    @app.post("/api/v1/test-notes")
    @require_roles("cashier")
    @idempotent(required=False)
    def note():
        runs.append(1)
        return jsonify({"note": len(runs)}), 201

    client = app.test_client()
    assert client.post("/api/v1/test-notes", json={}, headers={**HEADERS, **NO_KEY}).status_code == 201
    assert [client.post("/api/v1/test-notes", json={}, headers=HEADERS).get_json()["note"] for _ in range(2)] == [2, 2]


# Every POST that moves stock or money, per service: the key is required (428 without); nothing else is.
KEY_REQUIRED = {
    "lab_service": {
        "/api/v1/lab/test-runs", "/api/v1/lab/test-runs/{run_id}/void", "/api/v1/lab/qc-runs",
        "/api/v1/lab/reagent-lots/{lot_id}/counts", "/api/v1/lab/reagent-lots/{lot_id}/wastage",
        "/api/v1/lab/reagents/{code}/lots"},
    "pharmacy_service": {
        "/api/v1/pharmacy/prescriptions/{prescription_id}/dispenses", "/api/v1/pharmacy/dispenses",
        "/api/v1/pharmacy/dispenses/{dispense_id}/returns", "/api/v1/pharmacy/drugs/{code}/lots",
        "/api/v1/pharmacy/lots", "/api/v1/pharmacy/lots/{lot_id}/counts", "/api/v1/pharmacy/lots/{lot_id}/adjustments",
        "/api/v1/pharmacy/lots/{lot_id}/recall"},
    "billing_service": {
        "/api/v1/billing/invoices/{invoice_id}/payment-requests", "/api/v1/billing/invoices/{invoice_id}/payments",
        "/api/v1/billing/payments/{payment_id}/refunds", "/api/v1/billing/unmatched-transfers/{transfer_id}/assign",
        "/api/v1/billing/claim-batches", "/api/v1/billing/remittances",
        "/api/v1/billing/invoices/{invoice_id}/other-funding", "/api/v1/billing/other-funding/{funding_id}/withdraw"},
    "gateway": {"/api/v1/charges/{charge_id}/attach"},
}


@pytest.mark.parametrize("service", sorted(KEY_REQUIRED))
def test_the_api_description_requires_the_key_on_exactly_the_stock_and_money_posts(make_app, service):
    spec = make_app(service).test_client().get("/openapi.json").get_json()
    required = set()
    for path, operations in spec["paths"].items():
        post = operations.get("post", {})
        keys = [p for p in post.get("parameters", []) if p.get("name") == "Idempotency-Key"]
        if keys and keys[0]["required"]:
            required.add(path)
            assert "428" in post["responses"], path
    assert required == KEY_REQUIRED[service]


def test_logging_a_test_without_a_key_through_the_gateway_is_a_428_and_takes_nothing(make_app, live_server):
    from tests.lab.catalogue import TECH, glucose_in_stock, stock_of

    lab = make_app("lab_service")
    live_server(lab)
    client = lab.test_client()
    glucose_in_stock(client, ("GL2603A", 5000, "2099-01-01"))
    gateway = make_app("gateway").test_client()
    body = {"encounter_id": "ENC-2026-000123", "patient_id": "BN-0000123", "test_code": "GLU"}
    response = gateway.post("/api/v1/lab/test-runs", json=body, headers={**TECH, **NO_KEY})
    assert response.status_code == 428 and response.get_json()["code"] == "IDEMPOTENCY_KEY_REQUIRED"
    assert response.get_json()["header"] == "Idempotency-Key"
    assert stock_of(client)["on_hand"] == 5000
    assert client.get("/api/v1/lab/test-runs", headers=TECH).get_json() == []


def test_stored_answers_are_kept_72_hours_then_forgotten(app):
    from datetime import timedelta

    from common import idempotency
    from common.models import utcnow
    from gateway.models import IdempotencyRecord

    assert app.config["IDEMPOTENCY_RETENTION_HOURS"] == 72
    client = app.test_client()
    client.post("/api/v1/test-payments", json={"amount": 150000}, headers=HEADERS)
    with app.app_context():
        record = IdempotencyRecord.get(IdempotencyRecord.key == HEADERS["Idempotency-Key"])
        IdempotencyRecord.update(created_at=utcnow() - timedelta(hours=71)).where(
            IdempotencyRecord.id == record.id).execute()
        idempotency._last_purge.clear()
        assert idempotency.forget_expired() == 0  # a day offline and more: still replayed
    again = client.post("/api/v1/test-payments", json={"amount": 150000}, headers=HEADERS)
    assert again.headers["Idempotent-Replayed"] == "true" and ran_once(app)
    with app.app_context():
        IdempotencyRecord.update(created_at=utcnow() - timedelta(hours=73)).where(
            IdempotencyRecord.id == record.id).execute()
        idempotency._last_purge.clear()
        assert idempotency.forget_expired() == 1
        assert idempotency.forget_expired() == 0  # at most every 10 minutes
    assert idempotency.forget_expired in app.extensions["periodic_jobs"]


def test_the_retention_is_configurable_but_never_under_72_hours():
    from common.config import ConfigError, base_settings

    assert base_settings("gateway", env={"IDEMPOTENCY_RETENTION_HOURS": "168"})["IDEMPOTENCY_RETENTION_HOURS"] == 168
    with pytest.raises(ConfigError):
        base_settings("gateway", env={"IDEMPOTENCY_RETENTION_HOURS": "24"})
