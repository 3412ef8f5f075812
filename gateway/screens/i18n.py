"""Languages of the screens: Vietnamese by default, English second, chosen with a link and remembered in a cookie.

Messages are written in English in the code and templates and translated in gateway/translations/ (`vi` complete,
`en` present); see docs/foundation.md, "Screens", for extracting and compiling them.
"""

from flask import Flask, request
from flask_babel import Babel

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
LANGUAGE_COOKIE = "lang"
ONE_YEAR = 365 * 24 * 3600


def chosen_language() -> str:
    """Return the language the person chose (cookie), Vietnamese if none."""
    chosen = request.cookies.get(LANGUAGE_COOKIE, "")
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def configure(app: Flask) -> None:
    """Install Flask-Babel on the app with the chosen language and the hospital's time zone."""
    Babel(app, locale_selector=chosen_language, timezone_selector=lambda: "Asia/Ho_Chi_Minh",
          default_locale=DEFAULT_LANGUAGE)


def remember(response, language: str):
    """Remember a language choice on the response (a year; the choice is not a secret)."""
    response.set_cookie(LANGUAGE_COOKIE, language, max_age=ONE_YEAR, samesite="Lax", httponly=True)
    return response
