"""JSON logs that carry the X-Request-ID the gateway creates and every hop forwards."""

import logging
import re
import sys
import time
import uuid

from flask import Flask, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"
# What a caller may choose as its request id: it is logged, forwarded and stored (varchar 64) as it is.
REQUEST_ID_FORM = re.compile(r"[A-Za-z0-9._:-]{1,64}")


class RequestContextFilter(logging.Filter):
    """Stamp each record with the service name and the current request id."""

    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        record.request_id = g.get("request_id", "-") if has_request_context() else getattr(
            record, "request_id", "-")
        return True


def configure_logging(service: str, level: str = "INFO") -> None:
    """Send JSON lines to stderr once per process."""
    root = logging.getLogger()
    if any(getattr(h, "_hospital_json", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler._hospital_json = True
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(service)s %(request_id)s %(message)s"))
    handler.addFilter(RequestContextFilter(service))
    root.addHandler(handler)
    root.setLevel(level)


def current_request_id() -> str | None:
    """Return this request's id, if there is a request."""
    return g.get("request_id") if has_request_context() else None


def trusted_request_id(supplied: str | None) -> str:
    """The caller's request id when it is 1–64 letters, digits or `._:-`; a new one otherwise (never refused)."""
    if supplied and REQUEST_ID_FORM.fullmatch(supplied):
        return supplied
    return uuid.uuid4().hex


def install_request_id(app: Flask) -> None:
    """Adopt the caller's X-Request-ID (or create one), echo it back, and log each request."""
    access = logging.getLogger(f"{app.name}.access")

    @app.before_request
    def _adopt_request_id():
        g.request_id = trusted_request_id(request.headers.get(REQUEST_ID_HEADER))
        g.request_started = time.perf_counter()

    @app.after_request
    def _echo_request_id(response):
        response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
        if access.isEnabledFor(logging.INFO) and not request.path.startswith("/healthz"):
            elapsed_ms = int((time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000)
            access.info("request", extra={"method": request.method, "path": request.path,
                                          "status": response.status_code, "elapsed_ms": elapsed_ms})
        return response
