"""Forwarding of /api/v1/lab|pharmacy|billing/... to the services, with timeouts and problem+json on failure."""

import logging

import requests
from flask import Response, current_app, g, request, stream_with_context

from common.clients import session
from common.errors import UpstreamTimeout, UpstreamUnavailable
from common.logs import REQUEST_ID_HEADER
from gateway.config import PROXIED_AREAS

log = logging.getLogger(__name__)
FORWARDED_REQUEST_HEADERS = ("Authorization", "Content-Type", "Accept", "Idempotency-Key", "Stripe-Signature",
                             "X-Signature")
RETURNED_HEADERS = ("Content-Type", "Content-Disposition", "Location", "Idempotent-Replayed", "Cache-Control")
STREAM_CHUNK = 64 * 1024


def forward(area: str, rest: str):
    """Send the request on to the service that owns `area` and relay its answer."""
    service = PROXIED_AREAS[area]
    config = current_app.config
    url = f"{config['SERVICE_URLS'][service]}/api/v1/{area}/{rest}"
    headers = {name: request.headers[name] for name in FORWARDED_REQUEST_HEADERS if name in request.headers}
    headers[REQUEST_ID_HEADER] = g.request_id
    timeout = (config["PROXY_CONNECT_TIMEOUT_MS"] / 1000, config["PROXY_READ_TIMEOUT_MS"] / 1000)
    try:
        upstream = session().request(request.method, url, params=request.args, data=request.get_data(),
                                     headers=headers, timeout=timeout, stream=True, allow_redirects=False)
    except requests.Timeout:
        raise UpstreamTimeout(f"{service} did not answer within the time limit") from None
    except requests.RequestException as exc:
        log.warning("proxy to %s failed: %s", service, exc)
        raise UpstreamUnavailable(f"{service} is not reachable right now; try again shortly") from None
    return _relay(upstream)


def _relay(upstream: requests.Response) -> Response:
    headers = {name: upstream.headers[name] for name in RETURNED_HEADERS if name in upstream.headers}
    if "Content-Length" in upstream.headers:
        body = upstream.content
        upstream.close()
        return Response(body, status=upstream.status_code, headers=headers)

    def chunks():
        try:
            yield from upstream.iter_content(STREAM_CHUNK)
        finally:
            upstream.close()

    return Response(stream_with_context(chunks()), status=upstream.status_code, headers=headers)
