"""Template globals and filters: dates shown DD-MM-YYYY, permission checks, labels
(``tracker.labels``)."""
from datetime import date, datetime

from flask_babel import get_locale
from flask_login import current_user

from tracker import labels, permissions
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


def init_app(app):
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["datetime"] = format_datetime
    labels.init_app(app)

    @app.context_processor
    def inject():
        return {
            "get_locale": get_locale,
            "can": lambda action, record=None: permissions.can(current_user, action, record),
        }
