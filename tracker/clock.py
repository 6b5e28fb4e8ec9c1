"""The calendar: 'today' in the configured time zone. Rules never read the clock; callers
pass ``today`` in, and this is where views and jobs get it from."""
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app


def zone():
    return ZoneInfo(current_app.config["TIMEZONE"])


def today() -> date:
    return datetime.now(zone()).date()


def local_midnight_utc(day: date, tz=None) -> datetime:
    """The naive UTC instant at which ``day`` begins in the configured time zone."""
    tz = tz or zone()
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(timezone.utc).replace(tzinfo=None)


def local_date(at: datetime, tz=None) -> date:
    """The local calendar date of a naive UTC timestamp."""
    tz = tz or zone()
    return at.replace(tzinfo=timezone.utc).astimezone(tz).date()


def days_ago(day: date, n: int) -> date:
    return day - timedelta(days=n)
