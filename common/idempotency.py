"""`Idempotency-Key` for POSTs: the first successful response is stored in the request's transaction and replayed.

With a key, the request runs in one transaction of its own: the verb's `with db.atomic():` nests inside it (as a
savepoint), and the response is stored before COMMIT, so the work and its stored answer commit together or not at
all. An error stores nothing (the key can be tried again). Of two concurrent duplicates the second fails on the
record's unique index (on SQLite it waits for the first's write lock, then finds its record), rolls back everything
it did, and replays the first one's response. A replay after the stock ran out returns the first answer.
"""

import hashlib
from functools import wraps

import peewee
from flask import current_app, request

from common import sql
from common.auth import current_principal
from common.errors import ApiError, Conflict

MAX_KEY_LENGTH = 200


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


def idempotent(view):
    """Make a POST view honour Idempotency-Key: replay the stored response; 409 for the same key, other body."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
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

    wrapper.idempotent = True  # read by common.openapi to declare the Idempotency-Key header
    return wrapper
