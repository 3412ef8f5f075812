"""The shared input bounds, as callers meet them through HTTP: deep JSON, ids past their column, control characters,
dates out of range, cursor paging of every list."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.bounds import INT4_MAX, MAX_AMOUNT, MAX_STOCK_QUANTITY, MAX_UNIT_PRICE, json_depth_exceeds
from tests.lab.catalogue import GLUCOSE_REAGENT, HEAD, add_reagent
from tests.support import bearer

DEEP = b"[" * 50_000 + b"]" * 50_000  # 100 KB: RecursionError in json.loads


def test_the_ceilings_keep_every_sum_far_below_64_bits():
    assert MAX_STOCK_QUANTITY * 20 < INT4_MAX
    assert MAX_AMOUNT * 90_000 < 2**63
    assert MAX_STOCK_QUANTITY * MAX_UNIT_PRICE < 2**63


def test_nesting_is_measured_outside_strings_only():
    assert not json_depth_exceeds(json.dumps({"memo": "[" * 100}).encode())
    assert json_depth_exceeds(b'{"a":' * 40 + b"1" + b"}" * 40)
    assert not json_depth_exceeds(b'{"a":' * 20 + b"1" + b"}" * 20)


def _depth(value) -> int:
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return (1 + max(map(_depth, children), default=0)) if isinstance(value, dict | list) else 0


# strings full of brackets, quotes and backslashes, so only a scan that knows where strings end gets it right
TRICKY_TEXT = st.text(alphabet='[]{}"\\, aĐ', max_size=6)
JSON_VALUES = st.recursive(st.none() | st.integers() | TRICKY_TEXT,
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TRICKY_TEXT, inner, max_size=3),
                           max_leaves=80)


@given(JSON_VALUES, st.integers(0, 40))
def test_the_depth_scan_agrees_with_the_parsed_depth(value, wraps):
    value = _wrapped(value, wraps)
    text = json.dumps(value, ensure_ascii=False).encode()
    assert json_depth_exceeds(text) == (_depth(value) > 32)


def _wrapped(value, times: int):
    for _ in range(times):
        value = [value]
    return value


@pytest.mark.parametrize("path", ["/api/v1/auth/token", "/api/v1/billing/webhooks/bank-transfer",
                                  "/api/v1/billing/webhooks/stripe"])
def test_a_stranger_sending_50000_deep_json_gets_400_malformed_json(make_app, path):
    service = "gateway" if "auth" in path else "billing_service"
    client = make_app(service).test_client()
    response = client.post(path, data=DEEP, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["code"] == "MALFORMED_JSON"
    assert response.mimetype == "application/problem+json"


def test_a_webhook_sent_deep_json_as_text_gets_400_not_500(make_app):
    client = make_app("billing_service").test_client()
    response = client.post("/api/v1/billing/webhooks/bank-transfer", data=DEEP, headers={"Content-Type": "text/plain"})
    assert response.status_code in (400, 401)  # the signature is checked first; never a 500


def test_a_user_name_with_nul_at_sign_in_is_refused_with_422(make_app):
    client = make_app("gateway").test_client()
    response = client.post("/api/v1/auth/token", json={"username": "admin\u0000", "password": "demo"})
    assert response.status_code == 422
    assert "username" in response.get_json()["errors"]


@pytest.mark.parametrize("path", ["/api/v1/lab/test-runs/35313816068739901161472",
                                  "/api/v1/lab/test-runs/2147483648",
                                  "/api/v1/lab/reagents/GLU%00"])
def test_a_path_past_its_column_finds_nothing(make_app, path):
    client = make_app("lab_service").test_client()
    response = client.get(path, headers=bearer("lab_tech"))
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_the_lab_head_cannot_name_a_reagent_with_a_nul_or_only_spaces(make_app):
    client = make_app("lab_service").test_client()
    for name in ("Glucose\u0000", "   "):
        response = client.post("/api/v1/lab/reagents", json={**GLUCOSE_REAGENT, "name": name}, headers=HEAD)
        assert response.status_code == 422, name
        assert "name" in response.get_json()["errors"]


def test_a_yield_report_over_ten_thousand_years_is_refused(make_app):
    client = make_app("lab_service").test_client()
    response = client.get("/api/v1/lab/reports/reagent-yield?from=0001-01-01&to=9999-12-31", headers=HEAD)
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"from", "to"}
    backwards = client.get("/api/v1/lab/reports/reagent-yield?from=2026-12-01&to=2026-11-01", headers=HEAD)
    assert backwards.status_code == 422


def test_the_openapi_document_declares_problem_json_errors_and_bounds(make_app):
    spec = make_app("lab_service").test_client().get("/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/lab/reagents/{code}/lots"]["post"]
    assert {"400", "401", "403", "404", "409", "422", "503"} <= set(operation["responses"])
    assert "application/problem+json" in spec["components"]["responses"]["NOT_FOUND"]["content"]
    lot = spec["components"]["schemas"]["Lot"]["properties"]
    assert lot["quantity"]["maximum"] == MAX_STOCK_QUANTITY
    assert lot["lot_number"]["maxLength"] == 60


def test_the_lab_head_pages_through_every_reagent_by_cursor(make_app):
    client = make_app("lab_service").test_client()
    codes = [f"R{number:03d}" for number in range(7)]
    for code in codes:
        add_reagent(client, GLUCOSE_REAGENT, code=code)
    seen, url = [], "/api/v1/lab/reagents?limit=3"
    while url:
        response = client.get(url, headers=HEAD)
        assert response.status_code == 200
        seen += [reagent["code"] for reagent in response.get_json()]
        link = response.headers.get("Link")
        url = link[link.index("<") + 1:link.index(">")] if link else None
        if url:
            assert response.headers["X-Next-Cursor"] in url
    assert seen == codes


def test_a_cursor_from_nowhere_is_refused_with_422(make_app):
    client = make_app("lab_service").test_client()
    for cursor in ("not-a-cursor", "ImFiYyI", "OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk"):  # garbage, "abc", 10²⁹
        response = client.get(f"/api/v1/lab/test-runs?cursor={cursor}", headers=HEAD)
        assert response.status_code == 422, (cursor, response.get_data(as_text=True))


def test_a_client_pages_a_lab_list_through_the_gateway_with_the_same_links(make_app, live_server):
    lab = make_app("lab_service")
    live_server(lab)
    for code in ("R001", "R002", "R003"):
        add_reagent(lab.test_client(), GLUCOSE_REAGENT, code=code)
    gateway = make_app("gateway").test_client()
    first = gateway.get("/api/v1/lab/reagents?limit=2", headers=HEAD)
    assert [reagent["code"] for reagent in first.get_json()] == ["R001", "R002"]
    link = first.headers["Link"]
    second = gateway.get(link[link.index("<") + 1:link.index(">")], headers=HEAD)
    assert [reagent["code"] for reagent in second.get_json()] == ["R003"]
    assert "Link" not in second.headers
