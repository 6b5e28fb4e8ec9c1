"""Languages: English and Hindi (Flask-Babel).

The locale is the user's saved choice, then the session's, then the browser's. Interface
strings in templates go through ``_()``; strings defined in Python at import time are marked
with ``N_()`` (found by ``pybabel extract``, translated where shown) or ``lazy_gettext``.
Stored codes (statuses, roles, severities) are shown through ``tracker.labels.label(kind,
code)``, translated. Data stays as entered.

The catalogue: ``translations/hi/LC_MESSAGES/messages.po`` (``make translations`` re-extracts
and updates it; the build compiles it to ``.mo``, which is never committed).
"""
from pathlib import Path

from flask import current_app, has_request_context, request, session
from flask_login import current_user

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"


def N_(message):
    """Mark a string for extraction without translating it (translate it where it is shown)."""
    return message


def select_locale():
    """The reader's language; outside a request (CLI, scheduler jobs) the default one, so an
    operation's messages can be translated wherever it runs."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    if session.get("locale") in languages:
        return session["locale"]
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def compile_catalogues():
    """Compile each ``messages.po`` whose ``.mo`` is missing or older (what ``make venv`` does
    with ``pybabel compile``); the test suite calls it so a stale catalogue never shows."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as f:
            catalog = read_po(f, locale=po.parent.parent.name)
        with mo.open("wb") as f:
            write_mo(f, catalog)
