"""The gateway's one OpenAPI document: its own paths and every public path of the services it forwards to.

Each service documents itself (`/openapi.json`, common.app). The gateway fetches those documents over HTTP, as a
client would, keeps each for OPENAPI_CACHE_SECONDS, and merges them into its own: a service's path
`/api/v1/<area>/...` is served by the gateway at the same path (gateway.proxy forwards `/api/v1/<area>/<rest>` to
the service's `/api/v1/<area>/<rest>`), so only paths under an area the proxy forwards to that service are taken;
its `/internal/...`, `/healthz` and `/openapi.json` are not public through the gateway and are left out.

Components of the same name and the same content are kept once (the problem+json schema, the bearer scheme, the
error responses); a name that means something else in a service is renamed with the service's prefix
(`Billing...`) and every `$ref` of that service's document follows. A service that does not answer is left out for
this request and named in `x-services-missing` (tried again on the next request), so the document is never a 5xx.
"""

import copy
import json
import logging
import threading
import time

import requests
from flask import current_app

from common.clients import call_service
from gateway.config import PROXIED_AREAS

log = logging.getLogger(__name__)
DOCUMENT_PATH = "/openapi.json"
COMPONENT_REF = "#/components/{section}/{name}"
CACHE = "openapi_documents"  # app.extensions[CACHE]: service -> (fetched at, document), per app
_cache_lock = threading.Lock()


def areas_of(service: str) -> tuple[str, ...]:
    """The areas (`/api/v1/<area>/...`) the proxy forwards to a service."""
    return tuple(area for area, owner in PROXIED_AREAS.items() if owner == service)


def public_paths(service: str, document: dict) -> dict:
    """The paths of a service's document that the gateway's proxy serves, at the gateway's path."""
    prefixes = tuple(f"/api/v1/{area}/" for area in areas_of(service))
    return {path: item for path, item in document.get("paths", {}).items() if path.startswith(prefixes)}


def merge(own: dict, services: dict[str, dict | None]) -> dict:
    """Merge the services' documents (None: not answering) into a copy of the gateway's own document."""
    merged = copy.deepcopy(own)
    merged.setdefault("components", {})
    tags = {tag["name"] for tag in merged.get("tags", [])}
    for service, document in services.items():
        if document is None:
            continue
        renames = component_renames(merged["components"], document.get("components", {}), service_prefix(service))
        document = rewrite_refs(document, renames)
        for section, entries in document.get("components", {}).items():
            for name, value in entries.items():
                merged["components"].setdefault(section, {})[renames.get((section, name), name)] = value
        for path, item in public_paths(service, document).items():
            merged["paths"][path] = {**item, **{method: proxied(operation, service) for method, operation
                                                in item.items() if method in HTTP_METHODS}}
        used = {tag for item in public_paths(service, document).values() for method, operation in item.items()
                if method in HTTP_METHODS for tag in operation.get("tags", [])}
        for tag in document.get("tags", []):
            if tag["name"] in used and tag["name"] not in tags:
                tags.add(tag["name"])
                merged.setdefault("tags", []).append(tag)
    missing = [service for service, document in services.items() if document is None]
    if missing:
        merged["x-services-missing"] = missing
        merged["info"] = {**merged["info"], "description": (
            "Not answering when this document was made, so their paths are missing: " + ", ".join(missing))}
    return merged


HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
# What the gateway's proxy adds to every operation it forwards (gateway.proxy): a path with dot segments or encoded
# slashes is refused, and a service that does not answer in time is a 504 (one that is down, a 503, is declared).
PROXY_ANSWERS = {"400": {"description": "Bad Request (PATH_NOT_ALLOWED: dot segments or encoded slashes in the "
                                        "path)", "content": PROBLEM},
                 "504": {"description": "Gateway Timeout (UPSTREAM_TIMEOUT)", "content": PROBLEM}}


def proxied(operation: dict, service: str) -> dict:
    """A service's operation as the gateway serves it: who answers it, and what the proxy itself may answer."""
    own = operation.get("responses", {})
    responses = dict(sorted({**own, **{status: answer for status, answer in PROXY_ANSWERS.items()
                                       if status not in own}}.items()))
    return {**operation, "responses": responses, "x-service": service}


def service_prefix(service: str) -> str:
    """`billing_service` -> `Billing`: the prefix of a service's components whose names clash."""
    return service.removesuffix("_service").title().replace("_", "")


def component_renames(merged: dict, theirs: dict, prefix: str) -> dict[tuple[str, str], str]:
    """Decide which of a service's components must be renamed: a name taken in `merged` by other content.

    Content is compared after the renames decided so far (a schema that only refers to a renamed one differs
    too), until nothing more changes.
    """
    renames: dict[tuple[str, str], str] = {}
    changed = True
    while changed:
        changed = False
        for section, entries in theirs.items():
            for name, value in entries.items():
                if (section, name) in renames or name not in merged.get(section, {}):
                    continue
                if merged[section][name] != rewrite_refs(value, renames):
                    renames[(section, name)] = free_name(f"{prefix}{name}", merged.get(section, {}), entries)
                    changed = True
    return renames


def free_name(wanted: str, *taken: dict) -> str:
    """`wanted`, or `wanted2`, `wanted3`... : the first name in none of the `taken` sections."""
    name, n = wanted, 1
    while any(name in section for section in taken):
        n += 1
        name = f"{wanted}{n}"
    return name


def rewrite_refs(value, renames: dict[tuple[str, str], str]):
    """A copy of `value` whose `$ref`s to renamed components point at their new names."""
    if not renames:
        return value
    targets = {COMPONENT_REF.format(section=section, name=name): COMPONENT_REF.format(section=section, name=new)
               for (section, name), new in renames.items()}

    def walk(node):
        if isinstance(node, dict):
            return {key: (targets.get(item, item) if key == "$ref" and isinstance(item, str) else walk(item))
                    for key, item in node.items()}
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    return walk(value)


def service_document(service: str) -> dict | None:
    """A service's own document (cached for OPENAPI_CACHE_SECONDS), or None when it does not answer."""
    config = current_app.config
    cache = current_app.extensions[CACHE]
    with _cache_lock:
        cached = cache.get(service)
    if cached is not None and time.monotonic() - cached[0] < config["OPENAPI_CACHE_SECONDS"]:
        return cached[1]
    try:
        answer = call_service("GET", service, DOCUMENT_PATH, timeout_ms=config["OPENAPI_FETCH_TIMEOUT_MS"])
        answer.raise_for_status()
        document = answer.json()
    except (requests.RequestException, ValueError) as exc:
        log.warning("no OpenAPI document from %s: %s", service, exc)
        return cached[1] if cached is not None else None  # an older copy is better than none
    with _cache_lock:
        cache[service] = (time.monotonic(), document)
    return document


def install(app, api) -> None:
    """Serve the merged document at the gateway's /openapi.json (which /docs, the vendored Swagger UI, shows)."""
    endpoint = f"{api._make_doc_blueprint_name()}.openapi_json"
    app.extensions[CACHE] = {}

    def openapi_json():
        services = {service: service_document(service) for service in dict.fromkeys(PROXIED_AREAS.values())}
        document = merge(api.spec.to_dict(), services)
        return current_app.response_class(json.dumps(document, indent=2, ensure_ascii=False),
                                          mimetype="application/json")

    app.view_functions[endpoint] = openapi_json
    # Tags folded, with a filter box: Swagger UI (5.35) stops drawing a list of every operation expanded at once
    # when a document has more than about 110 paths; folded, each tag opens whole.
    app.config["OPENAPI_SWAGGER_UI_CONFIG"] = {**app.config.get("OPENAPI_SWAGGER_UI_CONFIG", {}),
                                               "docExpansion": "none", "filter": True}
