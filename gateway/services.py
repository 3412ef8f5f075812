"""Gateway verbs: sign users in, keep the audit log."""

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from common.auth import ROLES, issue_token
from common.errors import ApiError, Unauthorized
from common.logs import current_request_id
from gateway import sign_in
from gateway.audit_spool import clean_line
from gateway.models import AuditEntry, User, db
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
                 patient_id: str | None = None, details: str | None = None) -> None:
    """Append one line to the audit log (the spool drain places it in the audit chain after the commit)."""
    AuditEntry.create(actor=actor[:64], role=role, action=action[:300], status_code=status_code,
                      request_id=request_id or "-", patient_id=patient_id, details=details)
