"""`Idempotency-Key` for POSTs: the first successful response is stored in the same transaction and replayed."""

import hashlib
from functools import wraps
from types import SimpleNamespace

import peewee
from flask import current_app, g, has_request_context, request

from common.auth import current_principal
from common.errors import ApiError, Conflict
from common.sql import fetch_one, insert_row

MAX_KEY_LENGTH = 200
RETRY_LIMIT = 50
RETRYABLE = "transaction_reruns_on_conflict"
WRITES_AT_COMMIT = "writes_at_commit"


class RetryTransaction(Exception):  # noqa: N818 (a signal, not an error)
    """A guarded write lost a race inside the request's transaction: roll it all back and run the view again."""


def request_transaction_reruns() -> bool:
    """Tell whether the current transaction is an idempotent view's, which reruns the view on RetryTransaction.

    Inside one, a verb that may lose a race needs no savepoint of its own (two statements fewer per request).
    """
    return has_request_context() and g.get(RETRYABLE, False)


def _fingerprint() -> str:
    return hashlib.sha256(request.get_data()).hexdigest()


def _stored(model, scope: str, key: str):
    """Return the stored response for (scope, key), or None (a hand-written statement: this runs on every POST)."""
    row = fetch_one(model, "SELECT fingerprint, status_code, content_type, body FROM idempotency_record"
                           " WHERE scope = %s AND \"key\" = %s", (scope, key))
    if row is None:
        return None
    return SimpleNamespace(fingerprint=row[0], status_code=row[1], content_type=row[2], body=row[3])


def _replay(record, fingerprint: str):
    if record.fingerprint != fingerprint:
        raise Conflict("This Idempotency-Key was already used with a different request body",
                       code="IDEMPOTENCY_KEY_REUSED")
    response = current_app.response_class(record.body, status=record.status_code, content_type=record.content_type)
    response.headers["Idempotent-Replayed"] = "true"
    return response


class _AlreadyStored(Exception):  # noqa: N818 (a signal, not an error)
    """The key turned out to be stored already: roll back what this run of the view did, then replay."""


def idempotent(view=None, *, optimistic: bool = False):
    """Make a POST view honour Idempotency-Key: replay the stored response; 409 for the same key, other body.

    The response is stored in the view's own transaction, so an error stores nothing (the key can be retried) and
    of two concurrent duplicates the second fails on the unique index when it commits, rolls back everything it
    did, and replays the first one's response.

    `optimistic=True` skips the look-up before the view (one round trip fewer for every first request, by far the
    common case): the view runs, and its response is stored unless the key already is, in which case everything
    it did is rolled back and the stored response replayed; an error from the view replays a stored response too.
    Only for views whose every effect is in this database (running one twice then costs nothing but time).
    """
    if view is None:
        return lambda undecorated: idempotent(undecorated, optimistic=optimistic)

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
        if not optimistic:
            existing = _stored(model, scope, key)
            if existing is not None:
                return _replay(existing, fingerprint)
        try:
            return _run_and_store(model, view, args, kwargs, key, scope, fingerprint, optimistic)
        except (peewee.IntegrityError, _AlreadyStored):
            winner = _stored(model, scope, key)
            if winner is None:
                raise
            return _replay(winner, fingerprint)
        except ApiError:
            stored = _stored(model, scope, key) if optimistic else None
            if stored is None:
                raise
            return _replay(stored, fingerprint)  # e.g. a resend after the stock ran out: the first answer stands

    wrapper.idempotent = True  # read by common.openapi to declare the Idempotency-Key header
    return wrapper


def at_commit(write) -> bool:
    """Run a guarded write (it returns False when it lost a race) as late as possible in the request's transaction.

    In an idempotent request's transaction (which reruns on RetryTransaction) it runs after the response is built
    and stored, right before COMMIT, so the row locks it takes are held for one round trip; elsewhere it runs at
    once and its result is returned.
    """
    if request_transaction_reruns():
        g.setdefault(WRITES_AT_COMMIT, []).append(write)
        return True
    return write()


def _run_and_store(model, view, args, kwargs, key: str, scope: str, fingerprint: str, optimistic: bool = False):
    """Run the view and store its response in one transaction; run it again when it asks to (RetryTransaction)."""
    g.setdefault(RETRYABLE, True)
    try:
        for _attempt in range(RETRY_LIMIT):
            g.pop(WRITES_AT_COMMIT, None)
            try:
                with model._meta.database.atomic():
                    response = current_app.make_response(view(*args, **kwargs))
                    if response.status_code < 400:
                        stored = insert_row(model, unless_exists=("scope", "key") if optimistic else (), key=key,
                                            scope=scope, fingerprint=fingerprint, status_code=response.status_code,
                                            content_type=response.content_type,
                                            body=response.get_data(as_text=True))
                        if stored is None:
                            raise _AlreadyStored()
                    for write in g.pop(WRITES_AT_COMMIT, []):
                        if not write():
                            raise RetryTransaction()
                return response
            except RetryTransaction:
                continue
        raise Conflict("Stock kept changing under this request; send it again", code="CONCURRENT_UPDATE")
    finally:
        g.pop(RETRYABLE, None)
        g.pop(WRITES_AT_COMMIT, None)
