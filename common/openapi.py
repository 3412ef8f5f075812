"""What the OpenAPI document of every service says about errors and path parameters, kept true to what it does.

Errors are `application/problem+json` (common.errors); each operation declares the error statuses it can answer
(400 malformed body, 401/403 from the role guard, 404 for a path that names a row, 409 for writes, 422 for
validation, 503 for a fault). Path parameters are bounded like the request fields (common.bounds): an id past its
32-bit column or a text with control characters matches no route (404) instead of reaching the database.
"""

from http import HTTPStatus

from apispec import BasePlugin
from flask import Flask
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from marshmallow import INCLUDE, Schema, fields
from werkzeug.routing import IntegerConverter, UnicodeConverter

from common.bounds import INT4_MAX
from common.idempotency import MAX_KEY_LENGTH

PROBLEM_CONTENT_TYPE = "application/problem+json"
WRITE_METHODS = ("post", "put", "patch", "delete")
PATH_TEXT_PATTERN = r"^[^/\u0000-\u001f\u007f-\u009f]+$"


class ProblemSchema(Schema):
    """An RFC 9457 problem: every error of every service (further members name what went wrong)."""

    class Meta:
        unknown = INCLUDE  # documented as open: a problem may carry more members (shortages, encounter_id...)

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    code = fields.String(required=True, metadata={"description": "stable machine-readable code, e.g. NOT_FOUND"})
    errors = fields.Dict(metadata={"description": "field → messages, for VALIDATION_FAILED"})


class ServiceApi(Api):
    """flask-smorest's Api with problem+json error responses."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self):
        """Register one lazy response per HTTP status (and the default one), as problem+json."""
        for status in HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE if status >= 400 else "application/json")
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)


class DeclaredErrorsPlugin(BasePlugin):
    """Add to every operation the error responses its view can give, read from its guards and its rule."""

    def __init__(self, app: Flask):
        super().__init__()
        self.app = app

    def operation_helper(self, path=None, operations=None, **kwargs):
        rule = kwargs.get("rule")
        view = self.app.view_functions.get(rule.endpoint) if rule is not None else None
        for method, operation in (operations or {}).items():
            responses = operation.setdefault("responses", {})
            for status in _error_statuses(method, rule, view, operation):
                responses.setdefault(status, HTTPStatus(status).name)
            if getattr(view, "idempotent", False):
                required = view.idempotent == "required"
                operation.setdefault("parameters", []).append({**IDEMPOTENCY_KEY_PARAMETER, "required": required})
                if required:
                    responses.setdefault(428, HTTPStatus(428).name)
            if isinstance(responses.get(200), dict) and _has_query_parameter(operation, "cursor"):
                responses[200].setdefault("headers", {}).update(NEXT_PAGE_HEADERS)


IDEMPOTENCY_KEY_PARAMETER = {
    "in": "header", "name": "Idempotency-Key", "required": False,
    "description": ("Any unique text (e.g. a UUID made once per action): a repeat with the same key replays the "
                    "first answer (kept at least 72 h). Required on POSTs that move stock or money (428 without)"),
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": r"^[!-~]+$"},
}


NEXT_PAGE_HEADERS = {
    "X-Next-Cursor": {"description": "present when more rows follow: pass it as `cursor` for the next page",
                      "schema": {"type": "string"}},
    "Link": {"description": 'present when more rows follow: `<URL of the next page>; rel="next"`',
             "schema": {"type": "string"}},
}


def _has_query_parameter(operation: dict, name: str) -> bool:
    return any(p.get("in") == "query" and p.get("name") == name for p in operation.get("parameters", []))


def _error_statuses(method: str, rule, view, operation: dict) -> list[int]:
    statuses = [503]
    if getattr(view, "roles", None) is not None:
        statuses += [401, 403]
    if getattr(view, "service_only", False):
        statuses.append(401)
    if rule is not None and rule.arguments:
        statuses.append(404)
    if method in WRITE_METHODS:
        statuses += [400, 409, 413, 422]
    if any(parameter.get("in") == "query" for parameter in operation.get("parameters", [])):
        statuses.append(422)
    return sorted(set(statuses))


def also_answers(content_type: str, description: str, status: int = 200) -> dict:
    """The `@blp.doc(...)` arguments documenting a second content type of a success answer (CSV, FHIR JSON)."""
    return {"responses": {status: {"description": description, "content": {content_type: {"schema": {
        "type": "string" if "json" not in content_type else "object"}}}}}}


class RowIdConverter(IntegerConverter):
    """`<int:...>` in a route: a row id that fits its 32-bit serial column (1..2³¹−1), else no match (404)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", INT4_MAX)
        super().__init__(map, *args, **kwargs)


class PathTextConverter(UnicodeConverter):
    """A text segment of a route (a code, a lot number): without control characters, else no match (404)."""

    def __init__(self, map, *args, **kwargs):
        super().__init__(map, *args, **kwargs)
        self.regex = self.regex.replace("[^/]", "[^/\\x00-\\x1f\\x7f-\\x9f]", 1)


def install_converters(app: Flask) -> None:
    """Bound the path parameters of every route added from now on."""
    app.url_map.converters["int"] = RowIdConverter
    app.url_map.converters["default"] = app.url_map.converters["string"] = PathTextConverter


def document_converters(api: Api) -> None:
    """Describe the bounded path parameters in the OpenAPI document."""
    api.register_converter(RowIdConverter, lambda converter: {"type": "integer", "minimum": converter.min,
                                                              "maximum": converter.max})
    api.register_converter(PathTextConverter, lambda converter: {"type": "string", "minLength": 1,
                                                                 "pattern": PATH_TEXT_PATTERN})


def build_api(app: Flask) -> Api:
    """Create the service's Api: problem+json errors, declared error responses, bounded path parameters."""
    api = ServiceApi(app, spec_kwargs={"extra_plugins": [DeclaredErrorsPlugin(app)]})
    document_converters(api)
    return api

