"""The people's screens, served by the gateway at /: sign-in, then each role's area (see docs/foundation.md).

One module per area; its URL prefix, module name and template folder are the same word (/bench/... ->
gateway/screens/bench.py -> gateway/templates/bench/). Pages read and act only through the gateway's public API
(gateway/screens/api.py), never on the tables.
"""

from importlib import import_module

AREA_MODULES = ("common", "bench", "lab", "pharmacy", "cashier", "finance", "admin")


def register_screens(app) -> None:
    """Install sessions, languages, the formatting filters and every area's pages on the gateway app."""
    from gateway.screens import formatting, i18n, session

    session.configure(app)
    i18n.configure(app)
    formatting.install(app)
    for name in AREA_MODULES:
        app.register_blueprint(import_module(f"gateway.screens.{name}").blp)
