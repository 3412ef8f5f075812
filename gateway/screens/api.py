"""The one way a page talks to the system: the gateway's own public API (/api/v1/...), called in-process.

A page handler never reads a table or repeats a rule: it asks the same routes an API user asks, with the signed-in
user's token, so the same roles, validation, idempotency, audit and proxying apply. The call goes through the
gateway's WSGI app inside this process (no socket, no second worker thread held while the page waits), in a
context of its own, so the API request has its own `g` and request context, as it would over HTTP.
"""

import contextvars
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask import current_app, g, request
from werkzeug.test import EnvironBuilder, run_wsgi_app

PROBLEM_TYPES = ("application/json", "application/problem+json")


class Refusal(Exception):  # noqa: N818 (what the API answered, not a fault of the page)
    """The API said no: its status and problem+json body, for the page to explain in the user's language."""

    def __init__(self, status: int, problem: dict):
        super().__init__(problem.get("detail") or problem.get("title") or str(status))
        self.status = status
        self.problem = problem

    @property
    def code(self) -> str:
        return str(self.problem.get("code") or "HTTP_ERROR")


@dataclass(frozen=True)
class Answer:
    """A successful API answer: its JSON, and whether it is the replay of an earlier identical request."""

    status: int
    body: Any
    replayed: bool
    next_cursor: str | None = None  # a paged list's X-Next-Cursor (common.paging): more rows follow


def items(body) -> list:
    """Return the rows of a list answer (a plain list, or a page {"items": [...]} once lists are paged)."""
    return body["items"] if isinstance(body, dict) and "items" in body else list(body or [])


class Api:
    """The gateway's public API as one signed-in user (or nobody, for signing in)."""

    def __init__(self, token: str | None):
        self.token = token

    def get(self, path: str, **params) -> Any:
        """GET a JSON resource; raise Refusal on a 4xx/5xx answer."""
        query = {name: value for name, value in params.items() if value is not None}
        return self.call("GET", path, query=query).body

    def page(self, path: str, **params) -> Answer:
        """GET one page of a list: its rows in `body`, and `next_cursor` when more follow."""
        return self.call("GET", path, query={name: value for name, value in params.items() if value is not None})

    def patch(self, path: str, body: dict) -> Answer:
        """PATCH JSON; raise Refusal on a 4xx/5xx answer."""
        return self.call("PATCH", path, body=body)

    def post(self, path: str, body: dict | None = None, idempotency_key: str | None = None) -> Answer:
        """POST JSON (with an Idempotency-Key when given); raise Refusal on a 4xx/5xx answer."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self.call("POST", path, body=body, headers=headers)

    def put(self, path: str, body: dict) -> Answer:
        """PUT JSON (a whole replacement, e.g. a recipe); raise Refusal on a 4xx/5xx answer."""
        return self.call("PUT", path, body=body)

    def post_file(self, path: str, data: bytes, content_type: str, idempotency_key: str | None = None) -> Answer:
        """POST a file's bytes as they are (a remittance CSV); raise Refusal on a 4xx/5xx answer."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self.call("POST", path, data=data, content_type=content_type, headers=headers)

    def download(self, path: str, **params) -> tuple[bytes, dict]:
        """GET a small file the API makes (a CSV) whole: its bytes and headers; raise Refusal on a 4xx/5xx answer."""
        query = {name: value for name, value in params.items() if value is not None}
        status, headers, payload = self.send("GET", path, query=query)
        if status >= 400:
            raise _refusal(status, headers, payload)
        return payload, headers

    def stream(self, path: str, **params) -> "Stream":
        """GET a download (an export, a CSV) without holding it whole: its status, headers and chunks, read as the
        browser takes them; raise Refusal on a 4xx/5xx answer (read whole: a problem is small)."""
        query = {name: value for name, value in params.items() if value is not None}
        context = contextvars.Context()  # the API request's own context, for every chunk it yields
        environ = self._environ("GET", path, query=query, data=None, content_type=None, headers={"Accept": "*/*"})
        app = current_app._get_current_object()
        body, status, headers = context.run(run_wsgi_app, app, environ)
        code = int(status.split(" ", 1)[0])
        if code >= 400:
            payload = b"".join(context.run(list, body))
            context.run(getattr(body, "close", lambda: None))
            raise _refusal(code, dict(headers), payload)
        return Stream(code, dict(headers), _chunks(context, body))

    def call(self, method: str, path: str, *, query: dict | None = None, body: dict | None = None,
             headers: dict | None = None, data: bytes | None = None, content_type: str | None = None) -> Answer:
        """Send one request through the gateway app and decode its answer."""
        status, response_headers, payload = self.send(method, path, query=query, body=body, headers=headers,
                                                      data=data, content_type=content_type)
        if status >= 400:
            raise _refusal(status, response_headers, payload)
        decoded = json.loads(payload) if payload and _is_json(response_headers) else None
        return Answer(status, decoded, response_headers.get("Idempotent-Replayed") == "true",
                      response_headers.get("X-Next-Cursor"))

    def send(self, method: str, path: str, *, query: dict | None = None, body: dict | None = None,
             headers: dict | None = None, data: bytes | None = None,
             content_type: str | None = None) -> tuple[int, dict, bytes]:
        """Send one request through the gateway app: its status, headers and whole body."""
        # The same body for the same form: a resubmission matches its Idempotency-Key's stored request.
        if body is not None:
            data, content_type = json.dumps(body, sort_keys=True, ensure_ascii=False).encode(), "application/json"
        environ = self._environ(method, path, query=query, data=data, content_type=content_type, headers=headers)
        return contextvars.Context().run(_run, current_app._get_current_object(), environ)

    def _environ(self, method: str, path: str, *, query: dict | None, data: bytes | None, content_type: str | None,
                 headers: dict | None) -> dict:
        sent = {"Accept": "application/json", "X-Request-ID": g.get("request_id", ""), **(headers or {})}
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        builder = EnvironBuilder(path=path, method=method, query_string=query, data=data, headers=sent,
                                 content_type=content_type if data is not None else None,
                                 environ_base={"REMOTE_ADDR": request.remote_addr or "127.0.0.1"})
        return builder.get_environ()


@dataclass(frozen=True)
class Stream:
    """A download from the API: its status, headers (Content-Type, Content-Disposition) and body chunks."""

    status: int
    headers: dict
    chunks: Iterator[bytes]


def _chunks(context: contextvars.Context, body) -> Iterator[bytes]:
    """Yield an API answer's chunks, each read in the API request's own context; closed when done or dropped."""
    iterator = iter(body)
    try:
        while True:
            chunk = context.run(next, iterator, None)
            if chunk is None:
                return
            yield chunk
    finally:
        context.run(getattr(body, "close", lambda: None))


def _refusal(status: int, headers: dict, payload: bytes) -> Refusal:
    """Read a 4xx/5xx answer as a Refusal (its problem+json, or the start of its text)."""
    decoded = json.loads(payload) if payload and _is_json(headers) else None
    return Refusal(status, decoded if isinstance(decoded, dict) else {"detail": payload[:200].decode(
        "utf-8", "replace")})


def _run(app, environ) -> tuple[int, dict, bytes]:
    """Run the app on one request in the current (fresh) context and read its whole answer."""
    body, status, headers = run_wsgi_app(app, environ, buffered=True)  # read whole, and closed, in this context
    return int(status.split(" ", 1)[0]), dict(headers), b"".join(body)


def _is_json(headers: dict) -> bool:
    return headers.get("Content-Type", "").split(";")[0].strip() in PROBLEM_TYPES
