"""The receiving end of the outbox: many events in one POST, each applied once by the handler of its path.

A sender's outbox posts its due messages to `POST /internal/events` in batches instead of one request per message.
Every event names the path it would have been posted to alone (`/internal/charges`...), is validated by that
path's contract schema and handled by the same verb as the single endpoint. A path's verb takes a list of events
(`store_charges(events) -> [(stored, created)]`, so it can read and write for all of them in one statement each);
a verb of one event is made into one with `one_by_one`. The valid events of a batch are applied in one transaction;
if that fails, the batch is applied again one event per transaction, so one bad or failing event never takes the
others down. The answer gives a status per event, with the meaning the single endpoint's status would have had (201
stored, 200 already known, 4xx refused for good, 5xx try again).
"""

import json
import logging

from flask import current_app
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate

from common.auth import require_service
from common.errors import ApiError, fault_of, lost_a_race

log = logging.getLogger(__name__)
EVENTS_PATH = "/internal/events"
MAX_EVENTS = 500
# path -> (contract schema instance, verb(events) -> [(stored object, created: bool)] in the events' order)
Handlers = dict[str, tuple]


def one_by_one(verb):
    """Make a verb of one event (`verb(event) -> (stored, created)`) into a verb of a list of events."""
    return lambda events: [verb(event) for event in events]


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
    """Return the valid event, or (status, detail) for one refused as it stands."""
    entry = handlers.get(path)
    if entry is None:
        return None, (404, f"No event handler for {path}")
    try:
        return entry[0].load(payload), None
    except ValidationError as exc:
        return None, (422, json.dumps(exc.messages, ensure_ascii=False, default=str)[:500])


def _apply_alone(verb, event) -> tuple[int, str | None]:
    """Handle one event in a transaction of its own; (status, detail) as the single endpoint would answer."""
    try:
        with current_app.extensions["database"].atomic():
            [(_stored, created)] = verb([event])
    except ApiError as exc:
        return exc.status, f"{exc.code}: {exc.detail}"
    except Exception as exc:
        if fault_of(exc) is not None:
            raise  # the database (or another dependency) is down: the batch as a whole is answered 503
        log.exception("event %s failed", event.get("key"))  # a failure with this event: sent again, up to a limit
        return 500, "The event could not be applied; it will be sent again"
    return (201 if created else 200), None


def apply_events(handlers: Handlers, items: list[dict]) -> list[dict]:
    """Apply a batch: each path's valid events by its verb, all in one transaction; if that fails, it is rolled
    back and each event is applied on its own."""
    results: list[dict] = [{"key": item["key"], "status": 500, "detail": None} for item in items]
    by_path: dict[str, list[tuple[int, dict]]] = {}
    for index, item in enumerate(items):
        event, refused = _validated(handlers, item["path"], item["payload"])
        if refused is not None:
            results[index]["status"], results[index]["detail"] = refused
        else:
            by_path.setdefault(item["path"], []).append((index, event))
    try:
        with current_app.extensions["database"].atomic():
            for path, group in by_path.items():
                outcomes = handlers[path][1]([event for _, event in group])
                for (index, _event), (_stored, created) in zip(group, outcomes, strict=True):
                    results[index]["status"] = 201 if created else 200
    except Exception as exc:  # noqa: BLE001 (any failure: nothing of the batch was kept; go one by one)
        if fault_of(exc) is not None and not lost_a_race(exc):
            raise  # not the events' fault: 503 for the batch, every event is sent again (never counted as poison)
        log.info("batch of %s events applied one by one after %s", len(items), type(exc).__name__)
        for path, group in by_path.items():
            for index, event in group:
                results[index]["status"], results[index]["detail"] = _apply_alone(handlers[path][1], event)
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
