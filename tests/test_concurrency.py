"""No lost writes under concurrent load.

SQLite runs in WAL mode with a busy timeout, and every transaction begins with
``BEGIN IMMEDIATE`` (``tracker.extensions``), so writers queue instead of failing with
"database is locked". 8 threads × 50 read-then-write transactions, each in its own app
context and session, must give zero errors and lose no update, on a SQLite file of the
test's own and on PostgreSQL.
"""
import sqlite3
import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from models import AuditLog, Setting
from tests.conftest import BACKEND
from tracker import create_app
from tracker.extensions import db

pytestmark = pytest.mark.commits  # threads and engines of their own: real commits

THREADS, WRITES = 8, 50
COUNTER = "load_test_counter"


def hammer(app, threads=THREADS, writes=WRITES):
    """Each thread: ``writes`` transactions that read the counter, add an audit row and
    write the counter back, plus one. Returns (committed, locked errors, other errors)."""
    committed, locked, other = [], [], []
    start = threading.Barrier(threads)

    def work(n):
        with app.app_context():
            start.wait()
            for i in range(writes):
                try:
                    setting = db.session.execute(
                        sa.select(Setting).filter_by(key=COUNTER).with_for_update()
                    ).scalar_one()
                    db.session.add(AuditLog(action="load_test", entity="thread", entity_id=n,
                                            changes={"write": i, "counter": setting.value}))
                    setting.value = str(int(setting.value) + 1)
                    db.session.commit()
                    committed.append(1)
                except OperationalError as exc:
                    db.session.rollback()
                    (locked if "database is locked" in str(exc) else other).append(str(exc))
                except Exception as exc:  # noqa: BLE001 (count every failure)
                    db.session.rollback()
                    other.append(repr(exc))
            db.session.remove()

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    return len(committed), locked, other


def _prepare():
    db.session.add(Setting(key=COUNTER, value="0"))
    db.session.commit()


def _check(label, committed, locked, other, figure):
    counter = db.session.execute(sa.select(Setting.value).filter_by(key=COUNTER)).scalar_one()
    rows = db.session.execute(
        sa.select(sa.func.count()).select_from(AuditLog).filter_by(action="load_test")).scalar()
    db.session.commit()
    figure(f"{label}: {THREADS} threads × {WRITES} writes: {committed} committed, "
           f"{len(locked)} 'database is locked', {len(other)} other errors, "
           f"{rows} rows, counter {counter}")
    print(f"{label}: {committed} committed, {len(locked)} locked, {len(other)} other")
    assert locked == [], locked[:3]
    assert other == [], other[:3]
    assert committed == rows == int(counter) == THREADS * WRITES


def test_8_threads_x_50_writes_on_a_sqlite_file_lose_nothing(tmp_path, figure):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'load.db'}"})
    with app.app_context():
        db.create_all()
        _prepare()
        committed, locked, other = hammer(app)
        _check("sqlite file", committed, locked, other, figure)
        db.engine.dispose()


@pytest.mark.skipif(BACKEND != "postgresql",
                    reason="PostgreSQL load runs in the PostgreSQL pass (TRACKER_TEST_DB=postgresql)")
def test_8_threads_x_50_writes_on_postgresql_lose_nothing(app, figure):
    _prepare()
    committed, locked, other = hammer(app)
    _check("postgresql", committed, locked, other, figure)


# ---------------------------------------------------------------- the mechanism, shown directly


def test_sqlite_connections_use_wal_and_a_busy_timeout(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}"})
    with app.app_context():
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        db.engine.dispose()


def test_a_session_takes_the_write_lock_when_it_begins(tmp_path):
    """A transaction that has only read already holds the write lock: another writer
    cannot start until it ends (so it waits on the busy timeout instead of failing later)."""
    path = tmp_path / "lock.db"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        db.create_all()
        db.session.execute(sa.select(Setting)).all()  # a read: BEGIN IMMEDIATE was issued
        other = sqlite3.connect(str(path), timeout=0, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            other.execute("BEGIN IMMEDIATE")
        db.session.commit()
        other.execute("BEGIN IMMEDIATE")  # free once the session ended its transaction
        other.execute("ROLLBACK")
        other.close()
        db.engine.dispose()


def test_without_begin_immediate_a_read_that_writes_fails_despite_the_timeout(tmp_path):
    """The failure BEGIN IMMEDIATE prevents: two deferred transactions both read, then both
    write; the second gets "database is locked" at once, whatever the busy timeout."""
    path = tmp_path / "deferred.db"
    setup = sqlite3.connect(str(path), isolation_level=None)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE t (n INTEGER)")
    setup.execute("INSERT INTO t VALUES (0)")
    setup.close()
    a = sqlite3.connect(str(path), timeout=5, isolation_level=None)
    b = sqlite3.connect(str(path), timeout=5, isolation_level=None)
    a.execute("BEGIN")
    b.execute("BEGIN")
    a.execute("SELECT n FROM t").fetchone()
    b.execute("SELECT n FROM t").fetchone()
    a.execute("UPDATE t SET n = n + 1")
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        b.execute("UPDATE t SET n = n + 1")
    a.execute("COMMIT")
    b.execute("ROLLBACK")
    a.close()
    b.close()
