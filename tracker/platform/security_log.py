"""The security log: who did what, when (ISO 8601 with the local offset) and from where.

Every sign-in, failed sign-in, lock-out, sign-out, expired session and refused request is
written as one line to the ``tracker.platform.security`` logger, e.g.::

    2026-11-29T19:05:02.114+05:30 WARNING tracker.security event=access_refused
    at=2026-11-29T19:05:02.113+05:30 user=7 email=nodal.pwd@ladakh.example role=nodal
    ip=10.0.0.4 method=GET path=/departments/health status=404

Events about an account (sign-in, failures, lock-out, sign-out) and refused requests of a
signed-in user are also audit entries (``tracker.audit``), so they can be read in the app.
Refused requests of anonymous visitors, CSRF failures and rate limits go to the log only:
a visitor who is not signed in must not be able to fill the database.
"""
import logging
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context, has_request_context, request

log = logging.getLogger("tracker.security")

# Audit actions that record a security event rather than a change of the data.
SECURITY_AUDIT_ACTIONS = frozenset(
    {
        "sign_in",
        "sign_in_failed",
        "sign_in_refused_locked",
        "account_locked",
        "sign_out",
        "access_refused",
    }
)

_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_@:/+%,")


def _zone():
    name = current_app.config.get("TIMEZONE", "UTC") if has_app_context() else "UTC"
    return ZoneInfo(name)


def local_iso(at=None, tz=None):
    """``at`` (an aware datetime, or naive UTC; default now) as ISO 8601 with its offset,
    to the millisecond: ``2026-11-29T19:05:02.113+05:30``."""
    at = at or datetime.now(timezone.utc)
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return at.astimezone(tz or _zone()).isoformat(timespec="milliseconds")


def _value(value):
    """One value of a log line: plain when safe, else quoted with every control character
    escaped, so a user-typed e-mail or path cannot forge a line of its own."""
    if value is None or value == "":
        return "-"
    text = str(value)[:300]
    if all(c in _SAFE for c in text):
        return text
    escaped = text.encode("unicode_escape").decode("ascii").replace('"', '\\"')
    return f'"{escaped}"'


def event(name, *, user=None, email=None, level=logging.INFO, status=None, **details):
    """Write one security event: who (user id, e-mail, role), what (``name`` and the
    request), when (local time with offset) and from where (remote address)."""
    if user is None and has_request_context():
        from flask_login import current_user

        if current_user and current_user.is_authenticated:
            user = current_user
    fields = {
        "event": name,
        "at": local_iso(),
        "user": getattr(user, "id", None),
        "email": getattr(user, "email", None) or email,
        "role": getattr(user, "role", None),
    }
    if has_request_context():
        fields.update(
            ip=request.remote_addr,
            method=request.method,
            path=request.full_path.rstrip("?") if request.query_string else request.path,
            agent=(request.headers.get("User-Agent") or "")[:120],
        )
    if status is not None:
        fields["status"] = status
    fields.update(details)
    line = " ".join(f"{k}={_value(v)}" for k, v in fields.items())
    log.log(level, line, extra={"security_event": fields})
    return fields


class IsoFormatter(logging.Formatter):
    """Log lines stamped with the local time and its offset (ISO 8601)."""

    default_format = "%(asctime)s %(levelname)s %(name)s: %(message)s"

    def __init__(self, tz_name="UTC", fmt=None):
        super().__init__(fmt or self.default_format)
        self.tz = ZoneInfo(tz_name)

    def formatTime(self, record, datefmt=None):  # noqa: N802 (logging's name)
        at = datetime.fromtimestamp(record.created, tz=timezone.utc)
        return local_iso(at, self.tz)


def configure(app):
    """Stamp every log line with the local time and its offset: a handler on the root
    logger when nobody (gunicorn, a test runner) configured one, and the security events
    also to ``SECURITY_LOG_FILE`` when it is set. Tests keep pytest's own handlers, where
    ``caplog`` reads the events."""
    logging.getLogger("tracker").setLevel(logging.INFO)
    for name in ("tracker", "tracker.security"):
        # A logging.config call with disable_existing_loggers (Alembic's default) must not
        # silence the security log for the rest of the process.
        logging.getLogger(name).disabled = False
    if app.testing:
        return
    formatter = IsoFormatter(app.config["TIMEZONE"])
    root = logging.getLogger()
    if not root.handlers:
        stream = logging.StreamHandler()
        stream.setFormatter(formatter)
        root.addHandler(stream)
        root.setLevel(logging.INFO)
    path = app.config.get("SECURITY_LOG_FILE")
    if path and not any(getattr(h, "_tracker_file", False) for h in log.handlers):
        from logging.handlers import WatchedFileHandler

        handler = WatchedFileHandler(path, encoding="utf-8")
        handler.setFormatter(formatter)
        handler._tracker_file = True
        log.addHandler(handler)
