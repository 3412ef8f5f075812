"""One error base for the whole system and the handler that turns every failure into RFC 9457 problem+json."""

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

PROBLEM_TYPE_BASE = "https://errors.hospital-inventory.local/"
log = logging.getLogger(__name__)


class ApiError(Exception):
    """A failure the caller can act on; subclasses fix the HTTP status and a stable `code`."""

    status = 400
    code = "BAD_REQUEST"
    title = "Bad request"

    def __init__(self, detail: str | None = None, *, code: str | None = None, errors: dict | None = None,
                 status: int | None = None, **extra):
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.code = code or self.code
        self.status = status or self.status
        self.errors = errors
        self.extra = extra

    def to_problem(self) -> dict:
        """Return the problem+json body of this error."""
        body = {
            "type": PROBLEM_TYPE_BASE + self.code.lower().replace("_", "-"),
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


class ValidationFailed(ApiError):
    status, code, title = 422, "VALIDATION_FAILED", "The request did not pass validation"


class Unauthorized(ApiError):
    status, code, title = 401, "UNAUTHORIZED", "Authentication required"


class Forbidden(ApiError):
    status, code, title = 403, "FORBIDDEN", "Not allowed for this role"


class NotFound(ApiError):
    status, code, title = 404, "NOT_FOUND", "Not found"


class Conflict(ApiError):
    status, code, title = 409, "CONFLICT", "Conflict with the current state"


class InsufficientStock(Conflict):
    code, title = "INSUFFICIENT_STOCK", "Not enough usable stock"


class UpstreamUnavailable(ApiError):
    status, code, title = 502, "UPSTREAM_UNAVAILABLE", "A service behind the gateway is unavailable"


class UpstreamTimeout(ApiError):
    status, code, title = 504, "UPSTREAM_TIMEOUT", "A service behind the gateway did not answer in time"


_HTTP_CODES = {
    400: "MALFORMED_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT", 413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE", 422: "VALIDATION_FAILED",
    429: "TOO_MANY_REQUESTS",
}


def problem_response(error: ApiError):
    """Build the Flask response for an ApiError."""
    response = jsonify(error.to_problem())
    response.status_code = error.status
    response.mimetype = "application/problem+json"
    return response


def _from_http_exception(exc: HTTPException) -> ApiError:
    """Translate werkzeug/webargs HTTP errors (404, 405, 413, bad JSON, schema errors) into ApiError."""
    status = exc.code or 500
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages") if isinstance(data, dict) else None
    if messages:
        # webargs nests messages by location ("json", "query"); the caller wants field → messages.
        fields = {}
        for location_messages in messages.values():
            if isinstance(location_messages, dict):
                fields.update(location_messages)
        return ValidationFailed("Some fields are invalid: " + ", ".join(sorted(map(str, fields))), errors=fields)
    code = _HTTP_CODES.get(status, "HTTP_ERROR")
    detail = exc.description or exc.name
    if status == 400 and "json" in (detail or "").lower():
        detail = "The request body is not valid JSON"
    error = ApiError(detail, code=code, status=status)
    error.title = exc.name
    return error


def register_error_handlers(app: Flask) -> None:
    """Install the one handler that renders every error as problem+json."""

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return problem_response(exc)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        return problem_response(_from_http_exception(exc))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        error = ApiError("An unexpected error occurred; it has been logged.", code="INTERNAL_ERROR", status=500)
        error.title = "Internal server error"
        return problem_response(error)
