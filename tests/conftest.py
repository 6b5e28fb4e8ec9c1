"""Test fixtures: a fresh app and an empty database for every test.

The suite runs on SQLite; with ``TRACKER_TEST_DB=postgresql`` (``make test`` does a second
pass when ``TEST_DATABASE_URL`` is set) it runs on that PostgreSQL database instead. The
schema is made once per run; each test starts from empty tables (a TRUNCATE on PostgreSQL,
DELETEs on SQLite), so tests may commit like the app does.
"""
import os
import re
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests import factories
from tracker import create_app
from tracker.extensions import db

BACKEND = os.environ.get("TRACKER_TEST_DB", "sqlite")


def pytest_report_header(config):
    return f"database backend: {BACKEND}"


def pytest_sessionstart(session):
    from tracker.i18n import compile_catalogues

    compile_catalogues()  # `make` compiles them; a bare `python -m pytest` must not see stale ones


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if BACKEND == "postgresql":
        url = os.environ.get("TEST_DATABASE_URL")
        if not url:
            pytest.exit("TRACKER_TEST_DB=postgresql needs TEST_DATABASE_URL", returncode=2)
        return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith(
            "postgresql://") else url
    path = tmp_path_factory.mktemp("db") / "test.db"
    return f"sqlite:///{path}"


_schema_ready = set()


def _empty_all_tables():
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(
                "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
            )
        else:
            conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
            for t in tables:
                conn.exec_driver_sql(f'DELETE FROM "{t}"')


@pytest.fixture(autouse=True)
def api_user_per_request():
    """An API request finds its token's user afresh, as in production, where every request
    has its own app context. The ``app`` fixture holds one app context for a whole test and
    Flask-Login keeps the user it loaded on ``g``: without this, the user of one request
    (a page's session user, or another token's) would answer for the next API request, and
    an API request's user would stay for the pages after it."""
    from flask import g, request, request_finished, request_started

    def forget(sender, **extra):
        if request.path.startswith("/api/"):
            for name in ("_login_user", "api_user"):
                g.pop(name, None)

    request_started.connect(forget)
    request_finished.connect(forget)
    yield
    request_started.disconnect(forget)
    request_finished.disconnect(forget)


@pytest.fixture
def app(database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        if database_url not in _schema_ready:
            db.drop_all()
            db.create_all()
            _schema_ready.add(database_url)
        else:
            _empty_all_tables()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class Auth:
    def __init__(self, client):
        self.client = client

    def sign_in(self, user_or_email, password=factories.PASSWORD):
        email = getattr(user_or_email, "email", user_or_email)
        return self.client.post("/sign-in", data={"email": email, "password": password})

    def sign_out(self):
        return self.client.post("/sign-out")


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture
def as_user(client, auth):
    """``as_user(user)``: the test client signed in as that user."""

    def sign_in(user):
        response = auth.sign_in(user)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return sign_in


@pytest.fixture
def count_queries(app):
    """Context manager counting the SQL statements run inside it."""
    from contextlib import contextmanager

    @contextmanager
    def counter():
        statements = []

        def before(conn, cursor, statement, parameters, context, executemany):
            if not re.match(r"\s*(BEGIN|SAVEPOINT|RELEASE|ROLLBACK|COMMIT|PRAGMA)", statement, re.I):
                statements.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", before)
        try:
            yield statements
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", before)

    return counter


# Figures the tests measured (threads × writes, routes × roles, examples tried), printed at
# the end of the run: ``figure("8 threads × 50 writes: 0 errors")``.
FIGURES = []


@pytest.fixture
def figure():
    return FIGURES.append


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        terminalreporter.section(f"figures ({BACKEND})")
        for line in FIGURES:
            terminalreporter.write_line(line)
