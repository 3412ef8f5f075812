"""The receiving end of the outbox: many events in one POST, each applied once by the handler of its path.

A sender's outbox posts its due messages to `POST /internal/events` in batches instead of one request per message.
Every event names the path it would have been posted to alone (`/internal/charges`...), is validated by that
path's contract schema and handled by the same function as the single endpoint. The valid events of a batch are
applied in one transaction; if one fails there, the batch is applied again one event per transaction, so one bad or
failing event never takes the others down. The answer gives a status per event, with the meaning the single
endpoint's status would have had (201 stored, 200 already known, 4xx refused for good, 5xx try again).

A path may also name a batch preparer, `prepare(events)`, run once with all the valid events of that path inside
the batch's transaction before their handlers: it can do for all of them in one statement what each handler would
do alone (look up their visits, insert their rows) and leave the results in `batch_state()` for the handlers. What
it leaves is gone when the batch ends, and when a failure sends the batch round again one event at a time.
"""

import json
import logging

from flask import current_app, g
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate

from common.auth import require_service
from common.errors import ApiError, fault_of

log = logging.getLogger(__name__)
EVENTS_PATH = "/internal/events"
MAX_EVENTS = 500
# path -> (contract schema instance, handler(event) -> (stored object, created: bool)[, prepare(events)])
Handlers = dict[str, tuple]


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


def _validated(handlers: Handlers, path: str, payload):
    """Return (handler, event) for a valid event, or (status, detail) for one refused as it stands."""
    entry = handlers.get(path)
    if entry is None:
        return None, (404, f"No event handler for {path}")
    schema, handler = entry[:2]
    try:
        return (handler, schema.load(payload)), None
    except ValidationError as exc:
        return None, (422, json.dumps(exc.messages, ensure_ascii=False, default=str)[:500])


def batch_state() -> dict:
    """What the batch preparers of the batch being applied leave for its handlers (a throw-away dict outside one)."""
    return g.get("inbox_batch", {})


def _prepare(handlers: Handlers, items: list[dict], valid: list) -> None:
    """Run each path's batch preparer once over the valid events of that path (in the batch's transaction)."""
    g.inbox_batch = {}
    by_path: dict[str, list] = {}
    for index, _handler, event in valid:
        by_path.setdefault(items[index]["path"], []).append(event)
    for path, events in by_path.items():
        if len(handlers[path]) > 2:
            handlers[path][2](events)


def _apply_alone(handler, event) -> tuple[int, str | None]:
    """Handle one event in a transaction of its own; (status, detail) as the single endpoint would answer."""
    try:
        with current_app.extensions["database"].atomic():
            _stored, created = handler(event)
    except ApiError as exc:
        return exc.status, f"{exc.code}: {exc.detail}"
    except Exception as exc:
        if fault_of(exc) is not None:
            raise  # the database (or another dependency) is down: the batch as a whole is answered 503
        log.exception("event %s failed", event.get("key"))  # a failure with this event: sent again, up to a limit
        return 500, "The event could not be applied; it will be sent again"
    return (201 if created else 200), None


def apply_events(handlers: Handlers, items: list[dict]) -> list[dict]:
    """Apply a batch: the valid events in one transaction (one COMMIT, no savepoint per event where the handlers
    allow); if any of them fails there, that transaction is rolled back and each event is applied on its own."""
    results: list[dict] = [{"key": item["key"], "status": 500, "detail": None} for item in items]
    valid = []
    for index, item in enumerate(items):
        work, refused = _validated(handlers, item["path"], item["payload"])
        if refused is not None:
            results[index]["status"], results[index]["detail"] = refused
        else:
            valid.append((index, *work))
    database = current_app.extensions["database"]
    try:
        with database.atomic():
            _prepare(handlers, items, valid)
            for index, handler, event in valid:
                _stored, created = handler(event)
                results[index]["status"] = 201 if created else 200
    except Exception as exc:  # noqa: BLE001 (any failure: nothing of the batch was kept; go one by one)
        if fault_of(exc) is not None:
            raise  # not the events' fault: 503 for the batch, every event is sent again (never counted as poison)
        g.pop("inbox_batch", None)  # what the preparers did was rolled back with the rest
        log.info("batch of %s events applied one by one after %s", len(valid), type(exc).__name__)
        for index, handler, event in valid:
            results[index]["status"], results[index]["detail"] = _apply_alone(handler, event)
    finally:
        g.pop("inbox_batch", None)
    return results


def inbox_blueprint(handlers: Handlers) -> Blueprint:
    """Build the `POST /internal/events` endpoint of a service over its event handlers."""
    blp = Blueprint("inbox", __name__, url_prefix="/internal", description="Batched service-to-service intake")

    @blp.route("/events", methods=["POST"])
    @require_service
    @blp.arguments(EventBatchSchema())
    @blp.response(200, EventBatchResultSchema)
    def receive_events(batch):
        """Apply a batch of outbox events, each once; a status per event."""
        return {"results": apply_events(handlers, batch["events"])}

    return blp
