"""Forwarding of /api/v1/lab|pharmacy|billing/... to the services, with timeouts and problem+json on failure.

urllib3 is used directly (not requests): the proxy is the gateway's hot path and a pooled urllib3 call costs
a fraction of a requests call.
"""

import logging
from urllib.parse import unquote

import urllib3
from flask import Response, current_app, g, request, stream_with_context

from common.errors import ApiError, UpstreamTimeout, UpstreamUnavailable
from common.logs import REQUEST_ID_HEADER
from gateway.config import PROXIED_AREAS
from gateway.read_audit import audit_service_read

log = logging.getLogger(__name__)
FORWARDED_REQUEST_HEADERS = ("Authorization", "Content-Type", "Accept", "Idempotency-Key", "Stripe-Signature",
                             "X-Signature")
RETURNED_HEADERS = ("Content-Type", "Content-Disposition", "Location", "Idempotent-Replayed", "Cache-Control",
                    "X-Next-Cursor", "Link")  # the next page of a list (common.paging)
STREAM_CHUNK = 64 * 1024
_pool = urllib3.PoolManager(num_pools=8, maxsize=64, block=False, retries=False)


class PathRefused(ApiError):
    status, code, title = 400, "PATH_NOT_ALLOWED", "The path may not be forwarded"


def _refuse_path_tricks() -> None:
    """Refuse dot segments (`..`, `.`, also percent-encoded) and encoded slashes in the path as the client sent it.

    The proxy adds `/api/v1/<area>/` in front of what follows; `..` would climb out of it to a service's
    non-public paths (`/internal/...`, `/openapi.json`, `/healthz`) once a client library normalises the URL.
    """
    raw = (request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or request.path).split("?", 1)[0]
    for segment in raw.split("/"):
        decoded = unquote(unquote(segment))
        if decoded in (".", "..") or "/" in decoded or "\\" in decoded:
            raise PathRefused("Paths with '.' or '..' segments or encoded slashes are not forwarded")


def forward(area: str, rest: str):
    """Send the request on to the service that owns `area` and relay its answer."""
    _refuse_path_tricks()
    service = PROXIED_AREAS[area]
    config = current_app.config
    url = f"{config['SERVICE_URLS'][service]}/api/v1/{area}/{rest}"
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    headers = {name: request.headers[name] for name in FORWARDED_REQUEST_HEADERS if name in request.headers}
    headers[REQUEST_ID_HEADER] = g.request_id
    timeout = urllib3.Timeout(connect=config["PROXY_CONNECT_TIMEOUT_MS"] / 1000,
                              read=config["PROXY_READ_TIMEOUT_MS"] / 1000)
    try:
        upstream = _pool.request(request.method, url, body=request.get_data() or None, headers=headers,
                                 timeout=timeout, preload_content=False, redirect=False)
    except urllib3.exceptions.NewConnectionError:  # (a subclass of ConnectTimeoutError in urllib3 2)
        raise UpstreamUnavailable(f"{service} is not reachable right now; try again shortly") from None
    except (urllib3.exceptions.ReadTimeoutError, urllib3.exceptions.ConnectTimeoutError):
        raise UpstreamTimeout(f"{service} did not answer within the time limit") from None
    except urllib3.exceptions.HTTPError as exc:
        log.warning("proxy to %s failed: %s", service, exc)
        raise UpstreamUnavailable(f"{service} is not reachable right now; try again shortly") from None
    return _relay(upstream)


def _relay(upstream: urllib3.BaseHTTPResponse) -> Response:
    headers = {name: upstream.headers[name] for name in RETURNED_HEADERS if name in upstream.headers}
    audit_service_read(upstream.headers, upstream.status)  # a read of patient data the service named
    if "Content-Length" in upstream.headers:
        body = upstream.read()
        upstream.release_conn()
        return Response(body, status=upstream.status, headers=headers)

    def chunks():
        try:
            yield from upstream.stream(STREAM_CHUNK)
        finally:
            upstream.release_conn()

    return Response(stream_with_context(chunks()), status=upstream.status, headers=headers)
