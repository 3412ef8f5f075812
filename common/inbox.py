"""The receiving end of the outbox: many events in one POST, each applied once by the handler of its path.

A sender's outbox posts its due messages to `POST /internal/events` in batches instead of one request per message.
Every event names the path it would have been posted to alone (`/internal/charges`...), is validated by that
path's contract schema and handled by the same function as the single endpoint, in its own transaction: one bad
or failing event never takes the others down. The answer gives a status per event, with the meaning the single
endpoint's status would have had (201 stored, 200 already known, 4xx refused for good, 5xx try again).
"""

import json
import logging
from collections.abc import Callable

from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate

from common.auth import require_service
from common.errors import ApiError

log = logging.getLogger(__name__)
EVENTS_PATH = "/internal/events"
MAX_EVENTS = 500
# path -> (contract schema instance, handler(event) -> (stored object, created: bool))
Handlers = dict[str, tuple[Schema, Callable]]


class EventEnvelopeSchema(Schema):
    key = fields.String(required=True, validate=validate.Length(1, 200))
    path = fields.String(required=True, validate=validate.Length(1, 200))
    payload = fields.Raw(required=True)


class EventBatchSchema(Schema):
    events = fields.List(fields.Nested(EventEnvelopeSchema), required=True,
                         validate=validate.Length(1, MAX_EVENTS))


class EventResultSchema(Schema):
    key = fields.String()
    status = fields.Integer()
    detail = fields.String(allow_none=True)


class EventBatchResultSchema(Schema):
    results = fields.List(fields.Nested(EventResultSchema))


def apply_event(handlers: Handlers, path: str, payload) -> tuple[int, str | None]:
    """Validate and handle one event in its own transaction; return (status, detail) as the single endpoint would."""
    entry = handlers.get(path)
    if entry is None:
        return 404, f"No event handler for {path}"
    schema, handler = entry
    try:
        event = schema.load(payload)
    except ValidationError as exc:
        return 422, json.dumps(exc.messages, ensure_ascii=False, default=str)[:500]
    try:
        _stored, created = handler(event)  # each handler keeps its own transaction, as behind the single endpoint
    except ApiError as exc:
        return exc.status, f"{exc.code}: {exc.detail}"
    except Exception:  # a fault of ours with this event: the sender keeps it and tries again later
        log.exception("event for %s failed", path)
        return 500, "The event could not be applied; it will be sent again"
    return (201 if created else 200), None


def inbox_blueprint(handlers: Handlers) -> Blueprint:
    """Build the `POST /internal/events` endpoint of a service over its event handlers."""
    blp = Blueprint("inbox", __name__, url_prefix="/internal", description="Batched service-to-service intake")

    @blp.route("/events", methods=["POST"])
    @require_service
    @blp.arguments(EventBatchSchema)
    @blp.response(200, EventBatchResultSchema)
    def receive_events(batch):
        """Apply a batch of outbox events, each once and on its own; a status per event."""
        results = []
        for item in batch["events"]:
            status, detail = apply_event(handlers, item["path"], item["payload"])
            results.append({"key": item["key"], "status": status, "detail": detail})
        return {"results": results}

    return blp
