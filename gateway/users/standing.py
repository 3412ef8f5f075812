"""An account's standing, checked on every request a person makes through the gateway.

Tokens are stateless and live up to JWT_TTL_SECONDS; without this check an account an admin disabled, or whose role
changed, would keep working until its token ran out. The gateway reads the account before it serves or forwards a
person's request: a disabled account is refused (401 ACCOUNT_DISABLED), a token naming another role than the
account's is refused (401 TOKEN_STALE: sign in again). What was read is remembered for STANDING_CACHE_SECONDS per
process, so a busy bench costs one small read every few seconds, and a change takes effect within that time.
"""

import time

from flask import current_app, request

from common.auth import current_principal
from common.errors import Unauthorized
from gateway.models import User

_standing: dict[tuple[int, str], tuple[tuple[bool, str] | None, float]] = {}  # (app, username) -> standing, until
STANDING_CACHE_SIZE = 4096


def check_standing():
    """before_request of the gateway: refuse a person's token whose account is disabled or whose role changed."""
    if not request.path.startswith("/api/") or not request.headers.get("Authorization", "").startswith("Bearer "):
        return None  # sign-in and signed notifications carry no person's token
    try:
        principal = current_principal()
    except Unauthorized:
        return None  # a bad or expired token: the route answers it as it always does
    if principal.is_service:
        return None
    standing = account_standing(principal.subject)
    if standing is None:
        return None  # no such account here: a token the gateway did not issue to a person (tests, tools)
    if not standing[0]:
        raise Unauthorized("This account is disabled; ask the administrator", code="ACCOUNT_DISABLED")
    if standing[1] != principal.role:
        raise Unauthorized("This account's role has changed: sign in again", code="TOKEN_STALE")
    return None


def account_standing(username: str) -> tuple[bool, str] | None:
    """Return (active, role) of an account, None when there is none; read at most every STANDING_CACHE_SECONDS."""
    now, key = time.monotonic(), (id(current_app._get_current_object()), username)
    known = _standing.get(key)
    if known is not None and known[1] > now:
        return known[0]
    account = User.select(User.active, User.role).where(User.username == username).first()
    standing = None if account is None else (account.active, account.role)
    if len(_standing) >= STANDING_CACHE_SIZE:
        _standing.clear()
    _standing[key] = (standing, now + current_app.config["STANDING_CACHE_SECONDS"])
    return standing


def forget_standing(username: str) -> None:
    """Drop what this process remembers of an account (its admin just changed it here)."""
    _standing.pop((id(current_app._get_current_object()), username), None)
