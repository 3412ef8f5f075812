"""JWT issue/verification, the role guard every route uses, and the service token for service-to-service calls."""

import hmac
import time
from dataclasses import dataclass
from functools import wraps

import jwt
from flask import current_app, g, has_request_context, request

from common.errors import Forbidden, Unauthorized

ROLES = ("lab_tech", "lab_head", "pharmacist", "cashier", "finance", "admin")
# Who reads what (admin passes every guard): the lab's staff, the people who handle money, everyone who cares for
# a patient and must look one up.
LAB_STAFF = ("lab_tech", "lab_head")
MONEY_STAFF = ("cashier", "finance")
CARE_STAFF = MONEY_STAFF + LAB_STAFF + ("pharmacist",)
SERVICE_ROLE = "service"
ALGORITHM = "HS256"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user with a role, or another service."""

    subject: str
    role: str
    must_change_password: bool = False  # signed in with a password an admin set: only a password change is open

    @property
    def is_service(self) -> bool:
        return self.role == SERVICE_ROLE


PASSWORD_CHANGE_CLAIM = "pwd"  # "change": the bearer must change the password an admin set before anything else


def issue_token(secret: str, subject: str, role: str, ttl_seconds: int, *, must_change_password: bool = False) -> str:
    """Sign a short-lived HS256 token carrying `sub`, `role`, `iat` and `exp` (and `pwd: change` when the user must
    change a password an admin set: such a token opens POST /api/v1/auth/password only)."""
    now = int(time.time())
    claims = {"sub": subject, "role": role, "iat": now, "exp": now + ttl_seconds}
    if must_change_password:
        claims[PASSWORD_CHANGE_CLAIM] = "change"
    return jwt.encode(claims, secret, ALGORITHM)


_verified: dict[tuple[str, str], tuple[Principal, int]] = {}
VERIFIED_CACHE_SIZE = 4096


def decode_token(secret: str, token: str) -> Principal:
    """Verify a token's signature and expiry and return its principal; raise Unauthorized otherwise.

    A client sends the same token with every request for hours: a token whose signature was verified once is
    remembered (by its exact text and the secret) until it expires, so the HMAC and JSON work is done once.
    """
    known = _verified.get((secret, token))
    if known is not None and known[1] > time.time():
        return known[0]
    principal, expires = _verify(secret, token)
    if len(_verified) >= VERIFIED_CACHE_SIZE:
        _verified.clear()
    _verified[(secret, token)] = (principal, expires)
    return principal


def _verify(secret: str, token: str) -> tuple[Principal, int]:
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "role", "exp"]})
    except jwt.ExpiredSignatureError:
        raise Unauthorized("The access token has expired", code="TOKEN_EXPIRED") from None
    except jwt.PyJWTError:
        raise Unauthorized("The access token is invalid", code="TOKEN_INVALID") from None
    if claims["role"] not in ROLES:
        raise Unauthorized("The access token carries an unknown role", code="TOKEN_INVALID")
    return Principal(subject=str(claims["sub"]), role=claims["role"],
                     must_change_password=claims.get(PASSWORD_CHANGE_CLAIM) == "change"), int(claims["exp"])


class PasswordChangeRequired(Forbidden):
    code, title = "PASSWORD_CHANGE_REQUIRED", "Change your password first"

    def __init__(self):
        super().__init__("An administrator set this password: change it with POST /api/v1/auth/password "
                         "(the new token it gives opens everything else)", change_at="/api/v1/auth/password")


def _bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send 'Authorization: Bearer <token>' (get one from POST /api/v1/auth/token)")
    return token.strip()


def is_service_call() -> bool:
    """Tell whether the request carries the right service token."""
    supplied = request.headers.get("X-Service-Token", "")
    expected = current_app.config.get("SERVICE_TOKEN") or ""
    return bool(supplied) and bool(expected) and hmac.compare_digest(supplied.encode(), expected.encode())


def current_principal() -> Principal:
    """Authenticate the request (service token or user JWT) once and cache the principal on `g`."""
    principal = g.get("principal")
    if principal is None:
        if is_service_call():
            principal = Principal(subject=request.headers.get("X-Service-Name", "service"), role=SERVICE_ROLE)
        else:
            principal = decode_token(current_app.config["JWT_SECRET"], _bearer_token())
        g.principal = principal
    return principal


def require_roles(*roles: str, allow_service: bool = False):
    """Guard a view: the caller must hold one of `roles` (admin always may; services only if allowed)."""

    def decorator(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            principal = current_principal()
            if principal.must_change_password:
                raise PasswordChangeRequired()
            if principal.is_service:
                if not allow_service:
                    raise Forbidden("This endpoint is for people, not services")
            elif principal.role != "admin" and principal.role not in roles:
                raise Forbidden(f"Role '{principal.role}' may not do this; needs one of: {', '.join(roles)}")
            return view(*args, **kwargs)

        guarded.roles = roles  # read by common.openapi to declare 401/403
        return guarded

    return decorator


def require_person(view):
    """Guard a view that any signed-in person may call, also with a token that must first change its password
    (the password change itself); services may not."""

    @wraps(view)
    def guarded(*args, **kwargs):
        if current_principal().is_service:
            raise Forbidden("This endpoint is for people, not services")
        return view(*args, **kwargs)

    guarded.roles = ROLES  # read by common.openapi to declare 401/403
    return guarded


def require_service(view):
    """Guard an internal endpoint: only callers with the service token."""

    @wraps(view)
    def guarded(*args, **kwargs):
        if not is_service_call():
            raise Unauthorized("This internal endpoint needs the service token", code="SERVICE_TOKEN_REQUIRED")
        g.principal = Principal(subject=request.headers.get("X-Service-Name", "service"), role=SERVICE_ROLE)
        return view(*args, **kwargs)

    guarded.service_only = True  # read by common.openapi to declare 401
    return guarded


def actor() -> str:
    """Return who is acting, for ledgers and stock cards: the signed-in user or calling service, else "system"."""
    return current_principal().subject if has_request_context() else "system"
