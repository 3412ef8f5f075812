"""The one way a page talks to the system: the gateway's own public API (/api/v1/...), called in-process.

A page handler never reads a table or repeats a rule: it asks the same routes an API user asks, with the signed-in
user's token, so the same roles, validation, idempotency, audit and proxying apply. The call goes through the
gateway's WSGI app inside this process (no socket, no second worker thread held while the page waits), in a
context of its own, so the API request has its own `g` and request context, as it would over HTTP.
"""

import contextvars
import json
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
    next_cursor: str | None = None  # a list with more rows: where its next page starts (common.paging)


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

    def page(self, path: str, **params) -> tuple[list, str | None]:
        """GET one page of a list: its rows and the cursor of the next page (None on the last)."""
        query = {name: value for name, value in params.items() if value not in (None, "")}
        answer = self.call("GET", path, query=query)
        return items(answer.body), answer.next_cursor

    def patch(self, path: str, body: dict) -> Answer:
        """PATCH JSON; raise Refusal on a 4xx/5xx answer."""
        return self.call("PATCH", path, body=body)

    def post(self, path: str, body: dict | None = None, idempotency_key: str | None = None) -> Answer:
        """POST JSON (with an Idempotency-Key when given); raise Refusal on a 4xx/5xx answer."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self.call("POST", path, body=body, headers=headers)

    def call(self, method: str, path: str, *, query: dict | None = None, body: dict | None = None,
             headers: dict | None = None) -> Answer:
        """Send one request through the gateway app and decode its answer."""
        sent = {"Accept": "application/json", "X-Request-ID": g.get("request_id", ""), **(headers or {})}
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        # The same body for the same form: a resubmission matches its Idempotency-Key's stored request.
        data = None if body is None else json.dumps(body, sort_keys=True, ensure_ascii=False).encode()
        builder = EnvironBuilder(path=path, method=method, query_string=query, data=data, headers=sent,
                                 content_type="application/json" if data is not None else None,
                                 environ_base={"REMOTE_ADDR": request.remote_addr or "127.0.0.1"})
        app = current_app._get_current_object()
        status, response_headers, payload = contextvars.Context().run(_run, app, builder.get_environ())
        decoded = json.loads(payload) if payload and _is_json(response_headers) else None
        if status >= 400:
            raise Refusal(status, decoded if isinstance(decoded, dict) else {"detail": payload[:200].decode(
                "utf-8", "replace")})
        return Answer(status, decoded, response_headers.get("Idempotent-Replayed") == "true",
                      response_headers.get("X-Next-Cursor"))


def _run(app, environ) -> tuple[int, dict, bytes]:
    """Run the app on one request in the current (fresh) context and read its whole answer."""
    body, status, headers = run_wsgi_app(app, environ, buffered=True)  # read whole, and closed, in this context
    return int(status.split(" ", 1)[0]), dict(headers), b"".join(body)


def _is_json(headers: dict) -> bool:
    return headers.get("Content-Type", "").split(";")[0].strip() in PROBLEM_TYPES
