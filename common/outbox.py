"""The transactional outbox: events are written in the caller's transaction and delivered after commit.

A message is deleted never; it moves pending → delivered when the receiver acknowledges (2xx), or pending → rejected
when the receiver refuses it for good (4xx other than 408/429). Until then the sweeper retries with backoff.
"""

import json
import logging
from datetime import timedelta

import requests
from flask import current_app, g, has_request_context

from common.clients import call_service
from common.models import utcnow
from common.queue import enqueue, run_in_service

log = logging.getLogger(__name__)
SWEEP_BATCH = 200


def publish(event_type: str, key: str, payload: dict, destination: str, path: str):
    """Write one outbox row in the current transaction; it is sent once the request has succeeded."""
    model = current_app.extensions["outbox_model"]
    message = model.create(key=key, event_type=event_type, destination=destination, path=path,
                           payload=json.dumps(payload, sort_keys=True, default=str))
    if has_request_context():
        g.setdefault("outbox_pending", []).append(message.id)
    return message


def dispatch(message_ids) -> None:
    """Queue delivery of committed messages (the caller has committed)."""
    service = current_app.config["SERVICE_NAME"]
    for message_id in message_ids:
        enqueue(deliver_job, service, message_id)


def deliver_job(service: str, message_id: int) -> str:
    """Job: deliver one message of `service`'s outbox."""
    return run_in_service(service, deliver, message_id)


def sweep_job(service: str) -> dict[str, int]:
    """Job: deliver every due message of `service`'s outbox."""
    return run_in_service(service, sweep)


def dispatch_after_request(response):
    """After a successful request, send what it published; a failed request sends nothing."""
    pending = g.pop("outbox_pending", None)
    if pending and response.status_code < 400:
        dispatch(pending)
    return response


def _backoff(attempts: int, cap: int) -> timedelta:
    return timedelta(seconds=min(cap, 2 ** min(attempts, 16)))


def deliver(message_id: int) -> str:
    """Try to deliver one message now; return its state afterwards. Claimed with a guarded update."""
    model = current_app.extensions["outbox_model"]
    now = utcnow()
    claim = (model.update(attempts=model.attempts + 1,
                          next_attempt_at=now + _backoff(1, current_app.config["OUTBOX_MAX_BACKOFF_SECONDS"]))
             .where((model.id == message_id) & (model.state == "pending") & (model.next_attempt_at <= now)))
    if model._meta.database.returning_clause:  # PostgreSQL: claim and read the message in one round trip
        message = next(iter(claim.returning(*model._meta.sorted_fields).objects(model).execute()), None)
    else:
        message = model.get_by_id(message_id) if claim.execute() else None
    if message is None:
        message = model.get_or_none(model.id == message_id)
        return message.state if message else "missing"
    return _send(model, message)


def _send(model, message) -> str:
    try:
        response = call_service("POST", message.destination, message.path,
                                json=json.loads(message.payload), headers={"Idempotency-Key": message.key})
    except requests.RequestException as exc:
        return _retry_later(model, message, f"{type(exc).__name__}: {exc}"[:500])
    if response.status_code < 300:
        model.update(state="delivered", delivered_at=utcnow(), last_error=None).where(model.id == message.id).execute()
        return "delivered"
    if 400 <= response.status_code < 500 and response.status_code not in (408, 429):
        model.update(state="rejected", last_error=f"{response.status_code}: {response.text[:500]}").where(
            model.id == message.id).execute()
        log.error("outbox message %s rejected by %s: %s", message.key, message.destination, response.status_code)
        return "rejected"
    return _retry_later(model, message, f"HTTP {response.status_code}: {response.text[:300]}")


def _retry_later(model, message, error: str) -> str:
    delay = _backoff(message.attempts, current_app.config["OUTBOX_MAX_BACKOFF_SECONDS"])
    model.update(next_attempt_at=utcnow() + delay, last_error=error).where(model.id == message.id).execute()
    log.warning("outbox message %s not delivered (%s); retry in %ss", message.key, error, delay.seconds)
    return "pending"


def sweep(limit: int = SWEEP_BATCH) -> dict[str, int]:
    """Deliver every due pending message; return how many ended in each state."""
    model = current_app.extensions["outbox_model"]
    due = (model.select(model.id).where((model.state == "pending") & (model.next_attempt_at <= utcnow()))
           .order_by(model.id).limit(limit))
    counts: dict[str, int] = {}
    for row in list(due):
        state = deliver(row.id)
        counts[state] = counts.get(state, 0) + 1
    return counts
