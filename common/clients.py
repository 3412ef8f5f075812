"""Calls from one service to another: pooled sessions per thread, timeouts, request id and service token."""

import threading

import requests
from flask import current_app

from common.logs import REQUEST_ID_HEADER, current_request_id

_local = threading.local()


def session() -> requests.Session:
    """Return this thread's pooled session (keep-alive connections are reused across calls)."""
    pooled = getattr(_local, "session", None)
    if pooled is None:
        pooled = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=8, pool_maxsize=32, max_retries=0)
        pooled.mount("http://", adapter)
        pooled.mount("https://", adapter)
        _local.session = pooled
    return pooled


def service_headers(config, request_id: str | None = None) -> dict[str, str]:
    """Headers that identify a service-to-service call."""
    headers = {"X-Service-Token": config.get("SERVICE_TOKEN") or "", "X-Service-Name": config["SERVICE_NAME"]}
    request_id = request_id or current_request_id()
    if request_id:
        headers[REQUEST_ID_HEADER] = request_id
    return headers


def call_service(method: str, service: str, path: str, *, config=None, json=None, data=None, params=None,
                 headers: dict | None = None, timeout_ms: int | None = None) -> requests.Response:
    """Call another service's HTTP API with the service token and a timeout; raises requests exceptions."""
    config = config if config is not None else current_app.config
    url = config["SERVICE_URLS"][service] + path
    merged = service_headers(config)
    merged.update(headers or {})
    timeout = (timeout_ms or config["HTTP_TIMEOUT_MS"]) / 1000
    return session().request(method, url, json=json, data=data, params=params, headers=merged, timeout=timeout)
