"""Template globals and filters: dates shown DD-MM-YYYY, file sizes, permission checks,
labels (``tracker.labels``). Every filter a template uses is here, not on a blueprint: the
views load on first use (``TrackerApp``), and a template may be rendered before."""
from datetime import date, datetime

from flask_babel import get_locale
from flask_login import current_user

from tracker import labels, permissions
from tracker.attachments import human_size
from tracker.clock import local_date


def format_date(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local_date(value)
    if isinstance(value, date):
        return value.strftime("%d-%m-%Y")
    return str(value)


def format_datetime(value):
    if value is None:
        return ""
    from tracker.clock import zone
    from datetime import timezone

    local = value.replace(tzinfo=timezone.utc).astimezone(zone())
    return local.strftime("%d-%m-%Y %H:%M")


def format_isodate(value):
    """An ISO date string (as kept in a version's snapshot) shown DD-MM-YYYY."""
    if not value:
        return ""
    try:
        return format_date(date.fromisoformat(value))
    except (TypeError, ValueError):
        return str(value)


def init_app(app):
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["isodate"] = format_isodate
    app.jinja_env.filters["filesize"] = human_size
    labels.init_app(app)

    @app.context_processor
    def inject():
        return {
            "get_locale": get_locale,
            "can": lambda action, record=None: permissions.can(current_user, action, record),
        }
