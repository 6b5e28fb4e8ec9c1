"""Test fixtures: one app for the whole run, and every test inside a transaction that is
rolled back at its end.

The suite runs on SQLite; with ``TRACKER_TEST_DB=postgresql`` (``make test`` does a second
pass when ``TEST_DATABASE_URL`` is set) it runs on that PostgreSQL database instead. Under
pytest-xdist each worker has a database of its own (``<name>_gw0`` on PostgreSQL, a file
per worker on SQLite). The schema is made once per run.

``app`` is the run's app (``create_app`` once), in a fresh app context per test, with its
configuration put back as it was after each test. The test runs on one connection with an
outer transaction; ``db.session`` joins it with a SAVEPOINT
(``join_transaction_mode="create_savepoint"``), so a test (and the app it drives) may
``db.session.commit()`` and ``db.session.rollback()`` as usual: a commit releases the
savepoint, and the outer transaction is rolled back when the test ends. On PostgreSQL the
id sequences start again at 1 for each test, as they did when every test emptied the tables.

Tests that need real commits, seen by other connections (threads, subprocesses, a second
engine, a live server, OS or advisory locks with the database, SQLite's own locking) are
marked ``@pytest.mark.commits``: their ``app`` is bound to the engine as in production and
every table is emptied before and after them. ``@pytest.mark.fresh_app`` gives a test an
app of its own (to add routes, say); it may combine with ``commits``.
"""
import os
import re
import threading

import pytest
import sqlalchemy as sa

from tests import factories
from tracker import create_app
from tracker.extensions import db, limiter

BACKEND = os.environ.get("TRACKER_TEST_DB", "sqlite")


def pytest_report_header(config):
    return f"database backend: {BACKEND}"


def pytest_configure(config):
    # Compile the catalogues once, in the controller: `make` compiles them; a bare
    # `python -m pytest` must not see stale ones (and xdist workers must not race on them).
    if not hasattr(config, "workerinput"):
        from tracker.i18n import compile_catalogues

        compile_catalogues()


@pytest.hookimpl(tryfirst=True)  # before xdist's, which reads the xdist_group marks
def pytest_collection_modifyitems(config, items):
    for item in items:
        # A live server answers from its own threads: it must see real commits. Under
        # xdist the browser tests share one worker (one Chromium).
        if "live_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.commits)
            item.add_marker(pytest.mark.xdist_group("browser"))


# pytest-xdist groups (``--dist loadgroup``): tests that must stay on one worker. The
# xdist_group marks say the same, but xdist 3.8 cannot read them under pytest 9.2 (it
# renames the node ids, which pytest 9.2 no longer allows: pytest-xdist#1386), so the
# scheduler below groups by path.
XDIST_GROUPS = {
    "tests/browser/": "browser",                 # one Chromium
    "tests/jobs/test_scheduler.py": "processes",  # scheduler processes and their timings
    "tests/test_deployment.py": "processes",      # gunicorn workers and a scheduler
}


def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class PathGroupScheduling(LoadGroupScheduling):
        def _split_scope(self, nodeid):
            for prefix, group in XDIST_GROUPS.items():
                if nodeid.startswith(prefix):
                    return group
            return super()._split_scope(nodeid)

    return PathGroupScheduling(config, log)


def _worker():
    return os.environ.get("PYTEST_XDIST_WORKER", "")


def _postgresql_url():
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.exit("TRACKER_TEST_DB=postgresql needs TEST_DATABASE_URL", returncode=2)
    if url.startswith("postgresql://"):
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    worker = _worker()
    if not worker:
        return url
    # A database per xdist worker: <name>_gw0, made beside the named one if missing.
    base = sa.engine.make_url(url)
    name = f"{base.database}_{worker}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as conn:
            exists = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                 {"n": name})
            if not exists:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def _database_url(tmp_path_factory):
    if BACKEND == "postgresql":
        return _postgresql_url()
    # tmp_path_factory is per worker under xdist: a SQLite file per worker.
    path = tmp_path_factory.mktemp("db") / "test.db"
    return f"sqlite:///{path}"


def _empty_all_tables():
    """Every table emptied: for real on the engine, or inside a rolled-back test's
    transaction (a test that wants "a fresh database" half-way through)."""
    if BOUND.conn is not None and threading.get_ident() == BOUND.thread:
        with BOUND.conn.begin_nested():
            _delete_every_row(BOUND.conn)
        return
    with db.engine.begin() as conn:
        _delete_every_row(conn)


def _delete_every_row(conn):
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
        )
    else:
        conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
        for t in tables:
            conn.exec_driver_sql(f'DELETE FROM "{t}"')


# --- One app, a transaction per test --------------------------------------------------------


class _Bound:
    """The connection the tests' sessions join: set while a rolled-back test (or a module's
    shared world) runs; used only by sessions of the test's own thread on the test
    database, so a server thread or a second database gets the engine as in production."""

    conn = None
    url = None
    thread = None


BOUND = _Bound()


def _install_session_hook():
    from flask_sqlalchemy.session import Session

    if getattr(Session.get_bind, "_tests_hook", False):
        return
    original = Session.get_bind

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        engine = original(self, mapper=mapper, clause=clause, bind=bind, **kwargs)
        conn = BOUND.conn
        if (conn is not None and bind is None and threading.get_ident() == BOUND.thread
                and isinstance(engine, sa.engine.Engine) and engine.url == BOUND.url):
            return conn
        return engine

    get_bind._tests_hook = True
    Session.get_bind = get_bind
    # Joining the test's connection: the session's transaction is a SAVEPOINT in it.
    db.session.session_factory.configure(join_transaction_mode="create_savepoint")


_install_session_hook()


def _reset_sequences(conn):
    """PostgreSQL: ids start again at 1 (sequences are not rolled back)."""
    if conn.dialect.name != "postgresql":
        return
    if not hasattr(_reset_sequences, "names"):
        _reset_sequences.names = [
            n for n in conn.execute(sa.text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace "
                "WHERE c.relkind = 'S' AND s.nspname = current_schema()")).scalars()]
    if _reset_sequences.names:
        conn.execute(sa.text("SELECT setval(quote_ident(s), 1, false) "
                             "FROM unnest(CAST(:names AS text[])) s"),
                     {"names": _reset_sequences.names})


class _Transaction:
    """An outer transaction on a connection of the test database, joined by every session
    of this thread; ``nested`` stacks a savepoint on the one already open."""

    def __init__(self, engine):
        self.conn = engine.connect()
        self.trans = self.conn.begin()
        _reset_sequences(self.conn)
        self.saved = (BOUND.conn, BOUND.url, BOUND.thread)
        BOUND.conn, BOUND.url, BOUND.thread = self.conn, engine.url, threading.get_ident()

    def close(self):
        BOUND.conn, BOUND.url, BOUND.thread = self.saved
        try:
            if self.trans.is_active:
                self.trans.rollback()
        finally:
            self.conn.close()


class _Savepoint:
    def __init__(self):
        self.conn = BOUND.conn
        self.savepoint = self.conn.begin_nested()

    def close(self):
        if self.savepoint.is_active:
            self.savepoint.rollback()


@pytest.fixture(scope="session")
def _session_app(_database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": _database_url})
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.engine.dispose()
    app._tests_config = dict(app.config)
    app._tests_limiter = dict(limiter.__dict__)
    return app


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
def database_url(request, _database_url, _session_app):
    """The test database's URL. A test that uses it without the rolled-back ``app`` (its
    own app on the test database, say) gets the tables emptied after it."""
    yield _database_url
    if not getattr(request.node, "_tests_rolled_back", False):
        with _session_app.app_context():
            _empty_all_tables()
            db.engine.dispose()


def _restore(app):
    """The app's configuration and the (module-level) rate limiter as after create_app."""
    app.config.clear()
    app.config.update(app._tests_config)
    if limiter.__dict__ != app._tests_limiter:
        limiter.__dict__.clear()
        limiter.__dict__.update(app._tests_limiter)


@pytest.fixture
def app(request, _session_app, database_url):
    commits = request.node.get_closest_marker("commits") is not None
    if request.node.get_closest_marker("fresh_app"):
        app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
        app._tests_config = dict(app.config)
        app._tests_limiter = dict(limiter.__dict__)
    else:
        app = _session_app
        _restore(app)
    with app.app_context():
        if commits:
            _empty_all_tables()
            try:
                yield app
            finally:
                db.session.remove()
                _empty_all_tables()
                db.engine.dispose()
                _restore(app)
            return
        request.node._tests_rolled_back = True
        transaction = _Savepoint() if BOUND.conn is not None else _Transaction(db.engine)
        try:
            yield app
        finally:
            db.session.remove()
            transaction.close()
            _restore(app)
            if app is not _session_app:
                db.engine.dispose()


@pytest.fixture(scope="module")
def module_transaction(_session_app):
    """For a module's shared rows (``world``): one outer transaction for the module; each
    test of the module then runs in a savepoint of it, rolled back at the test's end."""
    with _session_app.app_context():
        transaction = _Transaction(db.engine)
        db.session.remove()
    try:
        yield transaction.conn
    finally:
        with _session_app.app_context():
            db.session.remove()
        transaction.close()


@pytest.fixture(scope="module")
def _route_world_template(module_transaction, _session_app):
    from tests.route_walk import build_world, detached

    with _session_app.app_context():
        return detached(build_world())


@pytest.fixture
def route_world(_route_world_template, app):
    """The world of tests/route_walk.py (one row of every kind, a user per role), built
    once per module and committed in the module's transaction; each test gets it in its
    own session and its changes are rolled back at its end."""
    from tests.route_walk import attach

    return attach(_route_world_template)


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
