"""Audit of who did what through the gateway: every change (money, stock, patients, visits, sign-ins).

A change the gateway makes itself is audited inside its own transaction (`audited`): the line and the change are
committed together or not at all. Everything else (proxied changes, which the service behind has committed before
the gateway hears of them, and failed requests) is answered first and audited through the spool
(gateway.audit_spool), so bookkeeping never turns an answer already given into a 500.
"""

from functools import wraps

from flask import current_app, g, request

from common.auth import decode_token
from common.bounds import printable
from common.errors import Unauthorized
from gateway import audit_spool
from gateway.models import db
from gateway.services import record_audit

AUDITED_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def request_actor() -> tuple[str, str]:
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


def _line(status_code: int) -> dict:
    """This request's audit line."""
    actor, role = request_actor()
    return audit_spool.clean_line(actor, role, f"{request.method} {request.path}", status_code, g.get("request_id"),
                                  patient_id=g.get("audit_patient_id"))


def audited(view):
    """Run a change of the gateway's own in one transaction with its audit line (a failed change is audited after
    the answer, like everything else)."""

    @wraps(view)
    def change_and_audit(*args, **kwargs):
        with db.atomic():
            response = current_app.make_response(view(*args, **kwargs))
            if response.status_code < 400:
                record_audit(**_line(response.status_code))
                g.audit_written = True
        if g.get("audit_written"):
            audit_spool.chain_soon()  # the audit chain's one writer places the line
        return response

    return change_and_audit


def audit_after_request(response):
    """Audit each change made through the public API that is not audited yet, through the spool."""
    if (request.method in AUDITED_METHODS and request.path.startswith("/api/v1/")
            and not g.pop("audit_written", False)):
        audit_spool.record_later(_line(response.status_code))
    return response
