"""Extensions, made once without an app and bound in ``create_app``; Flask-Migrate alone is
bound on demand (``init_migrate``), so that a page, a job or a CLI command other than
``flask db`` never imports Alembic."""
import logging
import sqlite3
from pathlib import Path

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
babel = Babel()

MIGRATIONS_DIRECTORY = Path(__file__).resolve().parent.parent / "migrations"


def init_migrate(app):
    """Bind Flask-Migrate (and with it Alembic, a tenth of a second or more of imports) to
    ``app``, once: ``flask db`` does it when it runs, and so does code that migrates by
    itself (``flask_migrate.upgrade()`` in the tests). ``create_app`` does not."""
    if "migrate" not in app.extensions:
        # Imported after the app's logging is set up: Alembic's line per built-in plugin
        # ("setup plugin alembic.autogenerate.…") would show on every `flask db` command.
        logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
        from flask_migrate import Migrate

        Migrate(app, db, directory=str(MIGRATIONS_DIRECTORY), render_as_batch=True,
                compare_type=True)
    return app.extensions["migrate"]


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record):
    """SQLite: foreign keys on, WAL, a busy timeout, and transactions we begin ourselves."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None  # let the "begin" hook below issue BEGIN
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@event.listens_for(Engine, "begin")
def _sqlite_begin_immediate(connection):
    """SQLite: a transaction that may write takes the write lock up front (BEGIN IMMEDIATE),
    so two writers queue on the busy timeout instead of failing with "database is locked"
    when a read upgrades to a write. Page reads (GET/HEAD) begin deferred: under WAL they
    never wait for a writer, so a long scan or import does not hold up every page. The few
    writes a GET makes (a refused request's audit entry, a token's last-used time) start
    their own transaction after a rollback, or are best-effort."""
    if connection.dialect.name != "sqlite":
        return
    from flask import has_request_context, request

    if has_request_context() and request.method in READ_ONLY_METHODS:
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
