"""Locks that end with their holder: released the moment the process holding them dies.

- PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) taken on a connection
  of the lock's own (not from the pool), held open as long as the lock is held. When the
  process dies its connection closes and the server releases the lock.
- SQLite: an OS file lock (``fcntl.flock``) on a file beside the database file
  (``tracker.db.job-scan.lock``). The kernel releases it when the process dies.

Both conflict between processes and between two locks of the same name in one process (each
lock has its own connection or open file). Nothing waits: ``acquire`` answers at once.
"""
import fcntl
import os
import re
import socket
import tempfile
import threading
import zlib
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

NAMESPACE = 0x5254  # 'RT': the advisory locks of the Roadmap Tracker


def holder_id():
    """Who holds a lock: host and process id (a third part tells apart two holders in one
    process, e.g. two schedulers in a test)."""
    import uuid

    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _key(name):
    value = zlib.crc32(name.encode())
    return value - (1 << 32) if value >= (1 << 31) else value  # a signed int4


class AdvisoryLock:
    """A PostgreSQL session-level advisory lock on a connection of its own."""

    def __init__(self, url, name):
        self.url, self.name = url, name
        self._engine = None
        self._conn = None
        self._mutex = threading.Lock()

    def acquire(self, holder="") -> bool:
        with self._mutex:
            if self._conn is not None:
                return True
            self._engine = sa.create_engine(self.url, poolclass=NullPool)
            conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            try:
                got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:a, :b)"),
                                   {"a": NAMESPACE, "b": _key(self.name)}).scalar()
            except Exception:
                conn.close()
                self._engine.dispose()
                raise
            if not got:
                conn.close()
                self._engine.dispose()
                return False
            self._conn = conn
            return True

    def alive(self) -> bool:
        """Still held: the lock's connection still answers."""
        with self._mutex:
            if self._conn is None:
                return False
            try:
                self._conn.execute(sa.text("SELECT 1"))
                return True
            except Exception:
                self._drop()
                return False

    def release(self):
        with self._mutex:
            if self._conn is None:
                return
            try:
                self._conn.execute(sa.text("SELECT pg_advisory_unlock(:a, :b)"),
                                   {"a": NAMESPACE, "b": _key(self.name)})
            except Exception:
                pass  # closing the connection releases it anyway
            self._drop()

    def _drop(self):
        try:
            self._conn.close()
        except Exception:
            pass
        self._engine.dispose()
        self._conn = None

    @staticmethod
    def holder_backend(bind, name):
        """The server process id of the session holding lock ``name`` in this database, or
        None. (Advisory locks are per database: another database on the same server, a
        staging copy, holds its own lock of the same name, which is not ours to end.)"""
        return bind.execute(sa.text(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND classid = :a AND objid = :b AND objsubid = 2"),
            {"a": NAMESPACE & 0xFFFFFFFF, "b": _key(name) & 0xFFFFFFFF}).scalar()

    def break_(self, bind):
        """End the database session that holds this lock (``jobs unlock``); True when one
        was ended."""
        pid = self.holder_backend(bind, self.name)
        if pid is None:
            return False
        return bool(bind.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar())


class FileLock:
    """An exclusive ``flock`` on a file; the file keeps the holder's id for messages."""

    def __init__(self, path, name):
        self.path, self.name = Path(path), name
        self._fd = None
        self._mutex = threading.Lock()

    def acquire(self, holder="") -> bool:
        with self._mutex:
            if self._fd is not None:
                return True
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            os.ftruncate(fd, 0)
            os.pwrite(fd, (holder or holder_id()).encode(), 0)
            self._fd = fd
            return True

    def alive(self) -> bool:
        return self._fd is not None

    def release(self):
        with self._mutex:
            if self._fd is None:
                return
            try:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            finally:
                os.close(self._fd)
                self._fd = None

    def recorded_holder(self):
        try:
            return self.path.read_text()[:200] or None
        except OSError:
            return None

    def break_(self, bind):
        return False  # only the holder (or its death) releases an OS file lock


def lock_path(database_url, name):
    """The lock file of ``name`` beside the SQLite database file."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "-", name)
    url = sa.engine.make_url(database_url)
    database = url.database
    if not database or database == ":memory:":
        base = Path(tempfile.gettempdir()) / f"roadmap-tracker-memory-{os.getpid()}"
    else:
        base = Path(database)
    return base.with_name(f"{base.name}.{safe}.lock")


def make_lock(engine, name):
    """A lock named ``name`` for the database of ``engine``."""
    if engine.dialect.name == "postgresql":
        return AdvisoryLock(engine.url, name)
    return FileLock(lock_path(engine.url, name), name)
