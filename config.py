"""Configuration classes. Every setting can be overridden from the environment.

The classes are never edited for a deployment: set environment variables instead.
"""
import os
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def _env(name, default=None):
    value = os.environ.get(name)
    return default if value in (None, "") else value


def _int(name, default):
    return int(_env(name, default))


def _bool(name, default=False):
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


class Config:
    SECRET_KEY = _env("SECRET_KEY", "dev-only-not-secret")
    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'tracker.db'}")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    TIMEZONE = _env("TIMEZONE", "Asia/Kolkata")
    PORT = _int("PORT", 5000)
    BABEL_DEFAULT_LOCALE = "en"
    LANGUAGES = ("en", "hi")

    # Sessions and sign-in
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True  # never set: sign_in calls login_user(remember=False)
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SESSION_IDLE_MINUTES = _int("SESSION_IDLE_MINUTES", 30)
    SESSION_MAX_HOURS = _int("SESSION_MAX_HOURS", 12)
    LOGIN_MAX_FAILURES = _int("LOGIN_MAX_FAILURES", 5)
    LOGIN_LOCKOUT_MINUTES = _int("LOGIN_LOCKOUT_MINUTES", 15)
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", "memory://")
    LOGIN_RATE_LIMIT = _env("LOGIN_RATE_LIMIT", "30 per minute")
    API_RATE_LIMIT = _env("API_RATE_LIMIT", "600 per minute")
    # Requests with a bad API token from one address before it is refused for a while.
    API_BAD_TOKEN_LIMIT = _env("API_BAD_TOKEN_LIMIT", "20 per 10 minutes")
    WTF_CSRF_TIME_LIMIT = None

    # Security headers and logs
    HSTS_SECONDS = _int("HSTS_SECONDS", 0)  # Strict-Transport-Security when above 0
    SECURITY_LOG_FILE = _env("SECURITY_LOG_FILE")  # security events also go to this file
    # Number of reverse proxies in front of the app whose X-Forwarded-For/-Proto to trust
    # (0: none), so that logs, lock-outs and rate limits see the visitor's address.
    TRUSTED_PROXIES = _int("TRUSTED_PROXIES", 0)

    # Uploads. MAX_UPLOAD_BYTES: the largest imported workbook (plans, services, websites).
    # MAX_ATTACHMENT_BYTES: the largest attached file (evidence, signed minutes), checked
    # file by file with a message on the form. MAX_CONTENT_LENGTH is the cap of a whole
    # request (MAX_REQUEST_BYTES), above both so that a file a little over a limit reaches
    # the form's message instead of the bare "too large" page.
    IMPORT_MAX_BYTES = _int("MAX_UPLOAD_BYTES", 5 * 1024 * 1024)
    MAX_ATTACHMENT_BYTES = _int("MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024)
    MAX_CONTENT_LENGTH = _int(
        "MAX_REQUEST_BYTES", max(IMPORT_MAX_BYTES, MAX_ATTACHMENT_BYTES) * 2 + 1024 * 1024)
    # Where attached files are kept: outside the web root, names chosen by the server.
    ATTACHMENTS_DIR = _env("ATTACHMENTS_DIR", str(INSTANCE_DIR / "attachments"))
    IMPORT_MAX_UNCOMPRESSED_BYTES = _int("IMPORT_MAX_UNCOMPRESSED_BYTES", 50 * 1024 * 1024)
    IMPORT_MAX_ZIP_ENTRIES = _int("IMPORT_MAX_ZIP_ENTRIES", 200)
    IMPORT_MAX_ZIP_RATIO = _int("IMPORT_MAX_ZIP_RATIO", 100)

    # The rules of DESIGN.md: thresholds are settings, not literals in code.
    AT_RISK_WINDOW_DAYS = _int("AT_RISK_WINDOW_DAYS", 14)
    STALE_DAYS = _int("STALE_DAYS", 30)
    SLA_CRITICAL_DAYS = _int("SLA_CRITICAL_DAYS", 3)
    SLA_HIGH_DAYS = _int("SLA_HIGH_DAYS", 7)
    SLA_MEDIUM_DAYS = _int("SLA_MEDIUM_DAYS", 14)
    SLA_LOW_DAYS = _int("SLA_LOW_DAYS", 30)
    CERTIFICATE_WARNING_DAYS = _int("CERTIFICATE_WARNING_DAYS", 30)
    WEBSITE_STALE_DAYS = _int("WEBSITE_STALE_DAYS", 90)
    ESCALATE_TO_NIC_DAYS = _int("ESCALATE_TO_NIC_DAYS", 7)
    ESCALATE_TO_SECRETARY_DAYS = _int("ESCALATE_TO_SECRETARY_DAYS", 14)
    ACCESSIBILITY_AUDIT_VALID_DAYS = _int("ACCESSIBILITY_AUDIT_VALID_DAYS", 365)
    # A milestone forecast to finish more than this many days after its due date is flagged.
    FORECAST_MARGIN_DAYS = _int("FORECAST_MARGIN_DAYS", 7)
    # Review meetings: departments ticked by default when planning (the top of the ranking).
    AGENDA_MAX_DEPARTMENTS = _int("AGENDA_MAX_DEPARTMENTS", 12)

    # Scheduler and mail
    SCHEDULER_ENABLED = _bool("SCHEDULER_ENABLED", False)
    SCAN_INTERVAL_MINUTES = float(_env("SCAN_INTERVAL_MINUTES", 15))
    DIGEST_HOUR = _int("DIGEST_HOUR", 8)
    # How often a standby scheduler tries the scheduler lock (the holder's death frees the
    # lock at once; a standby takes over at its next try).
    SCHEDULER_POLL_SECONDS = float(_env("SCHEDULER_POLL_SECONDS", 5))
    # Every run of every job is kept this many days (each job's latest run is always kept).
    JOB_RUN_HISTORY_DAYS = _int("JOB_RUN_HISTORY_DAYS", 30)
    # Tests only: 'JOB:SECONDS' makes each run of JOB wait that long once started.
    JOB_TEST_HOLD = _env("JOB_TEST_HOLD")
    # The daily digest e-mail leads with what is new since the reader's last digest, then
    # counts the rest, and is not sent to a reader with nothing new. The readers named here
    # (e-mail addresses, comma-separated) get it every day with the full list of their
    # open items instead.
    DIGEST_FULL_LIST = [a.strip().lower() for a in _env("DIGEST_FULL_LIST", "").split(",")
                        if a.strip()]
    HEALTH_CHECKS = _bool("HEALTH_CHECKS", False)
    # One time budget per website check, across every redirect hop and byte read.
    HEALTH_CHECK_TIMEOUT_SECONDS = float(_env("HEALTH_CHECK_TIMEOUT_SECONDS", 10))
    HEALTH_CHECK_CONCURRENCY = _int("HEALTH_CHECK_CONCURRENCY", 4)
    # Outbound requests (the health check) go to public addresses only; this comma-separated
    # list of networks (10.1.0.0/16, 192.168.4.7) or host names (intranet.gov.in,
    # .intra.gov.in for every name under it) lets an intranet deployment reach its own.
    OUTBOUND_ALLOW = _env("OUTBOUND_ALLOW", "")
    MAIL_SERVER = _env("MAIL_SERVER")
    MAIL_PORT = _int("MAIL_PORT", 25)
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", False)
    MAIL_USERNAME = _env("MAIL_USERNAME")
    MAIL_PASSWORD = _env("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = _env("MAIL_DEFAULT_SENDER", "roadmap-tracker@localhost")
    # The display name of the sender, unless MAIL_DEFAULT_SENDER carries one.
    MAIL_SENDER_NAME = _env("MAIL_SENDER_NAME", "Roadmap Tracker")
    MAIL_TIMEOUT_SECONDS = float(_env("MAIL_TIMEOUT_SECONDS", 10))
    BASE_URL = _env("BASE_URL", "http://127.0.0.1:5000")

    DEMO_PASSWORD = _env("DEMO_PASSWORD", "demo")


class DevelopmentConfig(Config):
    DEBUG = _bool("FLASK_DEBUG", False)
    SCHEDULER_ENABLED = _bool("SCHEDULER_ENABLED", True)


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing"
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    SCHEDULER_ENABLED = False
    SQLALCHEMY_DATABASE_URI = _env("TEST_DATABASE_URL", "sqlite://")
    MAIL_SERVER = None
    # Tests that look at the files set their own directory (tmp_path); the rest never
    # write into the instance folder.
    ATTACHMENTS_DIR = os.path.join(tempfile.gettempdir(), "tracker-test-attachments")


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    PREFERRED_URL_SCHEME = "https"
    HSTS_SECONDS = _int("HSTS_SECONDS", 31536000)

    @classmethod
    def check(cls):
        """Refuse to start without the secrets; return them as read from the environment
        now (the class attributes were read when this module was imported)."""
        missing = [name for name in ("SECRET_KEY", "DATABASE_URL") if not _env(name)]
        if missing:
            raise RuntimeError(
                "Production configuration refuses to start without " + ", ".join(missing)
            )
        return {"SECRET_KEY": _env("SECRET_KEY"),
                "SQLALCHEMY_DATABASE_URI": _env("DATABASE_URL")}


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_class(name=None):
    """The configuration class named by ``name`` or the ``TRACKER_ENV`` variable."""
    name = name or _env("TRACKER_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"Unknown TRACKER_ENV {name!r}; use one of {sorted(CONFIGS)}") from None
