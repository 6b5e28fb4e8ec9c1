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
from flask_babel import LazyString, gettext
from flask_babel import lazy_gettext as _l
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


# Words for the stored codes of the models (models/*.py) and the rules (tracker/rules.py).
LABELS = {
    # health of a milestone (rules.HEALTH_LABELS)
    "overdue": _l("Overdue"), "at_risk": _l("At risk"), "on_track": _l("On track"),
    "done": _l("Done"), "dropped": _l("Dropped"),
    # action plans; "missing" when a department has none
    "draft": _l("Draft"), "submitted": _l("Submitted"), "approved": _l("Approved"),
    "returned": _l("Returned"), "missing": _l("Missing"), "awaiting_review": _l("Awaiting review"),
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
    # milestone categories
    "service_integration": _l("Service integration"), "website_update": _l("Website update"),
    "infrastructure": _l("Infrastructure"), "capacity_building": _l("Capacity building"),
    "security_compliance": _l("Security compliance"), "accessibility": _l("Accessibility"),
    # bottleneck categories (funds, procurement, vendor: above)
    "manpower": _l("Manpower"), "technical": _l("Technical"),
    "inter_departmental": _l("Inter-departmental"), "approval": _l("Approval"),
    # kinds of record (the audit log)
    "action_plan": _l("Action plan"), "milestone": _l("Milestone"), "service": _l("Service"),
    "digital_asset": _l("Website or app"), "review_meeting": _l("Review meeting"),
    "agenda_item": _l("Agenda item"), "action_item": _l("Action item"),
    "api_token": _l("API token"), "user": _l("User"), "notification": _l("Notification"),
    "request": _l("Request"),
    # kinds of agenda item
    "flag": _l("Flag"), "bottleneck": _l("Bottleneck"), "stale_department": _l("Updates overdue"),
    "no_plan": _l("No action plan"), "atr": _l("Action taken report"),
    "free": _l("Other business"),
}


def lazy_label(value):
    """``label(value)`` when it is shown, not when it is defined: for choices of forms made
    at import time."""
    return LazyString(label, value)

# Role names as the models word them (models.user.ROLE_LABELS), for users' display.
ROLE_LABELS = {
    "secretary": _l("Secretary"), "nic": _l("NIC officer"), "nodal": _l("Nodal officer"),
    "viewer": _l("Viewer"), "admin": _l("Administrator"),
}

# The scheduled jobs by their stable ids (``jobs.scheduler.JOBS``, ``job_runs.job_id``).
JOB_LABELS = {
    "scan": N_("Raise, escalate and clear flags"),
    "digest": N_("Daily digest to the inbox and by e-mail"),
    "plan-reminder": N_("Weekly reminder to departments with no submitted action plan"),
    "mail": N_("Retry the e-mails of the day not yet sent"),
    "health-check": N_("Check every registered website's health"),
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
