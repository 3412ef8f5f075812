"""One error base for the whole system and the handler that turns every failure into RFC 9457 problem+json."""

import logging
import sqlite3
from http import HTTPStatus

import psycopg2
import psycopg2.errors
import redis
import requests
from flask import Flask, jsonify
from playhouse.pool import MaxConnectionsExceeded
from werkzeug.exceptions import HTTPException

PROBLEM_TYPE_BASE = "https://errors.hospital-inventory.local/"
log = logging.getLogger(__name__)


class ApiError(Exception):
    """A failure the caller can act on; subclasses fix the HTTP status and a stable `code`."""

    status = 400
    code = "BAD_REQUEST"
    title = "Bad request"
    retry_after: int | None = None  # seconds, sent as Retry-After (503, 429)

    def __init__(self, detail: str | None = None, *, code: str | None = None, errors: dict | None = None,
                 status: int | None = None, title: str | None = None, retry_after: int | None = None, **extra):
        if title is None and status is not None and status != type(self).status:
            title = HTTPStatus(status).phrase  # a status given at the call site: the class's title is not its own
        self.title = title or self.title
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.code = code or self.code
        self.status = status or self.status
        self.retry_after = retry_after if retry_after is not None else self.retry_after
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


class ServiceUnavailable(ApiError):
    """A fault the caller cannot fix but may retry: something we depend on is not answering (503)."""

    status, code, title = 503, "SERVICE_UNAVAILABLE", "The service is temporarily unavailable"
    retry_after = 5


class DatabaseUnavailable(ServiceUnavailable):
    code, title = "DATABASE_UNAVAILABLE", "The database is not reachable"


class DatabaseBusy(ServiceUnavailable):
    code, title, retry_after = "DATABASE_BUSY", "The database is busy", 2


class QueueUnavailable(ServiceUnavailable):
    code, title = "QUEUE_UNAVAILABLE", "The job queue (Redis) is not reachable"


class UpstreamUnavailable(ServiceUnavailable):
    code, title = "UPSTREAM_UNAVAILABLE", "A service behind this one is not reachable"


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
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


# SQLite reports a busy or unusable file as OperationalError, like a typo in a statement; only these are faults.
_SQLITE_BUSY = ("database is locked", "database is busy", "database table is locked")
_SQLITE_UNAVAILABLE = ("unable to open database file", "disk i/o error", "database or disk is full",
                       "readonly database")


def _causes(exc: BaseException):
    """The exception and what it wraps: peewee re-raises the driver's error with it as its first argument."""
    seen, depth = exc, 0
    while seen is not None and depth < 5:
        yield seen
        wrapped = seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None
        seen, depth = wrapped or seen.__cause__ or seen.__context__, depth + 1


def lost_a_race(exc: BaseException) -> bool:
    """Tell whether a failure was a deadlock or serialization failure: the same work, tried again, may pass."""
    return any(isinstance(seen, psycopg2.errors.TransactionRollbackError) for seen in _causes(exc))


def fault_of(exc: BaseException) -> ServiceUnavailable | None:
    """Return the 503 a failure of a dependency stands for (database, Redis, another service), or None for a bug."""
    for seen in _causes(exc):
        if isinstance(seen, sqlite3.OperationalError):
            message = str(seen).lower()
            if any(text in message for text in _SQLITE_BUSY):
                return DatabaseBusy("The database is busy with other work; send the request again shortly")
            if any(text in message for text in _SQLITE_UNAVAILABLE):
                return DatabaseUnavailable("The database cannot be used right now; send the request again shortly")
        elif isinstance(seen, psycopg2.errors.TransactionRollbackError):  # a deadlock or serialization failure
            return DatabaseBusy("This work ran into other work on the same rows; send the request again")
        elif isinstance(seen, psycopg2.OperationalError | psycopg2.InterfaceError | MaxConnectionsExceeded):
            return DatabaseUnavailable("The database is not answering; send the request again shortly")
        elif isinstance(seen, redis.ConnectionError | redis.TimeoutError):
            return QueueUnavailable("The job queue is not answering; send the request again shortly")
        elif isinstance(seen, requests.ConnectionError | requests.Timeout):
            return UpstreamUnavailable("A service this request needs is not answering; send it again shortly")
    return None


def problem_of_http_exception(exc: HTTPException) -> ApiError:
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
        return problem_response(problem_of_http_exception(exc))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        fault = fault_of(exc)
        if fault is not None:
            log.warning("answered %s %s: %s: %s", fault.status, fault.code, type(exc).__name__, exc)
            return problem_response(fault)
        log.exception("unhandled error")
        error = ApiError("An unexpected error occurred; it has been logged.", code="INTERNAL_ERROR", status=500)
        error.title = "Internal server error"
        return problem_response(error)


def get_or_404(model, *conditions, detail: str, code: str):
    """Return the row of `model` matching `conditions`, or raise a 404 problem naming what is missing."""
    row = model.get_or_none(*conditions)
    if row is None:
        raise NotFound(detail, code=code)
    return row
