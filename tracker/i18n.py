"""Languages: English and Hindi (Flask-Babel).

The locale is the user's saved choice, then the session's, then the browser's. Interface
strings in templates go through ``_()``; strings defined in Python at import time are marked
with ``N_()`` (found by ``pybabel extract``, translated where shown) or ``lazy_gettext``.
Stored codes (statuses, roles, severities) are shown through ``label()``: the words of
``LABELS``, translated. Data stays as entered.

The catalogue: ``translations/hi/LC_MESSAGES/messages.po`` (``make translations`` re-extracts
and updates it; the build compiles it to ``.mo``, which is never committed).
"""
from pathlib import Path

from flask import current_app, has_request_context, request, session
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"


def N_(message):
    """Mark a string for extraction without translating it (translate it where it is shown)."""
    return message


def select_locale():
    if not has_request_context():  # a CLI command or a job: messages in the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    languages = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    if session.get("locale") in languages:
        return session["locale"]
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


# Words for the stored codes of the models (models/*.py) and the rules (tracker/rules.py).
LABELS = {
    # health of a milestone (rules.HEALTH_LABELS)
    "overdue": _l("Overdue"), "at_risk": _l("At risk"), "on_track": _l("On track"),
    "done": _l("Done"), "dropped": _l("Dropped"),
    # action plans; "missing" when a department has none
    "draft": _l("Draft"), "submitted": _l("Submitted"), "approved": _l("Approved"),
    "returned": _l("Returned"), "missing": _l("Missing"),
    # milestones
    "not_started": _l("Not started"), "in_progress": _l("In progress"),
    "blocked": _l("Blocked"), "completed": _l("Completed"),
    # due-date revision reasons
    "dependency": _l("Dependency"), "funds": _l("Funds"), "procurement": _l("Procurement"),
    "vendor": _l("Vendor"), "scope": _l("Scope"), "other": _l("Other"),
    # bottlenecks and flags
    "low": _l("Low"), "medium": _l("Medium"), "high": _l("High"), "critical": _l("Critical"),
    "open": _l("Open"), "escalated": _l("Escalated"), "resolved": _l("Resolved"),
    "info": _l("Information"), "warning": _l("Warning"),
    # escalation levels, hosts and roles
    "department": _l("Department"), "nic": _l("NIC"), "secretary": _l("Secretary"),
    "nodal": _l("Nodal officer"), "viewer": _l("Viewer"), "admin": _l("Administrator"),
    "vendor_hosted": _l("Vendor"),
    # meetings and action items
    "planned": _l("Planned"), "held": _l("Held"), "minutes_final": _l("Minutes final"),
    # services and digital assets
    "offline": _l("Offline"), "online_standalone": _l("Online, stand-alone"),
    "integrated": _l("Integrated"), "website": _l("Website"), "web_app": _l("Web application"),
    "mobile_app": _l("Mobile app"),
}

# Role names as the models word them (models.user.ROLE_LABELS), for users' display.
ROLE_LABELS = {
    "secretary": _l("Secretary"), "nic": _l("NIC officer"), "nodal": _l("Nodal officer"),
    "viewer": _l("Viewer"), "admin": _l("Administrator"),
}


def label(value):
    """A stored code in the reader's language: 'in_progress' → 'In progress' / 'प्रगति पर'.

    Codes not in ``LABELS`` fall back to the code as words, translated when the catalogue
    has them."""
    if value is None:
        return ""
    key = str(value)
    if key in LABELS:
        return str(LABELS[key])
    return gettext(key.replace("_", " ").capitalize())


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
