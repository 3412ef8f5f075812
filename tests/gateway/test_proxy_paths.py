"""The proxy forwards public API paths only: dot segments and encoded slashes are refused before anything is sent."""

import http.client

import pytest

from tests.support import bearer


@pytest.fixture
def billing_calls(make_app, live_server):
    """A real billing service that notes every request that reaches it."""
    billing = make_app("billing_service")
    seen = []
    billing.before_request(lambda: seen.append(__import__("flask").request.path))
    live_server(billing)
    return seen


@pytest.fixture
def gateway_url(make_app, live_server):
    return live_server(make_app("gateway"))


def send_as_is(base: str, method: str, path: str) -> tuple[int, dict]:
    """Send a request with the path exactly as written (no client-side normalisation)."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request(method, path, body=b'{"events": []}', headers={
        "Content-Type": "application/json", **bearer("cashier")})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    import json

    return response.status, json.loads(body) if body else {}


@pytest.mark.parametrize("path", [
    "/api/v1/billing/../../../internal/events",
    "/api/v1/billing/%2e%2e/%2E%2E/%2e%2e/internal/events",
    "/api/v1/billing/..%2f..%2f..%2finternal/events",
    "/api/v1/billing/invoices/../../../../openapi.json",
    "/api/v1/billing/./../../../healthz",
    "/api/v1/billing/%252e%252e/%252e%252e/internal/events",
    "/api/v1/billing/invoices%2F1",
])
def test_a_path_that_climbs_out_of_the_public_api_is_refused_and_never_reaches_billing(gateway_url, billing_calls,
                                                                                       path):
    status, problem = send_as_is(gateway_url, "POST", path)

    assert status == 400 and problem["code"] == "PATH_NOT_ALLOWED"
    assert billing_calls == []


def test_an_ordinary_public_path_still_goes_through(gateway_url, billing_calls):
    status, _body = send_as_is(gateway_url, "GET", "/api/v1/billing/invoices?limit=5")

    assert status == 200 and billing_calls == ["/api/v1/billing/invoices"]
