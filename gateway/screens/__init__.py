"""The people's screens, served by the gateway at /: sign-in, then each role's area (see docs/foundation.md).

One module (a package when it grows: lab/, pharmacy/) per area; its URL prefix, module name and template folder are
the same word (/bench/... -> gateway/screens/bench.py -> gateway/templates/bench/). Pages read and act only through
the gateway's public API (gateway/screens/api.py), never on the tables.
"""

from importlib import import_module

AREA_MODULES = ("common", "bench", "lab", "pharmacy", "cashier", "finance", "admin")


def register_screens(app) -> None:
    """Install sessions, languages, the formatting filters and every area's pages on the gateway app."""
    from gateway.screens import formatting, i18n, session, texts

    session.configure(app)
    i18n.configure(app)
    formatting.install(app)
    texts.install(app)
    for name in AREA_MODULES:
        app.register_blueprint(import_module(f"gateway.screens.{name}").blp)
    app.register_error_handler(404, _not_found)


MACHINE_PATHS = ("/api/", "/internal/", "/openapi.json", "/healthz", "/docs", "/assets/", "/static/")


def _not_found(error):
    """A mistyped page address gets a page in the person's language; the API and other machine paths keep
    their problem+json."""
    from flask import g, render_template, request

    from common.errors import problem_of_http_exception, problem_response
    from gateway.screens import session
    from gateway.screens.pages import page_context

    wants_page = request.accept_mimetypes.best_match(("application/json", "text/html")) == "text/html"
    if request.path.startswith(MACHINE_PATHS) or not wants_page:
        return problem_response(problem_of_http_exception(error))
    g.user = session.current()[0]  # the page's header shows who is signed in, if anyone
    return render_template("common/not_found.html", **page_context()), 404
