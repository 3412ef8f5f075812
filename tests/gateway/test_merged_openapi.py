"""The gateway's /openapi.json is one document: its own paths and every public path of the three services it
forwards to, each once, at the gateway's /api/v1/<area>/... path; it validates against the OpenAPI 3.0 schema and
every $ref resolves; /docs shows it with the vendored Swagger UI (nothing fetched from elsewhere)."""

import re

import jsonschema_rs
import pytest
from schemathesis.specs.openapi.definitions import OPENAPI_30

from gateway.config import PROXIED_AREAS
from gateway.openapi import merge

_RULE_PARAMETER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def operations(document: dict) -> list[tuple[str, str]]:
    return [(method.upper(), path) for path, item in document["paths"].items() for method in item
            if method.upper() in METHODS]


def served_by_proxy(app, service: str) -> set[tuple[str, str]]:
    """Every (method, path) of a service's app that the gateway's proxy forwards, as an OpenAPI path."""
    areas = tuple(f"/api/v1/{area}/" for area, owner in PROXIED_AREAS.items() if owner == service)
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(areas):
            path = _RULE_PARAMETER.sub(r"{\1}", rule.rule)
            found |= {(method, path) for method in rule.methods & METHODS}
    return found


def unresolved_refs(document: dict) -> list[str]:
    missing = []

    def walk(node):
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                _, section, name = ref.removeprefix("#/").split("/", 2)
                if name not in document.get("components", {}).get(section.removeprefix("components/"), {}):
                    missing.append(ref)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    return missing


@pytest.fixture
def stack(make_app, live_server):
    services = {service: make_app(service) for service in dict.fromkeys(PROXIED_AREAS.values())}
    for app in services.values():
        live_server(app)
    return make_app("gateway"), services


def test_every_path_the_proxy_serves_appears_once_and_the_document_validates(stack):
    gateway, services = stack
    document = gateway.test_client().get("/openapi.json").get_json()
    listed = operations(document)

    assert "x-services-missing" not in document
    assert len(listed) == len(set(listed))
    for service, app in services.items():
        expected = served_by_proxy(app, service)
        assert expected, service
        assert expected <= set(listed), (service, sorted(expected - set(listed)))
    proxied = {(m, p) for m, p in listed if document["paths"][p][m.lower()].get("x-service")}
    assert proxied == set().union(*(served_by_proxy(app, s) for s, app in services.items()))
    assert all("504" in document["paths"][p][m.lower()]["responses"] for m, p in proxied)  # the proxy's timeout
    jsonschema_rs.Draft4Validator(OPENAPI_30).validate(document)
    assert unresolved_refs(document) == []


def test_a_component_name_that_means_two_things_is_renamed_and_its_refs_follow():
    own = {"openapi": "3.0.3", "info": {"title": "g", "version": "v1"}, "paths": {},
           "components": {"schemas": {"Problem": {"type": "object"}, "Visit": {"type": "string"}}}}
    billing = {"paths": {"/api/v1/billing/visits": {"get": {"responses": {"200": {"description": "ok", "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/Visits"}}}}}}},
        "/internal/events": {"post": {"responses": {}}}},
        "components": {"schemas": {"Problem": {"type": "object"}, "Visit": {"type": "integer"},
                                   "Visits": {"type": "array", "items": {"$ref": "#/components/schemas/Visit"}}}}}

    merged = merge(own, {"billing_service": billing, "lab_service": None})

    schemas = merged["components"]["schemas"]
    assert schemas["Problem"] == {"type": "object"} and schemas["Visit"] == {"type": "string"}
    assert schemas["BillingVisit"] == {"type": "integer"}
    assert schemas["Visits"]["items"] == {"$ref": "#/components/schemas/BillingVisit"}
    assert list(merged["paths"]) == ["/api/v1/billing/visits"]  # /internal is not public through the gateway
    assert merged["x-services-missing"] == ["lab_service"]


def test_the_document_is_served_even_when_no_service_answers(make_app):
    document = make_app("gateway").test_client().get("/openapi.json").get_json()

    assert set(document["x-services-missing"]) == set(PROXIED_AREAS.values())
    assert "/api/v1/auth/token" in document["paths"]
    jsonschema_rs.Draft4Validator(OPENAPI_30).validate(document)


def test_docs_show_the_merged_document_with_the_vendored_swagger_ui(make_app):
    client = make_app("gateway").test_client()
    page = client.get("/docs").get_data(as_text=True)

    assert "/openapi.json" in page and "/assets/common/swagger-ui/" in page
    assert not re.search(r"(src|href)=\"https?://", page)
    for asset in re.findall(r"/assets/common/swagger-ui/[\w.-]+", page):
        assert client.get(asset).status_code == 200, asset
