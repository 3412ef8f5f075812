"""Signing in, and the auth matrix every route enforces: 401 without or with a bad token, 403 for the wrong role."""

import time

import jwt
import pytest

from tests.support import JWT_SECRET, bearer


@pytest.fixture
def stack(make_app, live_server):
    """Gateway in front of a live lab service, with the demo users."""
    lab = make_app("lab_service")
    live_server(lab)
    gateway = make_app("gateway")
    with gateway.app_context():
        from seeds import seed_service

        seed_service("gateway")
    return gateway.test_client()


def sign_in(client, username: str, password: str = "demo"):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password})


def test_a_demo_user_gets_a_bearer_token_with_their_role(stack):
    response = sign_in(stack, "labhead")
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    claims = jwt.decode(body["access_token"], JWT_SECRET, algorithms=["HS256"])
    assert claims["sub"] == "labhead" and claims["role"] == "lab_head"


@pytest.mark.parametrize("username,password", [("labhead", "wrong"), ("nobody", "demo")])
def test_wrong_credentials_are_a_401_problem(stack, username, password):
    response = sign_in(stack, username, password)
    assert response.status_code == 401
    assert response.content_type == "application/problem+json"
    assert response.get_json()["code"] == "INVALID_CREDENTIALS"


def test_the_token_opens_the_lab_through_the_gateway(stack):
    token = sign_in(stack, "labtech").get_json()["access_token"]
    response = stack.get("/api/v1/lab/reagents", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.get_json() == []


def expired_token() -> dict:
    now = int(time.time())
    token = jwt.encode({"sub": "labhead", "role": "lab_head", "iat": now - 7200, "exp": now - 3600}, JWT_SECRET)
    return {"Authorization": f"Bearer {token}"}


def tampered_token() -> dict:
    header, payload, signature = bearer("lab_tech")["Authorization"][7:].split(".")
    forged = jwt.encode({"sub": "labtech", "role": "admin", "exp": int(time.time()) + 600}, "guess").split(".")[1]
    return {"Authorization": f"Bearer {header}.{forged}.{signature}"}


@pytest.mark.parametrize("headers,status,code", [
    ({}, 401, "UNAUTHORIZED"),
    ({"Authorization": "Basic bGFiaGVhZDpkZW1v"}, 401, "UNAUTHORIZED"),
    (expired_token(), 401, "TOKEN_EXPIRED"),
    (tampered_token(), 401, "TOKEN_INVALID"),
    (bearer("lab_tech", secret="another-secret-of-sufficient-length-000"), 401, "TOKEN_INVALID"),
    (bearer("cashier"), 403, "FORBIDDEN"),
    (bearer("lab_tech"), 403, "FORBIDDEN"),
])
def test_creating_a_reagent_needs_a_valid_lab_head_token(stack, headers, status, code):
    body = {"code": "ALT-R1", "name": "ALT reagent", "manufacturer": "Beckman Coulter", "base_unit": "uL"}
    response = stack.post("/api/v1/lab/reagents", json=body, headers=headers)
    assert response.status_code == status
    assert response.content_type == "application/problem+json"
    assert response.get_json()["code"] == code


@pytest.mark.parametrize("role,status", [("lab_head", 201), ("admin", 201)])
def test_lab_head_and_admin_may_create_reagents(stack, role, status):
    body = {"code": f"AST-{role}", "name": "AST reagent", "manufacturer": "Beckman Coulter", "base_unit": "uL"}
    assert stack.post("/api/v1/lab/reagents", json=body, headers=bearer(role)).status_code == status


def test_changes_through_the_gateway_are_audited(stack):
    body = {"code": "CRE-R1", "name": "Creatinine Jaffe", "manufacturer": "Roche", "base_unit": "uL"}
    stack.post("/api/v1/lab/reagents", json=body, headers=bearer("lab_head"))
    entries = stack.get("/api/v1/audit", headers=bearer("admin")).get_json()
    assert entries[0]["actor"] == "labhead" and entries[0]["action"] == "POST /api/v1/lab/reagents"
    assert entries[0]["status_code"] == 201
    assert stack.get("/api/v1/audit", headers=bearer("finance")).status_code == 403


def test_a_token_accepted_once_is_still_refused_once_it_expires(stack):
    now = int(time.time())
    token = jwt.encode({"sub": "labhead", "role": "lab_head", "iat": now, "exp": now + 2}, JWT_SECRET)
    headers = {"Authorization": f"Bearer {token}"}
    assert stack.get("/api/v1/lab/reagents", headers=headers).status_code == 200  # verified, then remembered
    time.sleep(max(0.0, now + 2.2 - time.time()))
    response = stack.get("/api/v1/lab/reagents", headers=headers)
    assert response.status_code == 401 and response.get_json()["code"] == "TOKEN_EXPIRED"
