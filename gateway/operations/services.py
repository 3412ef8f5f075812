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
