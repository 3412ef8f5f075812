"""Shared page plumbing: the areas (one per role), their guarded blueprints, rendering and refusals.

An area is a URL prefix, a module and a template folder of the same name: /bench/... is gateway/screens/bench.py
with templates under gateway/templates/bench/. Every view of an area's blueprint is guarded before it runs:
signed in (else to the sign-in page), the area's role (else a 403 page), a CSRF token on every POST.
"""

import logging
import uuid
from dataclasses import dataclass
from urllib.parse import quote

from flask import Blueprint, Response, current_app, g, redirect, render_template, request, stream_with_context, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from gateway.screens import session
from gateway.screens.api import Api, Refusal
from gateway.screens.problems import explain

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Area:
    """A role's part of the screens: its URL prefix (= module = template folder), who may open it, its title."""

    slug: str
    roles: tuple[str, ...]
    title: object  # a lazy translated string


AREAS = {
    "bench": Area("bench", ("lab_tech",), _l("Lab bench")),
    "lab": Area("lab", ("lab_head",), _l("Lab management")),
    "pharmacy": Area("pharmacy", ("pharmacist",), _l("Pharmacy counter")),
    "cashier": Area("cashier", ("cashier",), _l("Cashier desk")),
    "finance": Area("finance", ("finance",), _l("Finance office")),
    "admin": Area("admin", ("admin",), _l("Administration")),
}
ROLE_NAMES = {"lab_tech": _l("Lab technician"), "lab_head": _l("Head of laboratory"), "pharmacist": _l("Pharmacist"),
              "cashier": _l("Cashier"), "finance": _l("Finance officer"), "admin": _l("Administrator")}
PASSIVE = "screens_passive"  # attribute of a view that polls by itself: it does not count as a user action


def home_area(role: str) -> Area:
    """Return the area a role lands on after signing in."""
    return next(area for area in AREAS.values() if role in area.roles)


def may_open(role: str, area: Area) -> bool:
    """Tell whether a role may open an area (admin may open every area, as in the API)."""
    return role == "admin" or role in area.roles


def passive(view):
    """Mark a view that the page calls by itself (polling): it leaves the idle timeout running."""
    setattr(view, PASSIVE, True)
    return view


class Forbidden(Exception):  # noqa: N818 (a page answer, not a fault)
    """The signed-in role may not open this page, or a form came without this session's CSRF token."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def area_blueprint(slug: str) -> Blueprint:
    """Create the guarded blueprint of an area, mounted at /<slug>."""
    area = AREAS[slug]
    blueprint = Blueprint(f"screens_{slug}", __name__, url_prefix=f"/{slug}")

    @blueprint.before_request
    def _guard():
        return guard(area)

    install_page_handlers(blueprint)
    return blueprint


def home_only_area(slug: str) -> Blueprint:
    """Create the blueprint of an area whose screens are still to come: its home page (<slug>/home.html) only."""
    blueprint = area_blueprint(slug)
    blueprint.add_url_rule("/", "home", lambda: render(f"{slug}/home.html", area=AREAS[slug]))
    return blueprint


def guard(area: Area | None):
    """Let the request in only for a signed-in person of the area's role with a valid CSRF token on a POST."""
    user, reason = session.current()
    if user is None:
        session.end()
        return to_sign_in(reason)
    g.user = user
    if user.must_change_password:  # an admin set this password: nothing opens before the user chooses their own
        return to_change_password()
    if area is not None and not may_open(user.role, area):
        raise Forbidden("role")
    if request.method == "POST" and not session.csrf_ok():
        raise Forbidden("csrf")
    if not getattr(current_app.view_functions.get(request.endpoint), PASSIVE, False):
        session.touch()
    return None


def here() -> str:
    """Return this page's path and query (where a language switch or a sign-in comes back to)."""
    return request.full_path.rstrip("?")


def to_sign_in(reason: str | None = None) -> Response:
    """Send the browser to the sign-in page (htmx follows HX-Redirect), coming back here afterwards."""
    back = here() if request.method == "GET" and not is_htmx() else None
    target = url_for("screens_common.sign_in", reason=reason if reason != "signed_out" else None, next=back)
    if is_htmx():
        return Response(status=401, headers={"HX-Redirect": target})
    return redirect(target)


def to_change_password() -> Response:
    """Send the browser to the forced change-password page (htmx follows HX-Redirect)."""
    target = url_for("screens_common.change_password")
    if is_htmx():
        return Response(status=403, headers={"HX-Redirect": target})
    return redirect(target)


def is_htmx() -> bool:
    """Tell whether htmx sent this request (a partial update, not a whole page)."""
    return request.headers.get("HX-Request") == "true"


def api() -> Api:
    """Return the API as the signed-in person."""
    return Api(g.user.token)


def render(template: str, status: int = 200, **context) -> tuple[str, int]:
    """Render a template of an area with the signed-in person and the areas they may open."""
    return render_template(template, **context), status


def page_context() -> dict:
    """What every template sees: the signed-in person, their areas, the CSRF token, role names."""
    user = g.get("user")
    areas = [area for area in AREAS.values() if user and may_open(user.role, area)]
    return {"user": user, "areas": areas, "role_names": ROLE_NAMES, "csrf_token": session.csrf_token,
            "language": str(get_locale()), "here": here(), "poll_seconds": current_app.config["SCREENS_POLL_SECONDS"]}


def install_page_handlers(blueprint: Blueprint) -> None:
    """Give a blueprint's templates the page context, and answer its refusals with pages (not problem+json): 403,
    an API refusal, an unexpected fault."""
    blueprint.context_processor(page_context)

    @blueprint.errorhandler(Forbidden)
    def _forbidden(error: Forbidden):
        return render("common/forbidden.html", 403, reason=error.reason)

    @blueprint.errorhandler(Refusal)
    def _refused(refusal: Refusal):
        if refusal.status == 401:  # the token ran out or was refused: sign in again
            session.end()
            return to_sign_in("expired")
        if refusal.code == "PASSWORD_CHANGE_REQUIRED":
            return to_change_password()
        return render("common/_refusal.html" if is_htmx() else "common/refusal.html", refusal.status,
                      message=explain(refusal))

    @blueprint.errorhandler(Exception)
    def _fault(error: Exception):
        if isinstance(error, HTTPException):  # a wrong method, too large a body...
            return render("common/refusal.html", error.code or 500, message=error.description)
        log.exception("page failed")
        return render("common/refusal.html", 500, message=_l("Something went wrong on our side; it has been "
                                                             "logged. Try again in a moment."))


def ends_the_form(refusal: Refusal) -> bool:
    """Tell whether a refusal is about the session, not the form (the token ran out, the password must change):
    a form that shows its own refusals lets these go to the blueprint's handler, which signs in again."""
    return refusal.status == 401 or refusal.code == "PASSWORD_CHANGE_REQUIRED"


def quoted(value: str) -> str:
    """Quote a value for a URL path segment."""
    return quote(str(value), safe="")


def is_uuid(value: str) -> bool:
    """Tell whether a form's submission id is a UUID as the browser writes it."""
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def form_submission_id() -> str | None:
    """Return the form's browser-made UUID (the Idempotency-Key of what it asks), None when it has none."""
    value = request.form.get("submission_id", "").strip()
    return value if is_uuid(value) else None


def required_submission_id() -> str:
    """Return the form's submission UUID, or refuse the form (422 NO_SUBMISSION_ID, explained like an API refusal)."""
    value = form_submission_id()
    if value is None:
        raise Refusal(422, {"code": "NO_SUBMISSION_ID", "detail": "no submission id"})
    return value


def patient_or_none(patient_id: str) -> dict | None:
    """Return the gateway's patient of an id, or None when the id names none (a page shows "unknown patient")."""
    if not str(patient_id).isdigit():
        return None
    try:
        return api().get(f"/api/v1/patients/{patient_id}")
    except Refusal as refusal:
        if refusal.code == "PATIENT_NOT_FOUND":
            return None
        raise


def relay(stream) -> Response:
    """Give the browser an API download as it comes (its type and file name kept)."""
    headers = {name: stream.headers[name] for name in ("Content-Disposition",) if name in stream.headers}
    return Response(stream_with_context(stream.chunks), status=stream.status,
                    content_type=stream.headers.get("Content-Type", "application/octet-stream"), headers=headers)
