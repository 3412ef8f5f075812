"""Idempotency-Key on POSTs: the first response is replayed, a different body with the same key is refused."""

import threading

import pytest
from flask import jsonify

from common.auth import require_roles
from common.errors import Conflict
from common.idempotency import idempotent
from tests.support import bearer

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
