"""gunicorn configuration of Roadmap Tracker: what production runs and the load test uses.

    gunicorn -c deploy/gunicorn.conf.py

Everything is read from the environment (the systemd unit's EnvironmentFile):
``BIND`` (default ``127.0.0.1:$PORT``, ``PORT`` default 8000), ``WEB_CONCURRENCY`` (worker
processes, default 2), ``GUNICORN_THREADS`` (threads per worker, default 4),
``GUNICORN_TIMEOUT`` (seconds, default 60), ``GUNICORN_ACCESS_LOG`` (``-`` for stdout, the
default; empty for none), ``FORWARDED_ALLOW_IPS`` (proxies trusted for X-Forwarded-*,
default 127.0.0.1). The app itself reads ``TRACKER_ENV``, ``DATABASE_URL``, ``SECRET_KEY``
and the rest (README, Configuration). The scheduler is not started here: it is its own
process (``flask --app tracker scheduler``, deploy/roadmap-tracker-scheduler.service).
"""
import os


def _env(name, default):
    value = os.environ.get(name)
    return default if value is None else value


wsgi_app = "tracker.wsgi:app"
bind = _env("BIND", f"127.0.0.1:{_env('PORT', '8000')}")
workers = int(_env("WEB_CONCURRENCY", "2"))
# Threads let a worker overlap a request waiting on the database with another; the app
# keeps nothing per thread but its SQLAlchemy session (scoped to the request).
worker_class = "gthread"
threads = int(_env("GUNICORN_THREADS", "4"))
timeout = int(_env("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then, so a slow leak cannot grow without bound.
max_requests = int(_env("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
accesslog = _env("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = _env("GUNICORN_LOG_LEVEL", "info")
# nginx on the same host terminates TLS and sets X-Forwarded-Proto.
forwarded_allow_ips = _env("FORWARDED_ALLOW_IPS", "127.0.0.1")
proc_name = "roadmap-tracker"
