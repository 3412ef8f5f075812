"""`Idempotency-Key` for POSTs: the first successful response is stored in the same transaction and replayed."""

import hashlib
from functools import wraps

import peewee
from flask import current_app, request

from common.auth import current_principal
from common.errors import ApiError, Conflict

MAX_KEY_LENGTH = 200


def _fingerprint() -> str:
    return hashlib.sha256(request.get_data()).hexdigest()


def _replay(record, fingerprint: str):
    if record.fingerprint != fingerprint:
        raise Conflict("This Idempotency-Key was already used with a different request body",
                       code="IDEMPOTENCY_KEY_REUSED")
    response = current_app.response_class(record.body, status=record.status_code, content_type=record.content_type)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def idempotent(view):
    """Make a POST view honour Idempotency-Key: replay the stored response; 409 for the same key, other body.

    The key is claimed and the response stored inside the view's transaction, so a crash or an error stores
    nothing and a concurrent duplicate waits on the unique index, then replays the winner's response.
    """

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
        existing = model.get_or_none((model.scope == scope) & (model.key == key))
        if existing is not None:
            return _replay(existing, fingerprint)
        try:
            with model._meta.database.atomic():
                record = model.create(key=key, scope=scope, fingerprint=fingerprint)
                response = current_app.make_response(view(*args, **kwargs))
                model.update(status_code=response.status_code, content_type=response.content_type,
                             body=response.get_data(as_text=True)).where(model.id == record.id).execute()
        except peewee.IntegrityError:
            return _replay(model.get((model.scope == scope) & (model.key == key)), fingerprint)
        return response

    return wrapper
