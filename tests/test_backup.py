"""Backup and restore while the app writes.

A thread keeps committing (a department and its audit entry in one transaction) while
``flask backup`` runs; the backup is restored into an empty place, which must pass its
integrity check and hold exactly the row counts the backup printed for its moment, with
no transaction torn in half.
"""
import re
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from models import AuditLog, Department
from tests.conftest import BACKEND
from tests.route_walk import build_world
from tracker.platform import backup as backup_module
from tracker import create_app
from tracker.extensions import db

pytestmark = pytest.mark.commits  # backups read the database through other connections


class Writer(threading.Thread):
    """Commits one department and one audit entry per transaction until stopped."""

    def __init__(self, app):
        super().__init__(daemon=True)
        self.app, self.count, self.errors = app, 0, []
        self.changed = threading.Condition()
        self.stop = threading.Event()

    def run(self):
        with self.app.app_context():
            try:
                while not self.stop.is_set():
                    n = self.count + 1
                    db.session.add(Department(code=f"written{n}", name=f"Written {n}"))
                    db.session.add(AuditLog(action="writer_tick", entity="department",
                                            entity_id=n))
                    db.session.commit()
                    with self.changed:
                        self.count = n
                        self.changed.notify_all()
            except Exception as exc:  # noqa: BLE001 (reported by the test)
                self.errors.append(repr(exc))
                with self.changed:
                    self.changed.notify_all()
            finally:
                db.session.remove()

    def wait_for(self, n):
        with self.changed:
            assert self.changed.wait_for(lambda: self.count >= n or self.errors, timeout=120)
        assert not self.errors, self.errors
        return self.count


def invoke(app, *args):
    """Run a command of ``app``. (In its own app context: a command run while another app's
    context is current would work on that app's database.)"""
    with app.app_context():
        return app.test_cli_runner().invoke(args=list(args))


def printed_counts(output):
    """The ``  table  n`` lines of the backup/restore output."""
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^  (\w+)\s+(\d+)$", output, re.M)}


def backup_while_writing(app, path):
    writer = Writer(app)
    writer.start()
    try:
        before = writer.wait_for(10)
        result = invoke(app, "backup", str(path))
        after = writer.wait_for(writer.count + 10)  # the writes went on after it, too
    finally:
        writer.stop.set()
        writer.join()
    assert result.exit_code == 0, result.output
    assert not writer.errors, writer.errors
    return printed_counts(result.output), before, after


def assert_consistent(counts, baseline, before, after, figure, label):
    """The writer's two rows came together or not at all, and the backup holds between
    the writes done before it started and those done by the time it ended."""
    ticks = counts["audit_log"] - baseline["audit_log"]
    written = counts["departments"] - baseline["departments"]
    assert ticks == written, "a transaction was torn in half"
    assert before <= written <= after and before < after
    figure(f"{label} backup taken while writing: {written} of the writer's {after} commits "
           f"in the backup, {len(counts)} tables, {sum(counts.values())} rows, restored equal")


def _world_counts():
    counts = backup_module.table_counts(db.session.connection())
    db.session.commit()
    return counts


def test_sqlite_backup_while_writing_restores_equal_into_an_empty_file(tmp_path, figure):
    live = tmp_path / "live.db"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{live}"})
    with app.app_context():
        db.create_all()
        build_world()
        baseline = _world_counts()
    path = tmp_path / "backups" / "tracker.sqlite"

    counts, before, after = backup_while_writing(app, path)

    with sqlite3.connect(str(path)) as copy:
        assert backup_module.integrity(copy) == "ok"
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one file
        assert backup_module.sqlite_counts(copy) == counts
    target = tmp_path / "restored" / "tracker.db"
    restored = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{target}"})
    result = invoke(restored, "restore", str(path), "--yes")
    assert result.exit_code == 0, result.output
    assert printed_counts(result.output) == counts
    with sqlite3.connect(str(target)) as copy:
        assert backup_module.integrity(copy) == "ok"
        assert backup_module.sqlite_counts(copy) == counts
    assert_consistent(counts, baseline, before, after, figure, "sqlite")
    with app.app_context():
        db.engine.dispose()


def test_backup_refuses_to_overwrite_and_restore_refuses_a_non_backup(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'live.db'}"})
    with app.app_context():
        db.create_all()
    runner = app.test_cli_runner()
    path = tmp_path / "b.sqlite"
    assert runner.invoke(args=["backup", str(path)]).exit_code == 0
    again = runner.invoke(args=["backup", str(path)])
    assert again.exit_code != 0 and "--force" in again.output
    assert runner.invoke(args=["backup", str(path), "--force"]).exit_code == 0
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"PK\x03\x04 not a database")
    refused = runner.invoke(args=["restore", str(junk), "--yes"])
    assert refused.exit_code != 0 and "is not a SQLite backup" in refused.output
    asked = runner.invoke(args=["restore", str(path)], input="n\n")
    assert asked.exit_code != 0 and "Aborted" in asked.output
    with app.app_context():
        db.engine.dispose()


def test_memory_database_cannot_be_backed_up(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "x")])
    assert result.exit_code != 0 and "in-memory" in result.output


@pytest.fixture
def scratch_database(database_url):
    """An empty PostgreSQL database next to the test database (``<test db>_restore``),
    emptied again afterwards. It is made once and kept, not dropped: DROP DATABASE waits
    for a checkpoint, which takes minutes on a busy server; emptying its schema does not."""
    import psycopg

    url = make_url(database_url)
    name = f"{url.database}_restore"
    admin = url.set(drivername="postgresql", database="postgres")
    scratch = url.set(drivername="postgresql", database=name)

    def empty():
        with psycopg.connect(scratch.render_as_string(hide_password=False),
                             autocommit=True) as connection:
            connection.execute("DROP SCHEMA IF EXISTS public CASCADE")
            connection.execute("CREATE SCHEMA public")

    with psycopg.connect(admin.render_as_string(hide_password=False),
                         autocommit=True) as connection:
        found = connection.execute("SELECT datconnlimit FROM pg_database WHERE datname = %s",
                                   (name,)).fetchone()
        if found and found[0] == -2:  # left invalid by an interrupted DROP DATABASE
            connection.execute(f'DROP DATABASE "{name}"')
            found = None
        if not found:
            connection.execute(f'CREATE DATABASE "{name}"')
    empty()
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        empty()


@pytest.mark.skipif(BACKEND != "postgresql",
                    reason="pg_dump/pg_restore run in the PostgreSQL pass (TRACKER_TEST_DB=postgresql)")
@pytest.mark.skipif(shutil.which("pg_dump") is None or shutil.which("pg_restore") is None,
                    reason="pg_dump and pg_restore are not installed")
def test_postgresql_backup_while_writing_restores_equal_into_an_empty_database(
        app, tmp_path, scratch_database, figure):
    from tests import factories

    build_world()
    key = _attach(Path(app.config["ATTACHMENTS_DIR"]), factories.meeting().id, b"%PDF-1.4 pg")
    baseline = _world_counts()
    path = tmp_path / "tracker.dump"

    counts, before, after = backup_while_writing(app, path)

    assert path.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    files = tmp_path / "restored-files"
    restored = create_app({"SQLALCHEMY_DATABASE_URI": scratch_database,
                           "ATTACHMENTS_DIR": str(files)})
    result = invoke(restored, "restore", str(path), "--yes")
    assert result.exit_code == 0, result.output
    assert printed_counts(result.output) == counts
    assert "and 1 attached file (11 bytes)" in result.output and "Warning" not in result.output
    assert (files / key[:2] / key).read_bytes() == b"%PDF-1.4 pg"
    (Path(app.config["ATTACHMENTS_DIR"]) / key[:2] / key).unlink()
    with restored.app_context():
        with db.engine.connect() as connection:
            assert backup_module.table_counts(connection) == counts
            fk = connection.execute(sa.text(
                "SELECT count(*) FROM pg_constraint WHERE contype = 'f'")).scalar()
            assert fk > 0  # the constraints came back with the rows
        db.engine.dispose()
    assert_consistent(counts, baseline, before, after, figure, "postgresql")


# --- The attached files go with the rows -----------------------------------------------


def _attach(root, meeting_id, data):
    """One signed-minutes attachment: its row, and its bytes where the store keeps them."""
    import hashlib
    import secrets

    from models import Attachment

    key = secrets.token_hex(16)
    (root / key[:2]).mkdir(parents=True, exist_ok=True)
    (root / key[:2] / key).write_bytes(data)
    db.session.add(Attachment(meeting_id=meeting_id, purpose="signed_minutes",
                              filename="minutes.pdf", content_type="application/pdf",
                              size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                              storage_key=key))
    db.session.commit()
    return key


def _app_with_files(tmp_path, name):
    root = tmp_path / f"{name}-files"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / name}.db",
                      "ATTACHMENTS_DIR": str(root)})
    with app.app_context():
        db.create_all()
    return app, root


def test_backup_carries_the_attached_files_and_restore_puts_them_back(tmp_path):
    from tests import factories

    live, live_files = _app_with_files(tmp_path, "live")
    with live.app_context():
        meeting = factories.meeting()
        keys = {_attach(live_files, meeting.id, b"%PDF-1.4 first"): b"%PDF-1.4 first",
                _attach(live_files, meeting.id, b"%PDF-1.4 second" * 100): b"%PDF-1.4 second" * 100}
    path = tmp_path / "backups" / "tracker-20261204"

    made = invoke(live, "backup", str(path))
    assert made.exit_code == 0, made.output
    assert f"and 2 attached files (1 KB) in {path}.attachments.tar" in made.output
    import tarfile

    with tarfile.open(f"{path}.attachments.tar") as tar:
        assert sorted(tar.getnames()) == sorted(f"{k[:2]}/{k}" for k in keys)

    # A new machine: an empty database and no files.
    restored, restored_files = _app_with_files(tmp_path, "restored")
    result = invoke(restored, "restore", str(path), "--yes")
    assert result.exit_code == 0, result.output
    assert "and 2 attached files (1 KB)" in result.output
    assert "Warning" not in result.output
    for key, data in keys.items():
        assert (restored_files / key[:2] / key).read_bytes() == data
    with restored.app_context():
        from models import Attachment

        assert set(db.session.execute(sa.select(Attachment.storage_key)).scalars()) == set(keys)
        db.engine.dispose()
    with live.app_context():
        db.engine.dispose()


def test_a_backup_says_which_files_were_gone_and_a_restore_which_rows_lack_their_file(tmp_path):
    from tests import factories

    live, live_files = _app_with_files(tmp_path, "live")
    with live.app_context():
        meeting = factories.meeting()
        kept = _attach(live_files, meeting.id, b"%PDF-1.4 kept")
        lost = _attach(live_files, meeting.id, b"%PDF-1.4 lost")
    (live_files / lost[:2] / lost).unlink()  # lost from the disk before the backup
    path = tmp_path / "b"
    made = invoke(live, "backup", str(path))
    assert made.exit_code == 0, made.output
    assert "1 attached file (13 bytes); 1 named by a row not found on disk" in made.output

    restored, restored_files = _app_with_files(tmp_path, "restored")
    result = invoke(restored, "restore", str(path), "--yes")
    assert result.exit_code == 0, result.output
    assert (restored_files / kept[:2] / kept).is_file()
    assert "Warning: 1 attachment rows name a file that is not in" in result.output

    # A backup made before the files were backed up: restored, and the missing files said.
    Path(f"{path}.attachments.tar").unlink()
    older, _ = _app_with_files(tmp_path, "older")
    result = invoke(older, "restore", str(path), "--yes")
    assert result.exit_code == 0, result.output
    assert "The backup has no attached files (b.attachments.tar is not beside it)." in result.output
    assert "Warning: 2 attachment rows name a file" in result.output
    for app in (live, restored, older):
        with app.app_context():
            db.engine.dispose()


@pytest.mark.parametrize("name, kind", [("../../outside", b"0"),  # a path out of the folder
                                        ("ab/abcdef", b"0"),  # not a storage key
                                        ("ab/ab" + "0" * 30, b"2")])  # a symbolic link
def test_restore_refuses_an_archive_holding_anything_but_stored_files(tmp_path, name, kind):
    import io
    import tarfile

    live, _ = _app_with_files(tmp_path, "live")
    path = tmp_path / "b"
    assert invoke(live, "backup", str(path)).exit_code == 0
    with tarfile.open(f"{path}.attachments.tar", "w") as tar:
        member = tarfile.TarInfo(name)
        member.type = kind
        if kind == tarfile.SYMTYPE:
            member.linkname = "/etc/passwd"
            tar.addfile(member)
        else:
            member.size = 4
            tar.addfile(member, io.BytesIO(b"evil"))

    target, target_files = _app_with_files(tmp_path, "target")
    with target.app_context():
        from tests import factories

        factories.department("kept")
    result = invoke(target, "restore", str(path), "--yes")
    assert result.exit_code != 0
    assert "which is not an attached file" in result.output
    assert not (tmp_path / "outside").exists() and not target_files.exists()
    with target.app_context():
        assert db.session.execute(sa.select(Department.code)).scalars().all() == ["kept"]
        db.engine.dispose()
    with live.app_context():
        db.engine.dispose()
