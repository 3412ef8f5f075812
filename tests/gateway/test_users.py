"""User accounts (admin only): create, list, change role, disable / enable, reset a password; a password an admin
set must be changed at the next sign-in, and the token says so until it is (every other route refuses it)."""

import jwt
import pytest

from tests.support import JWT_SECRET, bearer

ADMIN = bearer("admin")
NEW_NURSE = {"username": "ttlan", "full_name": "Trần Thị Lan", "role": "lab_tech",
             "temporary_password": "Tam-thoi-2026"}


@pytest.fixture
def gateway_app(make_app, live_server):
    live_server(make_app("lab_service"))  # a token must open the lab through the gateway, or be refused there
    app = make_app("gateway", SIGN_IN_MAX_FAILURES=5)
    with app.app_context():
        from seeds import seed_service

        seed_service("gateway")
    return app


@pytest.fixture
def client(gateway_app):
    return gateway_app.test_client()


def sign_in(client, username: str, password: str):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password})


def create(client, **fields) -> dict:
    response = client.post("/api/v1/users", json={**NEW_NURSE, **fields}, headers=ADMIN)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def with_token(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_an_admin_creates_an_account_whose_first_sign_in_must_change_the_password(client):
    made = create(client)
    assert made["temporary_password"] == "Tam-thoi-2026"
    assert made["user"]["username"] == "ttlan" and made["user"]["role"] == "lab_tech"
    assert made["user"]["must_change_password"] is True and made["user"]["active"] is True

    grant = sign_in(client, "ttlan", "Tam-thoi-2026").get_json()

    assert grant["must_change_password"] is True and grant["role"] == "lab_tech"
    assert jwt.decode(grant["access_token"], JWT_SECRET, algorithms=["HS256"])["pwd"] == "change"
    refused = client.get("/api/v1/lab/reagents", headers=with_token(grant["access_token"]))  # proxied: the lab says no
    assert refused.status_code == 403 and refused.get_json()["code"] == "PASSWORD_CHANGE_REQUIRED"
    own = client.get("/api/v1/encounters", headers=with_token(grant["access_token"]))  # the gateway's own routes too
    assert own.status_code == 403 and own.get_json()["code"] == "PASSWORD_CHANGE_REQUIRED"

    changed = client.post("/api/v1/auth/password", json={"current_password": "Tam-thoi-2026",
                                                         "new_password": "Xet-nghiem-mau-7"},
                          headers=with_token(grant["access_token"]))

    assert changed.status_code == 200 and changed.get_json()["must_change_password"] is False
    assert client.get("/api/v1/lab/reagents", headers=with_token(changed.get_json()["access_token"])).status_code == 200
    assert sign_in(client, "ttlan", "Tam-thoi-2026").status_code == 401
    again = sign_in(client, "ttlan", "Xet-nghiem-mau-7").get_json()
    assert again["must_change_password"] is False and "pwd" not in jwt.decode(
        again["access_token"], JWT_SECRET, algorithms=["HS256"])
    user = client.get(f"/api/v1/users/{made['user']['id']}", headers=ADMIN).get_json()
    assert user["must_change_password"] is False and user["password_changed_at"]


def test_without_a_temporary_password_one_is_made_and_answered_once(client):
    made = client.post("/api/v1/users", json={"username": "pvminh", "full_name": "Phạm Văn Minh",
                                              "role": "pharmacist"}, headers=ADMIN).get_json()
    assert len(made["temporary_password"]) == 12
    assert sign_in(client, "pvminh", made["temporary_password"]).get_json()["must_change_password"] is True
    listed = client.get("/api/v1/users?q=pvminh", headers=ADMIN).get_json()
    assert [u["username"] for u in listed] == ["pvminh"] and "temporary_password" not in listed[0]
    assert "password_hash" not in listed[0]


def test_a_reset_password_must_be_changed_and_unlocks_a_locked_account(client):
    made = create(client)
    token = sign_in(client, "ttlan", "Tam-thoi-2026").get_json()["access_token"]
    client.post("/api/v1/auth/password", json={"current_password": "Tam-thoi-2026", "new_password": "Mat-khau-rieng-1"},
                headers=with_token(token))
    for _try in range(5):
        assert sign_in(client, "ttlan", "quen-mat-roi").status_code == 401
    assert sign_in(client, "ttlan", "Mat-khau-rieng-1").status_code == 429  # locked out

    reset = client.post(f"/api/v1/users/{made['user']['id']}/password-reset", json={}, headers=ADMIN)

    assert reset.status_code == 200 and reset.get_json()["user"]["must_change_password"] is True
    temporary = reset.get_json()["temporary_password"]
    assert sign_in(client, "ttlan", "Mat-khau-rieng-1").status_code == 401  # the old one is gone
    grant = sign_in(client, "ttlan", temporary).get_json()
    assert grant["must_change_password"] is True


def test_the_admin_changes_a_role_and_the_next_token_carries_it(client):
    made = create(client)
    changed = client.patch(f"/api/v1/users/{made['user']['id']}", json={"role": "lab_head"}, headers=ADMIN)
    assert changed.status_code == 200 and changed.get_json()["role"] == "lab_head"
    assert sign_in(client, "ttlan", "Tam-thoi-2026").get_json()["role"] == "lab_head"


def test_a_disabled_user_cannot_sign_in_until_enabled_again(client):
    made = create(client)
    user_id = made["user"]["id"]

    disabled = client.patch(f"/api/v1/users/{user_id}", json={"active": False}, headers=ADMIN)

    assert disabled.status_code == 200 and disabled.get_json()["active"] is False
    refused = sign_in(client, "ttlan", "Tam-thoi-2026")
    assert refused.status_code == 401 and refused.get_json()["code"] == "INVALID_CREDENTIALS"
    assert [u["username"] for u in client.get("/api/v1/users?active=false", headers=ADMIN).get_json()] == ["ttlan"]
    assert client.patch(f"/api/v1/users/{user_id}", json={"active": True}, headers=ADMIN).status_code == 200
    assert sign_in(client, "ttlan", "Tam-thoi-2026").status_code == 200


@pytest.mark.parametrize("role", ["lab_tech", "lab_head", "pharmacist", "cashier", "finance"])
def test_only_an_admin_manages_accounts(client, role):
    headers = bearer(role)
    assert client.get("/api/v1/users", headers=headers).status_code == 403
    assert client.post("/api/v1/users", json=NEW_NURSE, headers=headers).status_code == 403
    assert client.patch("/api/v1/users/1", json={"role": "admin"}, headers=headers).status_code == 403
    assert client.post("/api/v1/users/1/password-reset", json={}, headers=headers).status_code == 403
    assert client.get("/api/v1/users").status_code == 401


@pytest.mark.parametrize("fields,field", [
    ({"username": "A"}, "username"), ({"username": "tran lan"}, "username"), ({"username": "x" * 65}, "username"),
    ({"role": "director"}, "role"), ({"full_name": ""}, "full_name"), ({"full_name": "Lan\x00"}, "full_name"),
    ({"temporary_password": "ngan"}, "temporary_password"), ({"temporary_password": "ttlan-2026-abc"},
                                                             "temporary_password"),
    ({"temporary_password": "x" * 201}, "temporary_password"),
])
def test_bad_accounts_are_refused_with_the_field_named(client, fields, field):
    response = client.post("/api/v1/users", json={**NEW_NURSE, **fields}, headers=ADMIN)
    assert response.status_code == 422 and response.content_type == "application/problem+json"
    assert field in str(response.get_json().get("errors")), response.get_json()


def test_a_taken_username_is_a_409_and_an_unknown_user_a_404(client):
    create(client)
    taken = client.post("/api/v1/users", json=NEW_NURSE, headers=ADMIN)
    assert taken.status_code == 409 and taken.get_json()["code"] == "USER_EXISTS"
    missing = client.patch("/api/v1/users/99999", json={"active": False}, headers=ADMIN)
    assert missing.status_code == 404 and missing.get_json()["code"] == "USER_NOT_FOUND"
    assert client.post("/api/v1/users/99999/password-reset", json={}, headers=ADMIN).status_code == 404
    assert client.patch("/api/v1/users/1", json={"role": "boss"}, headers=ADMIN).status_code == 422


def test_an_admin_cannot_lock_themself_out(client):
    me = client.get("/api/v1/users?q=admin", headers=ADMIN).get_json()[0]
    for change in ({"active": False}, {"role": "cashier"}):
        refused = client.patch(f"/api/v1/users/{me['id']}", json=change, headers=ADMIN)
        assert refused.status_code == 409 and refused.get_json()["code"] == "OWN_ACCOUNT"
    assert client.post(f"/api/v1/users/{me['id']}/password-reset", json={}, headers=ADMIN).status_code == 409
    renamed = client.patch(f"/api/v1/users/{me['id']}", json={"full_name": "Lê Quản Trị"}, headers=ADMIN)
    assert renamed.status_code == 200


def test_a_password_change_checks_the_current_one_and_the_strength(client):
    create(client)
    token = with_token(sign_in(client, "ttlan", "Tam-thoi-2026").get_json()["access_token"])
    cases = [({"current_password": "sai-roi-nhe", "new_password": "Xet-nghiem-mau-7"}, "WRONG_PASSWORD"),
             ({"current_password": "Tam-thoi-2026", "new_password": "Tam-thoi-2026"}, "PASSWORD_UNCHANGED"),
             ({"current_password": "Tam-thoi-2026", "new_password": "ngan"}, "PASSWORD_TOO_WEAK"),
             ({"current_password": "Tam-thoi-2026", "new_password": "aaaaaaaaaaaa"}, "PASSWORD_TOO_WEAK")]
    for body, code in cases:
        response = client.post("/api/v1/auth/password", json=body, headers=token)
        assert response.status_code == 422 and response.get_json()["code"] == code, response.get_json()
    assert client.post("/api/v1/auth/password", json={"new_password": "x"}, headers=token).status_code == 422
    assert client.post("/api/v1/auth/password", json={"current_password": "a", "new_password": "b"}).status_code == 401


def test_account_changes_and_password_changes_are_audited(client):
    made = create(client)
    client.patch(f"/api/v1/users/{made['user']['id']}", json={"role": "cashier"}, headers=ADMIN)
    token = with_token(sign_in(client, "ttlan", "Tam-thoi-2026").get_json()["access_token"])
    client.post("/api/v1/auth/password", json={"current_password": "Tam-thoi-2026", "new_password": "Thu-ngan-2026"},
                headers=token)
    lines = client.get("/api/v1/audit?limit=50", headers=ADMIN).get_json()
    seen = {(line["actor"], line["action"], line["status_code"]) for line in lines}
    assert ("admin", "POST /api/v1/users", 201) in seen
    assert ("admin", f"PATCH /api/v1/users/{made['user']['id']}", 200) in seen
    assert ("ttlan", "POST /api/v1/auth/token", 200) in seen
    assert ("ttlan", "POST /api/v1/auth/password", 200) in seen
    assert not any("Tam-thoi" in str(line) for line in lines)


def test_wrong_current_passwords_count_against_the_sign_in_limits(client):
    create(client)
    token = with_token(sign_in(client, "ttlan", "Tam-thoi-2026").get_json()["access_token"])
    for _try in range(5):
        wrong = client.post("/api/v1/auth/password", json={"current_password": "doan-mo-thoi",
                                                           "new_password": "Xet-nghiem-mau-7"}, headers=token)
        assert wrong.status_code == 422 and wrong.get_json()["code"] == "WRONG_PASSWORD"
    locked = client.post("/api/v1/auth/password", json={"current_password": "Tam-thoi-2026",
                                                        "new_password": "Xet-nghiem-mau-7"}, headers=token)
    assert locked.status_code == 429 and locked.get_json()["code"] == "SIGN_IN_LOCKED"
    assert sign_in(client, "ttlan", "Tam-thoi-2026").status_code == 429
