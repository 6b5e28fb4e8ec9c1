"""SQLite: writes take the lock up front, page reads do not wait for a writer."""
import sqlite3

import pytest

from tests import factories
from tracker.extensions import db

pytestmark = [pytest.mark.commits,  # SQLite's own locking between connections
              pytest.mark.skipif(
    __import__("os").environ.get("TRACKER_TEST_DB") == "postgresql",
    reason="SQLite transaction modes; the PostgreSQL pass has no such thing",
)]


def _path(app):
    return app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")


def test_a_page_read_is_served_while_another_process_holds_the_write_lock(app, as_user):
    client = as_user(factories.user("secretary"))
    factories.department("health", name="Health Dept")
    db.session.commit()
    writer = sqlite3.connect(_path(app), isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # a long import or scan holding the write lock
        response = client.get("/departments/health")
        assert response.status_code == 200
        assert "Health Dept" in response.get_data(as_text=True)
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_a_form_post_begins_immediate(app, client):
    statements = []
    import sqlalchemy as sa

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    with app.test_request_context("/x", method="POST"):
        sa.event.listen(db.engine, "before_cursor_execute", record)
        try:
            with db.engine.begin() as conn:
                conn.exec_driver_sql("SELECT 1")
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", record)
    assert statements[0] == "BEGIN IMMEDIATE"
    statements.clear()
    with app.test_request_context("/x", method="GET"):
        sa.event.listen(db.engine, "before_cursor_execute", record)
        try:
            with db.engine.begin() as conn:
                conn.exec_driver_sql("SELECT 1")
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", record)
    assert statements[0] == "BEGIN"
