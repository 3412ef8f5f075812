"""The one Flask skeleton every service is built on: config, errors, logging, database, docs, health, outbox."""

from collections.abc import Callable, Mapping

import flask
import peewee
from flask import Flask, current_app, jsonify, request
from flask.json.provider import DefaultJSONProvider
from flask_smorest import Api, Blueprint
from marshmallow import Schema, fields, validate

from common import idempotency, outbox, read_audit
from common.auth import require_roles
from common.bounds import MAX_JSON_DEPTH, json_depth_exceeds, load_json
from common.config import base_settings, development_secrets, require_secrets
from common.db import bind_database
from common.errors import Conflict, ServiceUnavailable, register_error_handlers
from common.logs import configure_logging, install_request_id
from common.openapi import build_api, install_converters
from common.paging import PagedQuerySchema, add_next_link, page

SECRETS = ("JWT_SECRET", "SERVICE_TOKEN")
ASSETS_URL = "/assets/common"


def build_app(service: str, title: str, *, proxy: peewee.DatabaseProxy, outbox_model, idempotency_model,
              config: Mapping | None = None, extra_settings: Callable[[], dict] | None = None,
              secrets: tuple[str, ...] = SECRETS) -> tuple[Flask, Api]:
    """Create a configured Flask app and its flask-smorest Api; nothing happens at import time."""
    app = Flask(service)
    app.json = BoundedJSONProvider(app)
    install_converters(app)
    settings = base_settings(service)
    if extra_settings:
        settings.update(extra_settings())
    settings.update(config or {})
    missing = tuple(name for name in secrets if not settings.get(name))
    if missing and settings["APP_ENV"] != "production":
        settings.update(development_secrets(missing))  # random, shared by this host's processes; never a constant
    require_secrets(settings, secrets)
    app.config.update(settings)
    app.config.update(
        API_TITLE=title, API_VERSION="v1", OPENAPI_VERSION="3.0.3", OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json", OPENAPI_SWAGGER_UI_PATH="/docs",
        OPENAPI_SWAGGER_UI_URL=f"{ASSETS_URL}/swagger-ui/",  # vendored (common/static/VENDORED.md): works offline
        OPENAPI_SWAGGER_UI_CONFIG={"validatorUrl": None},  # no badge fetched from the validator's site
        API_SPEC_OPTIONS={"components": {"securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
            "security": [{"bearer": []}]},
        JSON_SORT_KEYS=False,
    )
    configure_logging(service, app.config["LOG_LEVEL"])
    install_request_id(app)
    bind_database(app, proxy, app.config["DATABASE_URL"])
    app.extensions["outbox_model"] = outbox_model
    app.extensions["idempotency_model"] = idempotency_model
    app.extensions.setdefault("periodic_jobs", []).append(idempotency.forget_expired)  # stored answers: >= 72 h
    if app.config.get("REDIS_URL"):
        from common.queue import redis_connection

        app.extensions["redis"] = redis_connection(app.config["REDIS_URL"])
    assets = flask.Blueprint("common_assets", __name__, static_folder="static", static_url_path=ASSETS_URL)
    app.register_blueprint(assets)  # Swagger UI's files, vendored
    api = build_api(app)
    register_error_handlers(app)  # after Api(), so ours replace flask-smorest's JSON error handler
    app.before_request(_reject_malformed_json)
    app.after_request(add_next_link)
    app.after_request(read_audit.expose)  # what a read of patient data covered, for the gateway's audit
    app.add_url_rule("/healthz", "healthz", _healthz)
    return app, api


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing text nested deeper than MAX_JSON_DEPTH (as invalid JSON) before the recursive parser
    sees it: every `request.get_json()` (schemas, the audit, handlers) is safe from RecursionError."""

    def loads(self, s, **kwargs):
        if json_depth_exceeds(s if isinstance(s, bytes) else s.encode()):
            raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        return super().loads(s, **kwargs)


def _reject_malformed_json():
    """Answer 400 for a body that claims to be JSON and is not, or nests too deep, before any schema sees it."""
    if request.is_json and request.content_length != 0 and request.get_data(cache=True):
        if request.get_json(silent=True) is None:  # parsed once: the schemas read it from the request's cache
            load_json(request.get_data(cache=True))  # why it is not JSON (or a body of `null`, which passes)


def _healthz():
    """Report 200 when the database (and Redis, if configured) answer; 503 otherwise."""
    checks = {}
    try:
        current_app.extensions["database"].execute_sql("SELECT 1")
        checks["database"] = "ok"
    except peewee.PeeweeException as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    redis = current_app.extensions.get("redis")
    if redis is not None:
        try:
            redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:  # any client error means "not healthy", never a 500
            checks["redis"] = f"error: {type(exc).__name__}"
    healthy = all(v == "ok" for v in checks.values())
    if not healthy:
        raise ServiceUnavailable("A dependency is not answering", code="UNHEALTHY", checks=checks)
    return jsonify({"status": "ok", "service": current_app.config["SERVICE_NAME"], "checks": checks})


class OutboxMessageSchema(Schema):
    id = fields.Integer()
    key = fields.String()
    event_type = fields.String()
    destination = fields.String()
    path = fields.String()
    state = fields.String()
    attempts = fields.Integer()
    next_attempt_at = fields.AwareDateTime()
    last_error = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    delivered_at = fields.AwareDateTime(allow_none=True)


class OutboxQuerySchema(PagedQuerySchema):
    # stuck: pending and failed at least once (the receiver is down or keeps failing on it)
    state = fields.String(validate=validate.OneOf(("pending", "delivered", "rejected", "stuck")))


def _outbox_in(state: str | None):
    """This service's outbox messages in `state` (any; `stuck`: pending and failed at least once)."""
    model = current_app.extensions["outbox_model"]
    if state == "stuck":
        return model.select().where((model.state == "pending") & model.last_error.is_null(False))
    return model.select().where(model.state == state) if state else model.select()


def outbox_messages(state: str | None, limit: int) -> list:
    """The newest `limit` outbox messages in `state` (see _outbox_in)."""
    model = current_app.extensions["outbox_model"]
    return list(_outbox_in(state).order_by(model.id.desc()).limit(limit))


def outbox_blueprint(url_prefix: str, roles: tuple[str, ...]) -> Blueprint:
    """Expose the service's outbox read-only, so stuck deliveries are visible."""
    blp = Blueprint(f"outbox_{url_prefix.strip('/').replace('/', '_')}", __name__, url_prefix=url_prefix,
                    description="Events waiting to be delivered to other services")

    @blp.route("/outbox")
    @require_roles(*roles, allow_service=True)  # the gateway reads every service's for admin's overview
    @blp.arguments(OutboxQuerySchema(), location="query")
    @blp.response(200, OutboxMessageSchema(many=True))
    def list_outbox(query):
        """List outbox messages, newest first, a page at a time; `rejected` and `stuck` need someone to look."""
        return page(_outbox_in(query.get("state")), current_app.extensions["outbox_model"].id, query)

    @blp.route("/outbox/<int:message_id>/retry", methods=["POST"])
    @require_roles("admin")
    @blp.response(200, OutboxMessageSchema)
    def retry_outbox_message(message_id):
        """Send a rejected message again from the start, once its cause is fixed (admin)."""
        model = current_app.extensions["outbox_model"]
        with model._meta.database.atomic():
            if not outbox.requeue(message_id):
                raise Conflict(f"Outbox message {message_id} is not rejected (or does not exist)",
                               code="OUTBOX_MESSAGE_NOT_REJECTED")
            message = model.get_by_id(message_id)
        outbox.dispatch()
        return message

    return blp
