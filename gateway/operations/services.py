"""Admin's overview: every service's outbox messages in one state, read from each service (the gateway's own here)."""

import requests

from common.app import OutboxMessageSchema, outbox_messages
from common.clients import call_service
from common.config import SERVICE_PATH_PREFIX

OVERVIEW_TIMEOUT_MS = 2000


def outbox_overview(state: str, limit: int) -> dict:
    """List each service's `rejected` (or `stuck`) outbox messages; a service that does not answer says so."""
    services = [_own_outbox(state, limit)]
    for service, area in SERVICE_PATH_PREFIX.items():
        services.append(_service_outbox(service, area, state, limit))
    return {"state": state, "total": sum(len(s["messages"]) for s in services), "services": services}


def _own_outbox(state: str, limit: int) -> dict:
    return {"service": "gateway", "available": True, "error": None, "messages": outbox_messages(state, limit)}


def _service_outbox(service: str, area: str, state: str, limit: int) -> dict:
    try:
        response = call_service("GET", service, f"/api/v1/{area}/outbox", params={"state": state, "limit": limit},
                                timeout_ms=OVERVIEW_TIMEOUT_MS)
    except requests.RequestException as exc:
        return {"service": service, "available": False, "error": type(exc).__name__, "messages": []}
    if response.status_code != 200:
        return {"service": service, "available": False, "error": f"HTTP {response.status_code}", "messages": []}
    messages = OutboxMessageSchema(many=True).load(response.json())  # read back as the gateway's own are
    return {"service": service, "available": True, "error": None, "messages": messages}


INTEGRITY_TIMEOUT_MS = 30_000  # a full walk of a large ledger takes a while


def integrity_overview() -> dict:
    """Check every service's ledger chains (the gateway's own here); a service that does not answer says so."""
    from common.integrity import verify

    services = [{"service": "gateway", "available": True, "error": None, **verify()}]
    for service, area in SERVICE_PATH_PREFIX.items():
        try:
            response = call_service("GET", service, f"/api/v1/{area}/integrity", timeout_ms=INTEGRITY_TIMEOUT_MS)
        except requests.RequestException as exc:
            services.append({"service": service, "available": False, "error": type(exc).__name__, "clean": None,
                             "chains": []})
            continue
        if response.status_code != 200:
            services.append({"service": service, "available": False, "error": f"HTTP {response.status_code}",
                             "clean": None, "chains": []})
            continue
        services.append({"available": True, "error": None, **response.json()})
    return {"clean": all(s["clean"] for s in services), "services": services}
