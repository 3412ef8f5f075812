"""Pages every role shares: `/` (to one's home), sign-in, sign-out, changing one's password (forced after an admin
set it), the language switch."""

from flask import Blueprint, current_app, g, redirect, request, send_from_directory, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from gateway.screens import i18n, session
from gateway.screens.api import Api, Refusal
from gateway.screens.pages import Forbidden, home_area, install_page_handlers, render, to_sign_in
from gateway.screens.problems import explain

blp = Blueprint("screens_common", __name__)
install_page_handlers(blp)
WHY_SIGNED_OUT = {
    "idle": _l("You were signed out after a while without activity. Sign in again to go on."),
    "expired": _l("Your session has ended. Sign in again to go on."),
    "signed_out": _l("You are signed out."),
}


def safe_next(target: str | None) -> str | None:
    """Keep a return address only when it is a path on this site (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def home_url(role: str) -> str:
    """Return the URL of a role's home page."""
    return url_for(f"screens_{home_area(role).slug}.home")


@blp.route("/")
def start():
    """Send a signed-in person to their home page, anyone else to the sign-in page."""
    user, _reason = session.current()
    return redirect(home_url(user.role) if user else url_for(".sign_in"))


@blp.route("/sw.js")
def service_worker():
    """Serve the screens' service worker from the site's root, so its scope covers every area (static/offline/sw.js:
    the bench and counter pages open offline). Never cached by the browser's HTTP cache: a new one is picked up."""
    response = send_from_directory(current_app.static_folder, "offline/sw.js", mimetype="text/javascript",
                                   max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response


@blp.route("/sign-in")
def sign_in():
    """Show the sign-in form (with why the last session ended, if it did)."""
    reason = request.args.get("reason")
    return render("common/sign_in.html", notice=WHY_SIGNED_OUT.get(reason), next=safe_next(request.args.get("next")))


@blp.route("/sign-in", methods=["POST"])
def submit_sign_in():
    """Sign in with the same check as POST /api/v1/auth/token (it is that endpoint), then go home or back."""
    if not session.csrf_ok():
        raise Forbidden("csrf")
    username = request.form.get("username", "").strip()
    target = safe_next(request.form.get("next"))
    try:
        grant = Api(None).post("/api/v1/auth/token", {"username": username,
                                                      "password": request.form.get("password", "")}).body
    except Refusal as refusal:
        return render("common/sign_in.html", 401 if refusal.status == 401 else refusal.status,
                      error=explain(refusal), username=username, next=target)
    session.begin(username, grant)
    if grant.get("must_change_password"):  # an admin set this password: the person chooses their own first
        return redirect(url_for(".change_password"))
    return redirect(target or home_url(grant["role"]))


@blp.route("/password")
def change_password():
    """Show the change-password form (forced after an admin set the password; open to anyone signed in)."""
    user, reason = session.current()
    if user is None:
        return to_sign_in(reason)
    g.user = user
    return render("common/password.html")


@blp.route("/password", methods=["POST"])
def submit_password():
    """Change one's password through POST /api/v1/auth/password; its new token replaces the session's."""
    user, reason = session.current()
    if user is None:
        return to_sign_in(reason)
    if not session.csrf_ok():
        raise Forbidden("csrf")
    g.user = user
    current, new = request.form.get("current_password", ""), request.form.get("new_password", "")
    if new != request.form.get("new_password_again", ""):
        return render("common/password.html", 422, error=gettext("The two new passwords differ."))
    try:
        grant = Api(user.token).post("/api/v1/auth/password", {"current_password": current,
                                                               "new_password": new}).body
    except Refusal as refusal:
        if refusal.status == 401:
            session.end()
            return to_sign_in("expired")
        return render("common/password.html", refusal.status, error=explain(refusal))
    session.begin(user.username, grant)
    return redirect(home_url(grant["role"]))


@blp.route("/sign-out", methods=["POST"])
def sign_out():
    """End the session and show the sign-in page."""
    if not session.csrf_ok():
        raise Forbidden("csrf")
    session.end()
    return redirect(url_for(".sign_in", reason="signed_out"))


@blp.route("/language/<any(vi, en):language>")
def choose_language(language):
    """Switch the screens' language and go back to the page the person was on."""
    return i18n.remember(redirect(safe_next(request.args.get("next")) or url_for(".start")), language)
