"""Roadmap Tracker: the application factory.

``create_app`` only wires things together: it never writes to the database and never
starts the scheduler (``flask --app tracker serve`` and ``flask --app tracker scheduler`` do).

The pages (``views``: the blueprints and all they import, the forms, the queries behind each
page, the API's models) load when the app first routes a request or builds a URL, not when it
is made: a CLI command or the scheduler that serves no page does not pay for them (issue 18).
The WSGI entry point and ``serve`` load them at once, so no visitor waits for them.
"""
import threading
from pathlib import Path

from flask import Flask

import config as config_module

ROOT = Path(__file__).resolve().parent.parent


class TrackerApp(Flask):
    """Flask whose views are registered on first use of ``url_map``: routing a request
    (``create_url_adapter``), ``url_for`` in a request context, ``flask routes``, a test that
    walks the routes. Threads that ask while another loads them wait for it to finish."""

    _views_pending = False

    def __init__(self, *args, **kwargs):
        self._views_lock = threading.RLock()
        self._views_loading = False
        super().__init__(*args, **kwargs)

    @property
    def url_map(self):
        if self._views_pending:
            self.load_views()
        return self._url_map

    @url_map.setter
    def url_map(self, value):
        self._url_map = value

    def defer_views(self):
        self._views_pending = True

    def load_views(self):
        """Register the blueprints now (once; a no-op after). Returns the app."""
        with self._views_lock:
            # The lock is re-entrant: registering reads ``url_map`` from this same thread.
            if self._views_pending and not self._views_loading:
                self._views_loading = True
                try:
                    register_blueprints(self)
                    self._views_pending = False
                finally:
                    self._views_loading = False
        return self


def create_app(test_config=None, config_name=None):
    app = TrackerApp(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    config_cls = config_module.config_class("testing" if test_config is not None and config_name is None else config_name)
    required = config_cls.check() if hasattr(config_cls, "check") else None
    app.config.from_object(config_cls)
    app.config.update(required or {})
    if test_config:
        app.config.update(test_config)
    Path(app.instance_path).mkdir(exist_ok=True)

    register_extensions(app)
    app.defer_views()
    register_compression(app)
    register_templating(app)
    register_security(app)
    register_errorhandlers(app)
    register_cli(app)
    register_logging(app)
    return app


def register_extensions(app):
    import models  # noqa: F401  (every model on the metadata, for Alembic and create_all)
    from tracker.extensions import babel, csrf, db, limiter, login_manager
    from flask_babel import gettext

    from tracker.i18n import N_, select_locale

    db.init_app(app)
    from tracker.operations import hygiene

    hygiene.install()
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = N_("Please sign in to see this page.")
    login_manager.localize_callback = gettext
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(ROOT / "translations"))


def register_blueprints(app):
    from views import register_blueprints as register

    register(app)


def register_compression(app):
    """Every text response compressed (brotli or gzip), static files sent precompressed."""
    from tracker.platform import assets

    assets.init_app(app)


def register_templating(app):
    from tracker import templating

    templating.init_app(app)


def register_security(app):
    from tracker.platform import security

    security.init_app(app)


def register_errorhandlers(app):
    from tracker import errors

    errors.init_app(app)


def register_cli(app):
    from tracker import cli

    cli.init_app(app)


def register_logging(app):
    """Log lines on stderr stamped with the local time and its offset (ISO 8601); the
    security events also to ``SECURITY_LOG_FILE`` when set. Tests leave logging to pytest."""
    from tracker.platform import security_log

    security_log.configure(app)
