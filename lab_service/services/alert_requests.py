"""Remember, during a request, which reagents changed, so their alerts are checked right after the commit."""

from flask import g, has_request_context

PENDING = "lab_alert_checks"


def request_alert_check(reagent_id: int) -> None:
    """Ask for the reagent's alerts to be re-evaluated once this request has committed."""
    if has_request_context():
        g.setdefault(PENDING, set()).add(reagent_id)


def take_alert_requests() -> list[int]:
    """Return (and forget) the reagents whose alerts this request asked to check."""
    return sorted(g.pop(PENDING, set())) if has_request_context() else []
