"""Gateway verbs: sign users in, keep the audit log."""

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from common.auth import ROLES, issue_token
from common.errors import ApiError, Unauthorized
from common.logs import current_request_id
from common.models import utcnow
from common.paging import page
from gateway import sign_in
from gateway.audit_spool import clean_line
from gateway.models import AuditEntry, User, db
from gateway.sign_in import SignInLocked

PASSWORD_MIN_LENGTH = 10
# Hashing a wrong password against this keeps the timing of unknown and known usernames alike.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def hash_password(password: str) -> str:
    """Return the stored hash of a password (scrypt; tests use a cheap method)."""
    return generate_password_hash(password, method=current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"))


def create_user(username: str, password: str, role: str, full_name: str, *, must_change_password: bool = False) -> User:
    """Create a user with a hashed password (`must_change_password`: an admin chose it, the user changes it)."""
    if role not in ROLES:
        raise ApiError(f"Unknown role {role!r}", code="UNKNOWN_ROLE", status=422)
    return User.create(username=username, password_hash=hash_password(password), role=role, full_name=full_name,
                       must_change_password=must_change_password)


def issue_access_token(username: str, password: str, address: str | None = None) -> dict:
    """Check a username and password, within the sign-in limits, and return a signed short-lived token (one that
    opens only the password change while the user must replace a password an admin set)."""
    user = checked_user(username, password, address)
    sign_in.forget_failures(username)
    return grant_for(user)


def checked_user(username: str, password: str, address: str | None) -> User:
    """Return the active user whose password this is, within the sign-in limits; 401 (or 429 when locked)."""
    sign_in.refuse_if_locked(username, address)  # before any password is hashed
    user = User.get_or_none((User.username == username) & (User.active == True))  # noqa: E712
    stored_hash = user.password_hash if user is not None else _DUMMY_HASH  # an unknown name costs the same
    if not check_password_hash(stored_hash, password) or user is None:
        with db.atomic():
            for locked in sign_in.note_failure(username, address):
                record_audit(**clean_line(username, "-", f"sign-in locked: {locked}", SignInLocked.status,
                                          current_request_id()))
        raise Unauthorized("Wrong username or password", code="INVALID_CREDENTIALS")
    return user


def grant_for(user: User) -> dict:
    """Return a token grant for a signed-in user: the bearer token, its lifetime, the role and the must-change flag."""
    ttl = current_app.config["JWT_TTL_SECONDS"]
    token = issue_token(current_app.config["JWT_SECRET"], user.username, user.role, ttl,
                        must_change_password=user.must_change_password)
    return {"access_token": token, "token_type": "Bearer", "expires_in": ttl, "role": user.role,
            "must_change_password": user.must_change_password}


def change_own_password(username: str, current_password: str, new_password: str, address: str | None) -> dict:
    """Replace one's own password (checked like a sign-in, within its limits) and return a full token."""
    try:
        user = checked_user(username, current_password, address)
    except Unauthorized:  # the bearer is signed in: a wrong current password is bad input, not a lost session
        raise ApiError("The current password is wrong", code="WRONG_PASSWORD", status=422,
                       errors={"current_password": ["Wrong password."]}) from None
    if new_password == current_password:
        raise ApiError("The new password must differ from the current one", code="PASSWORD_UNCHANGED", status=422,
                       errors={"new_password": ["Must differ from the current password."]})
    refuse_weak_password(new_password, username)
    with db.atomic():
        User.update(password_hash=hash_password(new_password), must_change_password=False,
                    password_changed_at=utcnow()).where(User.id == user.id).execute()
    sign_in.forget_failures(username)
    return grant_for(User.get_by_id(user.id))


def refuse_weak_password(password: str, username: str) -> None:
    """Refuse (422 PASSWORD_TOO_WEAK) a password shorter than PASSWORD_MIN_LENGTH or containing the username."""
    problems = []
    if len(password) < PASSWORD_MIN_LENGTH:
        problems.append(f"Must be at least {PASSWORD_MIN_LENGTH} characters.")
    if username.lower() in password.lower():
        problems.append("Must not contain the username.")
    if len(set(password)) < 4:
        problems.append("Must not repeat a few characters.")
    if problems:
        raise ApiError("The new password is too weak", code="PASSWORD_TOO_WEAK", status=422,
                       errors={"new_password": problems})


def record_audit(actor: str, role: str, action: str, status_code: int, request_id: str,
                 patient_id: str | None = None, details: str | None = None) -> None:
    """Append one line to the audit log (the spool drain places it in the audit chain after the commit)."""
    AuditEntry.create(actor=actor[:64], role=role, action=action[:300], status_code=status_code,
                      request_id=request_id or "-", patient_id=patient_id, details=details)


def list_audit_entries(query: dict) -> list[AuditEntry]:
    """One page of the audit log, newest first, narrowed by the query's filters."""
    selection = AuditEntry.select()
    if query.get("actor"):
        selection = selection.where(AuditEntry.actor == query["actor"])
    if query.get("action"):
        selection = selection.where(AuditEntry.action.contains(query["action"]))
    if query.get("patient_id"):
        selection = selection.where(AuditEntry.patient_id == query["patient_id"])
    if query.get("status"):
        status = query["status"]
        if status.endswith("xx"):
            first = int(status[0]) * 100
            selection = selection.where(AuditEntry.status_code.between(first, first + 99))
        else:
            selection = selection.where(AuditEntry.status_code == int(status))
    if query.get("since"):
        selection = selection.where(AuditEntry.occurred_at >= query["since"])
    if query.get("until"):
        selection = selection.where(AuditEntry.occurred_at < query["until"])
    return page(selection, AuditEntry.id, query)
