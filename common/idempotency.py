"""`Idempotency-Key` for POSTs: the first successful response is stored in the request's transaction and replayed.

With a key, the request runs in one transaction of its own: the verb's `with db.atomic():` nests inside it (as a
savepoint), and the response is stored before COMMIT, so the work and its stored answer commit together or not at
all. An error stores nothing (the key can be tried again). Of two concurrent duplicates the second fails on the
record's unique index (on SQLite it waits for the first's write lock, then finds its record), rolls back everything
it did, and replays the first one's response. A replay after the stock ran out returns the first answer.

A POST that moves stock or money (`@idempotent`) REQUIRES the key: without one it is refused with 428
`IDEMPOTENCY_KEY_REQUIRED` before anything runs, so a retry can never do the work twice. A POST that only records
something (a patient, a visit, a catalogue entry) takes a key when given one (`@idempotent(required=False)`).
Stored responses are kept `IDEMPOTENCY_RETENTION_HOURS` (at least 72: a bench offline for a day replays its outbox
the next morning and gets the first answers); `forget_expired` (a periodic job of every service) deletes older ones.
"""

import hashlib
import time
from datetime import timedelta
from functools import wraps

import peewee
from flask import current_app, request

from common import sql
from common.auth import current_principal
from common.errors import ApiError, Conflict
from common.models import utcnow

MAX_KEY_LENGTH = 200
HEADER = "Idempotency-Key"
MIN_RETENTION_HOURS = 72
PURGE_INTERVAL_SECONDS = 600  # the sweeper calls every 2 s; the purge (a scan of old rows) runs at most this often
_last_purge: dict[str, float] = {}


class IdempotencyKeyRequired(ApiError):
    status, code, title = 428, "IDEMPOTENCY_KEY_REQUIRED", "Precondition Required"

    def __init__(self):
        super().__init__(f"This request moves stock or money: send an {HEADER} header (a UUID made once per "
                         f"action, the same on every retry)", header=HEADER)


def _fingerprint() -> str:
    return hashlib.sha256(request.get_data()).hexdigest()


def _stored(model, scope: str, key: str):
    """Return the stored response for (scope, key), or None (written as text: this runs on every keyed POST)."""
    found = sql.select(model, 'SELECT t.* FROM idempotency_record t WHERE t.scope = %s AND t."key" = %s', (scope, key))
    return found[0] if found else None


def _replay(record, fingerprint: str):
    if record.fingerprint != fingerprint:
        raise Conflict("This Idempotency-Key was already used with a different request body",
                       code="IDEMPOTENCY_KEY_REUSED")
    response = current_app.response_class(record.body, status=record.status_code, content_type=record.content_type)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def idempotent(view=None, *, required: bool = True):
    """Make a POST view honour Idempotency-Key: replay the stored response; 409 for the same key, other body.

    `@idempotent` (stock, money): a request without the key is refused with 428. `@idempotent(required=False)`:
    a request without one runs as it is."""
    if view is None:
        return lambda decorated: idempotent(decorated, required=required)

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER, "").strip()
        if not key:
            if required:
                raise IdempotencyKeyRequired()
            return view(*args, **kwargs)
        if len(key) > MAX_KEY_LENGTH:
            raise ApiError(f"Idempotency-Key must be at most {MAX_KEY_LENGTH} characters",
                           code="IDEMPOTENCY_KEY_INVALID")
        model = current_app.extensions["idempotency_model"]
        scope = f"{current_principal().subject}:{request.method}:{request.path}"[:300]
        fingerprint = _fingerprint()
        stored = _stored(model, scope, key)
        if stored is not None:
            return _replay(stored, fingerprint)
        try:
            with model._meta.database.atomic():
                response = current_app.make_response(view(*args, **kwargs))
                if response.status_code < 400:
                    sql.insert(model, [{"key": key, "scope": scope, "fingerprint": fingerprint,
                                        "status_code": response.status_code, "content_type": response.content_type,
                                        "body": response.get_data(as_text=True)}])
            return response
        except peewee.IntegrityError:
            winner = _stored(model, scope, key)
            if winner is None:
                raise
            return _replay(winner, fingerprint)

    wrapper.idempotent = "required" if required else "optional"  # read by common.openapi to declare the header
    return wrapper


def forget_expired() -> int:
    """Delete the stored responses older than IDEMPOTENCY_RETENTION_HOURS (a periodic job; at most every 10 min)."""
    service = current_app.config["SERVICE_NAME"]
    now = time.monotonic()
    if now - _last_purge.get(service, -PURGE_INTERVAL_SECONDS) < PURGE_INTERVAL_SECONDS:
        return 0
    _last_purge[service] = now
    model = current_app.extensions["idempotency_model"]
    cutoff = utcnow() - timedelta(hours=current_app.config["IDEMPOTENCY_RETENTION_HOURS"])
    return model.delete().where(model.created_at < cutoff).execute()
