"""User verbs of the admin: list, create, change (role, name, disable/enable), reset a password.

A password an admin sets (a new account's, a reset's) is temporary: the account must change it at its next sign-in
(gateway.services.grant_for marks the token so; common.auth refuses such a token everywhere but the change).
"""

import secrets

import peewee

from common.auth import actor
from common.errors import ApiError, Conflict, get_or_404
from common.paging import page
from gateway import services as accounts
from gateway import sign_in
from gateway.models import User, db
from gateway.users import standing

TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/l/I to misread
TEMPORARY_LENGTH = 12


def list_users(query: dict) -> list[User]:
    """List accounts by username, optionally of one role, active or not, or matching a part of a name."""
    selection = User.select()
    if query.get("role"):
        selection = selection.where(User.role == query["role"])
    if query.get("active") is not None:
        selection = selection.where(User.active == query["active"])
    if query.get("q"):
        selection = selection.where(User.username.contains(query["q"]) | User.full_name.contains(query["q"]))
    return page(selection, User.username, query, descending=False)


def get_user(user_id: int) -> User:
    """Return an account or raise 404."""
    return get_or_404(User, User.id == user_id, detail=f"No user {user_id}", code="USER_NOT_FOUND")


def create_account(fields: dict) -> dict:
    """Create an account with a temporary password (given or made here) the user must change at sign-in."""
    password = temporary_password(fields.get("temporary_password"), fields["username"])
    try:
        with db.atomic():
            user = accounts.create_user(fields["username"], password, fields["role"], fields["full_name"],
                                        must_change_password=True)
    except peewee.IntegrityError:
        raise Conflict(f"A user named {fields['username']!r} already exists", code="USER_EXISTS") from None
    return {"user": user, "temporary_password": password}


def change_account(user_id: int, changes: dict) -> User:
    """Rename an account, give it another role, or disable / enable it; never one's own role or access."""
    user = get_user(user_id)
    if user.username == actor() and (changes.get("role", user.role) != user.role
                                     or changes.get("active", user.active) != user.active):
        raise Conflict("An administrator cannot change their own role or disable their own account; ask another "
                       "administrator", code="OWN_ACCOUNT")
    if changes:
        with db.atomic():
            User.update(**changes).where(User.id == user.id).execute()
        standing.forget_standing(user.username)  # at once here; other processes within STANDING_CACHE_SECONDS
    return get_user(user.id)


def reset_password(user_id: int, fields: dict) -> dict:
    """Give an account a temporary password (given or made here), to be changed at its next sign-in; the
    account's failed sign-ins are forgotten, so a locked-out user can sign in with it at once."""
    user = get_user(user_id)
    if user.username == actor():
        raise Conflict("Change your own password with POST /api/v1/auth/password", code="OWN_ACCOUNT")
    password = temporary_password(fields.get("temporary_password"), user.username)
    with db.atomic():
        User.update(password_hash=accounts.hash_password(password), must_change_password=True).where(
            User.id == user.id).execute()
        sign_in.forget_failures(user.username)
    return {"user": get_user(user.id), "temporary_password": password}


def temporary_password(given: str | None, username: str) -> str:
    """Return the temporary password an admin typed (as strong as a user's own must be) or a fresh random one."""
    if given is None:
        return "".join(secrets.choice(TEMPORARY_ALPHABET) for _ in range(TEMPORARY_LENGTH))
    try:
        accounts.refuse_weak_password(given, username)
    except ApiError as weak:
        weak.errors = {"temporary_password": weak.errors["new_password"]}
        raise
    return given
