"""Gateway verbs: sign users in, keep the audit log, store charges exactly once."""

import json

import peewee
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from common.auth import ROLES, issue_token
from common.errors import ApiError, Unauthorized
from common.inbox import batch_state
from common.logs import current_request_id
from common.sql import (
    database_of,
    execute,
    insert_row,
    insert_rows_statement,
    insert_statement,
    transaction,
    with_defaults,
)
from gateway import sign_in
from gateway.audit_spool import clean_line
from gateway.models import AuditEntry, Charge, ChargeReversal, User, db
from gateway.sign_in import SignInLocked

# Hashing a wrong password against this keeps the timing of unknown and known usernames alike.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def create_user(username: str, password: str, role: str, full_name: str) -> User:
    """Create a user with a hashed password."""
    if role not in ROLES:
        raise ApiError(f"Unknown role {role!r}", code="UNKNOWN_ROLE", status=422)
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")  # tests use a cheap method
    return User.create(username=username, password_hash=generate_password_hash(password, method=method), role=role,
                       full_name=full_name)


def issue_access_token(username: str, password: str, address: str | None = None) -> dict:
    """Check a username and password, within the sign-in limits, and return a signed short-lived token."""
    sign_in.refuse_if_locked(username, address)  # before any password is hashed
    user = User.get_or_none((User.username == username) & (User.active == True))  # noqa: E712
    stored_hash = user.password_hash if user is not None else _DUMMY_HASH  # an unknown name costs the same
    if not check_password_hash(stored_hash, password) or user is None:
        with db.atomic():
            for locked in sign_in.note_failure(username, address):
                record_audit(**clean_line(username, "-", f"sign-in locked: {locked}", SignInLocked.status,
                                          current_request_id()))
        raise Unauthorized("Wrong username or password", code="INVALID_CREDENTIALS")
    sign_in.forget_failures(username)
    ttl = current_app.config["JWT_TTL_SECONDS"]
    token = issue_token(current_app.config["JWT_SECRET"], user.username, user.role, ttl)
    return {"access_token": token, "token_type": "Bearer", "expires_in": ttl, "role": user.role}


def record_audit(actor: str, role: str, action: str, status_code: int, request_id: str,
                 patient_id: str | None = None) -> None:
    """Append one line to the audit log."""
    insert_row(AuditEntry, actor=actor[:64], role=role, action=action[:300], status_code=status_code,
               request_id=request_id or "-", patient_id=patient_id)


def _charge_values(event: dict, flag: str | None) -> dict:
    """The charge row of a charge.created event, defaults filled in."""
    return with_defaults(Charge, dict(
        key=event["key"], source=event["source"], source_id=event["source_id"], encounter_ref=event["encounter_id"],
        patient_ref=event["patient_id"], item_kind=event["item_kind"], code=event["code"], name=event["name"],
        quantity=event["quantity"], amount=event["amount"], cost_amount=event["cost_amount"],
        occurred_at=event["occurred_at"], flag=flag, payload=json.dumps(event, default=str, sort_keys=True)))


def store_charge(event: dict) -> tuple[Charge, bool]:
    """Store a charge once, keyed on its source key; a resend returns the stored charge unchanged.

    What the charge needs from elsewhere (its visit, and so its flag) is looked up first, then one insert that
    skips a key already stored: a first delivery, by far the common case, costs no look-up of its own, and a resend
    reads the stored charge. Inside a batch's transaction no savepoint is taken (common.sql.transaction), and a
    charge the batch preparer (prepare_charges) already inserted is only finished here.
    """
    prepared = batch_state().get("charges", {}).pop(event["key"], None)
    if prepared is not None:
        values, charge_id, waiting, context = prepared
    else:
        flag, context = _prepared_charges([event]).get(event["key"], (None, None))
        values = _charge_values(event, flag)
    with transaction(db):
        if prepared is None:
            charge_id, waiting = _insert_charge(values)
        if charge_id is None:
            return Charge.get(Charge.key == event["key"]), False
        charge = Charge(**values)
        charge.id, charge.waiting_reversals = charge_id, waiting
        charge._dirty.clear()
        after_charge_stored(charge, event, context)
    return charge, True


def prepare_charges(events: list[dict]) -> None:
    """Batch preparer of charge.created (common.inbox): the visits of all the batch's charges in one query and the
    charges in one insert, on PostgreSQL; store_charge then finishes each (its hooks). A key already stored, or
    twice in the batch, is left to store_charge as a resend."""
    database = database_of(Charge)
    if not isinstance(database, peewee.PostgresqlDatabase) or len(events) < 2:
        return
    contexts = _prepared_charges(events)
    rows = {}
    for event in events:
        if event["key"] not in rows:
            flag, context = contexts.get(event["key"], (None, None))
            rows[event["key"]] = (_charge_values(event, flag), context)
    inserted = _insert_charges([values for values, _ in rows.values()])
    prepared = batch_state().setdefault("charges", {})
    for key, (values, context) in rows.items():
        charge_id, waiting = inserted.get(key, (None, False))
        prepared[key] = (values, charge_id, waiting, context)


def _prepared_charges(events: list[dict]) -> dict:
    """What the charges need from elsewhere (their visits, and so their flags): the app's "charges_preparer"
    (gateway.encounters.handoff.prepare_charges), {key: (flag, context)}."""
    prepare = current_app.extensions.get("charges_preparer")
    return prepare(events) if prepare else {}


_WAITING = "SELECT EXISTS (SELECT 1 FROM charge_reversal WHERE charge_key = %s AND flag = 'unknown_charge')"


def _insert_charge(values: dict) -> tuple[int | None, bool]:
    """Insert a charge unless its key is stored; tell whether reversals of it arrived first (waiting to apply).

    On PostgreSQL both in one round trip; on SQLite in two.
    """
    insert, params = insert_statement(Charge, values, unless_exists="key")
    database = database_of(Charge)
    if isinstance(database, peewee.PostgresqlDatabase):
        row = execute(database, f"WITH stored AS ({insert}) SELECT (SELECT id FROM stored), ({_WAITING})",
                      [*params, values["key"]]).fetchone()
        return row[0], bool(row[1])
    stored = execute(database, insert, params).fetchone()
    if stored is None:
        return None, False
    return stored[0], bool(execute(database, _WAITING, (values["key"],)).fetchone()[0])


def _insert_charges(rows: list[dict]) -> dict[str, tuple[int, bool]]:
    """PostgreSQL: insert many charges (distinct keys) in one statement, skipping keys already stored; return
    {key: (id, reversals waiting)} for those inserted."""
    insert, params = insert_rows_statement(Charge, rows, unless_exists="key", returning=("id", "key"))
    found = execute(database_of(Charge), f"WITH stored AS ({insert}) SELECT s.id, s.key, EXISTS (SELECT 1 FROM "
                                         "charge_reversal r WHERE r.charge_key = s.key AND r.flag = 'unknown_charge')"
                                         " FROM stored s", params).fetchall()
    return {key: (charge_id, bool(waiting)) for charge_id, key, waiting in found}


def after_charge_stored(charge: Charge, event: dict, context=None) -> None:
    """Hook for what follows a new charge inside its transaction (encounter attachment, billing hand-off)."""
    hooks = current_app.extensions.get("charge_hooks", [])
    for hook in hooks:
        hook(charge, event, context)


def store_charge_reversal(event: dict) -> tuple[ChargeReversal, bool]:
    """Store a reversal once and reduce its charge; one of an unknown charge, or beyond it, is kept and flagged."""
    existing = ChargeReversal.get_or_none(ChargeReversal.key == event["key"])
    if existing is not None:
        return existing, False
    try:
        with db.atomic():
            reversal = ChargeReversal.create(
                key=event["key"], charge_key=event["charge_key"], quantity=event["quantity"], amount=event["amount"],
                reason=event["reason"], payload=json.dumps(event, default=str, sort_keys=True),
                flag=reduce_charge(event["charge_key"], event["quantity"], event["amount"]),
            )
            for hook in current_app.extensions.get("reversal_hooks", []):
                hook(reversal, event)
    except peewee.IntegrityError:
        return ChargeReversal.get(ChargeReversal.key == event["key"]), False
    return reversal, True


def reduce_charge(charge_key: str, quantity: int, amount: int) -> str | None:
    """Take a reversal off its charge with a guarded update; return None, or why it cannot be applied."""
    updated = (Charge.update(reversed_quantity=Charge.reversed_quantity + quantity,
                             reversed_amount=Charge.reversed_amount + amount)
               .where((Charge.key == charge_key) & (Charge.reversed_quantity + quantity <= Charge.quantity)
                      & (Charge.reversed_amount + amount <= Charge.amount))
               .execute())
    if updated:
        return None
    return "exceeds_charge" if Charge.select().where(Charge.key == charge_key).exists() else "unknown_charge"
