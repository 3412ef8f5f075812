"""Sessions of people at a screen: a signed cookie with the user's API token, idle timeout, CSRF tokens.

The cookie (Flask's signed session, HttpOnly, SameSite=Lax) carries what the JWT from POST /api/v1/auth/token
says (user and role) and the token itself, which every page sends to the API. It ends at sign-out, after
SESSION_IDLE_MINUTES without a user action (polling does not count), and when the token expires.
"""

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from flask import Flask, current_app, request, session

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


@dataclass(frozen=True)
class SignedIn:
    """The person at the screen: who, with which role, and the API token the pages act with."""

    username: str
    role: str
    token: str
    must_change_password: bool = False  # an admin set the password: only the change-password page opens


def now() -> float:
    """Return the time in seconds (a function of its own so a test can move the clock)."""
    return time.time()


def configure(app: Flask) -> None:
    """Sign the session cookie with a key of its own, derived from JWT_SECRET, and harden the cookie."""
    app.secret_key = hmac.new(app.config["JWT_SECRET"].encode(), b"gateway screens session cookie",
                              hashlib.sha256).hexdigest()
    app.config.update(SESSION_COOKIE_NAME="hospital_session", SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=app.config["SESSION_COOKIE_SECURE"])


def begin(username: str, grant: dict) -> None:
    """Start a session from a token grant ({access_token, expires_in, role}) of POST /api/v1/auth/token."""
    session.clear()
    session.update(user=username, role=grant["role"], token=grant["access_token"], csrf=secrets.token_urlsafe(32),
                   expires=int(now()) + int(grant["expires_in"]), seen=int(now()),
                   must_change=bool(grant.get("must_change_password")))


def end() -> None:
    """End the session (sign-out, idle timeout, expired token)."""
    session.clear()


def current() -> tuple[SignedIn | None, str | None]:
    """Return the signed-in person, or None and why not ("signed_out", "idle", "expired")."""
    if "token" not in session:
        return None, "signed_out"
    if now() >= session.get("expires", 0):
        return None, "expired"
    if now() - session.get("seen", 0) > current_app.config["SESSION_IDLE_MINUTES"] * 60:
        return None, "idle"
    return SignedIn(session["user"], session["role"], session["token"], session.get("must_change", False)), None


def touch() -> None:
    """Note a user action: the idle timeout counts from now."""
    session["seen"] = int(now())


def csrf_token() -> str:
    """Return this session's CSRF token (made on first use, also before sign-in for the sign-in form)."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def csrf_ok() -> bool:
    """Tell whether a state-changing request carries this session's CSRF token (form field or htmx header)."""
    expected = session.get("csrf")
    supplied = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    return bool(expected) and hmac.compare_digest(supplied.encode(), expected.encode())
