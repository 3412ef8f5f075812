"""The transactional outbox: events are written in the caller's transaction and delivered after commit.

A message is deleted never; it moves pending → delivered when the receiver acknowledges it (2xx), or pending →
rejected when the receiver refuses it for good (4xx other than 408/429, or the same failure of this message
OUTBOX_MAX_ATTEMPTS times: poison). Until then the sweeper retries with backoff.

Delivery is batched: after a commit one flush is queued (not one job per message), and a flush claims every due
message at once (a guarded UPDATE ... RETURNING; SKIP LOCKED on PostgreSQL so concurrent flushes share the work)
and posts them per receiver to its `POST /internal/events` (common.inbox), which answers per message. Under load
many commits share one request; alone, a message still leaves right after its commit.
"""

import json
import logging
from datetime import timedelta

import requests
from flask import current_app

from common import sql
from common.clients import call_service
from common.inbox import EVENTS_PATH, MAX_EVENTS
from common.models import utcnow
from common.queue import after_commit, enqueue_coalesced, run_in_service

log = logging.getLogger(__name__)
SWEEP_BATCH = 200
FLUSH_BATCH = min(200, MAX_EVENTS)


def publish(event_type: str, key: str, payload: dict, destination: str, path: str):
    """Write one outbox row in the current transaction; it is sent once that transaction has committed."""
    model = current_app.extensions["outbox_model"]
    row = sql.with_defaults(model, {"key": key, "event_type": event_type, "destination": destination, "path": path,
                                    "payload": json.dumps(payload, sort_keys=True, default=str)})
    [(message_id,)] = sql.insert(model, [row], returning=("id",))
    _dispatch_after_commit(model)
    return model(id=message_id, **row)


def publish_many(event_type: str, messages: list[tuple[str, dict]], destination: str, path: str) -> None:
    """Write several outbox rows of one type, as (key, payload) pairs, in one statement of the current
    transaction; they are sent once it has committed."""
    if not messages:
        return
    model = current_app.extensions["outbox_model"]
    sql.insert(model, [{"key": key, "event_type": event_type, "destination": destination, "path": path,
                        "payload": json.dumps(payload, sort_keys=True, default=str)} for key, payload in messages])
    _dispatch_after_commit(model)


def _dispatch_after_commit(model) -> None:
    """Deliver what was published once the transaction commits: one flush (a job) covers every message."""
    after_commit(model._meta.database, "common.outbox.flush_job", current_app.config["SERVICE_NAME"],
                 coalesce_ms=current_app.config["OUTBOX_FLUSH_INTERVAL_MS"])


def dispatch(message_ids=None) -> None:
    """Queue delivery of what is due now (the caller has committed): one flush covers every message."""
    app = current_app._get_current_object()
    enqueue_coalesced("outbox-flush", app.config["OUTBOX_FLUSH_INTERVAL_MS"], flush_job, app.config["SERVICE_NAME"])


def flush_job(service: str) -> dict[str, int]:
    """Job: deliver what is due in `service`'s outbox now."""
    return run_in_service(service, flush)


def sweep_job(service: str) -> dict[str, int]:
    """Job: deliver every due message of `service`'s outbox."""
    return run_in_service(service, sweep)


def _backoff(attempts: int, cap: int) -> timedelta:
    return timedelta(seconds=min(cap, 2 ** min(attempts, 16)))


def _claim_due(model, limit: int, settled_ms: int = 0) -> list:
    """Claim up to `limit` pending messages due at least `settled_ms` ago, oldest first: count the attempt and push
    their next try back past the time a delivery may take (the service-call timeout), so no other deliverer sends
    them meanwhile."""
    now = utcnow()
    lease = max(_backoff(1, current_app.config["OUTBOX_MAX_BACKOFF_SECONDS"]),
                timedelta(milliseconds=2 * current_app.config["HTTP_TIMEOUT_MS"]))
    due_by = now - timedelta(milliseconds=settled_ms)
    due = (model.select(model.id).where((model.state == "pending") & (model.next_attempt_at <= due_by))
           .order_by(model.id).limit(limit))
    if model._meta.database.for_update:
        due = due.for_update(skip_locked=True)
    claim = (model.update(attempts=model.attempts + 1, next_attempt_at=now + lease)
             .where(model.id.in_(due) & (model.state == "pending")).returning(*model._meta.sorted_fields))
    return sorted(claim.objects(model).execute(), key=lambda message: message.id)


def flush(limit: int = FLUSH_BATCH, settled_ms: int = 0) -> dict[str, int]:
    """Deliver up to `limit` due messages now (those due at least `settled_ms` ago), one request per receiver;
    return how many ended in each state."""
    model = current_app.extensions["outbox_model"]
    messages = _claim_due(model, limit, settled_ms)
    by_destination: dict[str, list] = {}
    for message in messages:
        by_destination.setdefault(message.destination, []).append(message)
    counts: dict[str, int] = {}
    for destination, batch in by_destination.items():
        for state, number in _send_batch(model, destination, batch).items():
            counts[state] = counts.get(state, 0) + number
    return counts


def _batch_body(batch: list) -> str:
    """The JSON of a batch, with each stored payload spliced in as it is (it is JSON already)."""
    events = ",".join(f'{{"key":{json.dumps(m.key)},"path":{json.dumps(m.path)},"payload":{m.payload}}}'
                      for m in batch)
    return f'{{"events":[{events}]}}'


def _send_batch(model, destination: str, batch: list) -> dict[str, int]:
    try:
        response = call_service("POST", destination, EVENTS_PATH, data=_batch_body(batch),
                                headers={"Content-Type": "application/json"})
    except requests.RequestException as exc:
        return _retry_all(model, destination, batch, f"{type(exc).__name__}: {exc}"[:500])
    if response.status_code != 200:
        # The batch as a whole was not taken (receiver down, restarting, misconfigured): nothing is refused for
        # good on the strength of an envelope-level answer; every message is tried again later.
        log.error("outbox batch of %s to %s not taken: HTTP %s", len(batch), destination, response.status_code)
        return _retry_all(model, destination, batch, f"HTTP {response.status_code}: {response.text[:300]}")
    results = {result["key"]: result for result in response.json()["results"]}
    delivered, counts = [], {}
    for message in batch:
        result = results.get(message.key, {"status": 500, "detail": "no result for this message"})
        status = result["status"]
        if status < 300:
            delivered.append(message.id)
            state = "delivered"
        elif 400 <= status < 500 and status not in (408, 429):
            state = _reject(model, message, destination, f"{status}: {result.get('detail')}")
        else:
            state = _retry_or_give_up(model, message, destination, f"HTTP {status}: {result.get('detail')}"[:500])
        counts[state] = counts.get(state, 0) + 1
    if delivered:
        model.update(state="delivered", delivered_at=utcnow(), last_error=None).where(
            model.id.in_(delivered)).execute()
    return counts


def _reject(model, message, destination: str, reason: str) -> str:
    """Stop sending a message for good: it shows as `rejected`, with its reason, in the outbox listings that
    admin reads (GET /api/v1/<area>/outbox?state=rejected, and all services at once at the gateway)."""
    model.update(state="rejected", last_error=reason[:500]).where(model.id == message.id).execute()
    log.error("outbox message %s rejected by %s for good, admin must look at it: %s", message.key, destination,
              reason[:500])
    return "rejected"


def _retry_or_give_up(model, message, destination: str, error: str) -> str:
    """Retry a message the receiver failed on; one that failed the same way OUTBOX_MAX_ATTEMPTS times is poison.

    Only the receiver's answer for this very message counts (a receiver that is down or refuses the whole batch
    says nothing about the message, and that is retried for as long as it takes).
    """
    limit = current_app.config["OUTBOX_MAX_ATTEMPTS"]
    if message.attempts >= limit and message.last_error == error:
        return _reject(model, message, destination, f"failed the same way {message.attempts} times: {error}")
    delay = _retry_later(model, message, error)
    log.warning("outbox message %s not taken by %s (%s); retry in %ss", message.key, destination, error, delay)
    return "pending"


def requeue(message_id: int) -> bool:
    """Send a rejected message again from the start (admin fixed the cause); False when it is not rejected."""
    model = current_app.extensions["outbox_model"]
    return bool(model.update(state="pending", attempts=0, next_attempt_at=utcnow(), last_error=None)
                .where((model.id == message_id) & (model.state == "rejected")).execute())


def _retry_all(model, destination: str, batch: list, error: str) -> dict[str, int]:
    """Try a batch the receiver did not take again later, said in one log line: at INFO when every message was on
    its first try (a receiver still starting, as under `make run`), as a warning once they keep failing."""
    delays = [_retry_later(model, message, error) for message in batch]
    if batch:
        level = logging.INFO if all(message.attempts <= 1 for message in batch) else logging.WARNING
        log.log(level, "%s outbox message(s) to %s not delivered (%s); retry in %ss", len(batch), destination,
                error, min(delays))
    return {"pending": len(batch)} if batch else {}


def _retry_later(model, message, error: str) -> int:
    """Send `message` again after its back-off; return the back-off in seconds."""
    delay = _backoff(message.attempts, current_app.config["OUTBOX_MAX_BACKOFF_SECONDS"])
    model.update(next_attempt_at=utcnow() + delay, last_error=error).where(model.id == message.id).execute()
    return delay.seconds


def sweep(limit: int = SWEEP_BATCH, settled_ms: int = 0) -> dict[str, int]:
    """Deliver every due pending message, a batch at a time, up to `limit`; return how many ended in each state.

    `settled_ms`: leave the messages due less than this long ago. The sweeper process passes
    OUTBOX_SWEEP_SETTLE_MS: a message just committed is the after-commit flush's to send (within
    OUTBOX_FLUSH_INTERVAL_MS), and a sweeper chasing it would post the live traffic again in small batches, one
    after another, beside that flush."""
    counts: dict[str, int] = {}
    sent = 0
    while sent < limit:
        round_counts = flush(min(FLUSH_BATCH, limit - sent), settled_ms)
        if not round_counts:
            break
        for state, number in round_counts.items():
            counts[state] = counts.get(state, 0) + number
        sent += sum(round_counts.values())
    return counts
