"""Repeated wrong passwords lock the account (and a client address) for a while: 429 with Retry-After, checked
before any password is hashed, audited, and the same for every gateway process."""

from datetime import timedelta

import pytest

from tests.support import bearer


@pytest.fixture
def gateway_app(make_app):
    app = make_app("gateway", SIGN_IN_MAX_FAILURES=5, SIGN_IN_MAX_FAILURES_PER_ADDRESS=8, SIGN_IN_WINDOW_SECONDS=900)
    with app.app_context():
        from seeds import seed_service

        seed_service("gateway")
    return app


def sign_in(client, username: str, password: str, address: str = "10.20.0.15"):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def audit_actions(client, actor: str) -> list[tuple[str, int]]:
    lines = client.get(f"/api/v1/audit?actor={actor}&limit=1000", headers=bearer("admin")).get_json()
    return [(line["action"], line["status_code"]) for line in reversed(lines)]


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(gateway_app):
    client = gateway_app.test_client()
    for _try in range(5):
        assert sign_in(client, "admin", "Matkhau123").status_code == 401

    locked = sign_in(client, "admin", "demo")

    assert locked.status_code == 429 and locked.get_json()["code"] == "SIGN_IN_LOCKED"
    assert 0 < int(locked.headers["Retry-After"]) <= 900 and locked.get_json()["locked"] == "account"
    assert sign_in(client, "admin", "demo", address="10.20.0.99").status_code == 429  # another desk: still locked
    assert sign_in(client, "cashier", "demo").status_code == 200  # other accounts go on
    actions = audit_actions(client, "admin")
    assert actions.count(("POST /api/v1/auth/token", 401)) == 5
    assert actions.count(("POST /api/v1/auth/token", 429)) == 2
    assert actions.count(("sign-in locked: account:admin", 429)) == 1


def test_the_lock_ends_when_the_failures_leave_the_window_and_a_right_password_clears_them(gateway_app):
    client = gateway_app.test_client()
    for _try in range(5):
        sign_in(client, "labhead", "sai-mat-khau")
    assert sign_in(client, "labhead", "demo").status_code == 429
    with gateway_app.app_context():  # 15 minutes pass
        from gateway.models import SignInFailure

        for failure in SignInFailure.select():
            SignInFailure.update(failed_at=failure.failed_at - timedelta(seconds=901)).where(
                SignInFailure.id == failure.id).execute()

    assert sign_in(client, "labhead", "demo").status_code == 200
    for _try in range(4):  # the right password wiped the account's slate: four more wrong ones do not lock
        assert sign_in(client, "labhead", "sai-mat-khau").status_code == 401
    assert sign_in(client, "labhead", "demo").status_code == 200


def test_one_address_trying_many_accounts_is_locked_out(gateway_app):
    client = gateway_app.test_client()
    for number in range(8):
        assert sign_in(client, f"nhanvien{number}", "123456", address="203.0.113.7").status_code == 401

    refused = sign_in(client, "cashier", "demo", address="203.0.113.7")

    assert refused.status_code == 429 and refused.get_json()["locked"] == "address"
    assert sign_in(client, "cashier", "demo", address="10.20.0.15").status_code == 200


def test_a_locked_attempt_costs_no_password_hash(gateway_app, monkeypatch):
    import gateway.services

    client = gateway_app.test_client()
    for _try in range(5):
        sign_in(client, "finance", "wrong-password")
    hashed = []
    real = gateway.services.check_password_hash
    monkeypatch.setattr(gateway.services, "check_password_hash", lambda *a: hashed.append(1) or real(*a))

    for _try in range(3):
        assert sign_in(client, "finance", "demo").status_code == 429

    assert hashed == []


def test_every_gateway_process_counts_the_same_failures(make_app, gateway_app):
    other = make_app("gateway", SIGN_IN_MAX_FAILURES=5).test_client()  # a second process on the same database
    first = gateway_app.test_client()
    for number in range(5):
        assert sign_in(first if number % 2 else other, "pharmacist", "nham").status_code == 401

    assert sign_in(other, "pharmacist", "demo").status_code == 429
    assert sign_in(first, "pharmacist", "demo").status_code == 429
