"""Audit of who did what through the gateway: every money or stock change and every sign-in attempt."""

from flask import current_app, g, request

from common.auth import decode_token
from common.bounds import printable
from common.errors import Unauthorized
from gateway.services import record_audit

AUDITED_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def _actor() -> tuple[str, str]:
    principal = g.get("principal")
    if principal is not None:
        return principal.subject, principal.role
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        try:
            principal = decode_token(current_app.config["JWT_SECRET"], header[7:].strip())
            return principal.subject, principal.role
        except Unauthorized:
            return "invalid-token", "-"
    if request.path == "/api/v1/auth/token":
        body = request.get_json(silent=True) or {}
        return printable(str(body.get("username", "-")), 64) if isinstance(body, dict) else "-", "-"
    return "anonymous", "-"


def audit_after_request(response):
    """Write an audit line for each change made through the public API."""
    if request.method in AUDITED_METHODS and request.path.startswith("/api/v1/"):
        actor, role = _actor()
        action = printable(f"{request.method} {request.path}", 300)  # the path is the caller's text
        record_audit(actor, role, action, response.status_code, g.get("request_id"),
                     patient_id=g.get("audit_patient_id"))
    return response
