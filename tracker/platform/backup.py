"""Backup and restore: ``flask --app tracker backup PATH`` and ``flask --app tracker restore PATH``.

SQLite is copied with its online backup API (``sqlite3.Connection.backup``), never as a file:
the copy is one consistent moment even while the app writes, and a restore goes through
the same API into the target, under its lock. PostgreSQL is dumped with ``pg_dump`` in its
custom format, from an exported snapshot in which the rows are also counted, and restored
with ``pg_restore --clean`` in one transaction.

Both commands print the row count of every table: the backup's at its moment, the
restore's once it is done, so the two can be compared.

The attached files (evidence, signed minutes: ``ATTACHMENTS_DIR``) are rows' bytes kept on
disk, so a backup without them would lose what users uploaded. ``backup PATH`` also writes
``PATH.attachments.tar``: the files named by the backup's own rows (the same moment), each
under its storage key. ``restore PATH`` puts them back beside the others (a stored file is
never changed, only added or removed, so a key names the same bytes everywhere) and checks
that every restored row's file is on disk. A backup made before files were backed up restores
as before, and the restore says how many rows name a file that is not there.
"""
import os
import shutil
import sqlite3
import subprocess  # nosec B404 # pg_dump/pg_restore only, with an argument list, never a shell
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import make_url

from tracker.attachments import human_size, stored_name, write_whole
from tracker.extensions import db

SQLITE_HEADER = b"SQLite format 3\x00"
FILES_SUFFIX = ".attachments.tar"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why."""


# ---------------------------------------------------------------- helpers


def _sqlite_path(url):
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def _sqlite_connect(path):
    connection = sqlite3.connect(str(path), timeout=30, isolation_level=None)
    connection.execute("PRAGMA busy_timeout=30000")
    return connection


def sqlite_counts(connection):
    """Row count of every table of an open SQLite database (name order)."""
    names = [row[0] for row in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name")]
    counts = {}
    for name in names:
        quoted = '"' + name.replace('"', '""') + '"'
        query = f"SELECT count(*) FROM {quoted}"  # nosec B608 # a quoted name from sqlite_master
        counts[name] = connection.execute(query).fetchone()[0]
    return counts


def integrity(connection):
    """``PRAGMA integrity_check``: "ok" for a sound database."""
    return "; ".join(row[0] for row in connection.execute("PRAGMA integrity_check"))


def table_counts(connection):
    """Row count of every table, through a SQLAlchemy connection (any database)."""
    inspector = sa.inspect(connection)
    return {
        name: connection.execute(sa.select(sa.func.count()).select_from(sa.table(name))).scalar()
        for name in sorted(inspector.get_table_names())
    }


def _libpq(url):
    """A SQLAlchemy URL as what pg_dump needs: a connection URI without the password, and
    an environment carrying the password (so it never shows in the process list)."""
    url = make_url(url)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _tool(name):
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (PostgreSQL client tools are needed)")
    return path


def _run(args, env):
    # A fixed tool found by shutil.which, run with an argument list and no shell.
    result = subprocess.run(  # nosec B603 # pg_dump/pg_restore, argument list, no shell
        args, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed: {result.stderr.strip()}")
    return result


# ---------------------------------------------------------------- backup


@dataclass
class Files:
    """The attached files of a backup or a restore."""

    count: int = 0
    size: int = 0
    missing: int = 0  # named by a row, not on disk

    def describe(self):
        text = f"{self.count} attached file{'' if self.count == 1 else 's'} ({human_size(self.size)})"
        if self.missing:
            text += f"; {self.missing} named by a row not found on disk"
        return text


def files_path(path):
    """Where the attached files of the backup at ``path`` are: ``PATH.attachments.tar``."""
    return Path(str(path) + FILES_SUFFIX)


def backup(url, path, force=False, attachments_dir=None):
    """Write a backup of the database at ``url`` to ``path``, and the attached files its rows
    name (found in ``attachments_dir``) beside it; return its row counts and ``Files``."""
    path = Path(path)
    for target in (path, files_path(path)):
        if target.exists() and not force:
            raise BackupError(f"{target} exists; choose another name or pass --force")
    path.parent.mkdir(parents=True, exist_ok=True)
    dialect = make_url(url).get_backend_name()
    if dialect == "sqlite":
        counts, keys = _backup_sqlite(_sqlite_path(url), path)
    elif dialect == "postgresql":
        counts, keys = _backup_postgresql(url, path)
    else:
        raise BackupError(f"no backup for {dialect} databases")
    files = _archive(keys, Path(attachments_dir) if attachments_dir else None, files_path(path))
    return counts, files


def _stored_keys(execute, counts):
    """The storage keys of the attachments table (none when the schema predates it)."""
    if "attachments" not in counts:
        return []
    return [row[0] for row in execute("SELECT storage_key FROM attachments")]


def _on_disk(root, key):
    """The stored file of ``key`` under ``root`` when it is there (a key that is not a
    storage key names no file)."""
    try:
        source = root / stored_name(key) if root else None
    except ValueError:
        return None
    return source if source is not None and source.is_file() else None


def _archive(keys, root, target):
    """Write the files of ``keys`` under ``root`` to the tar ``target`` (atomically);
    a key whose file is gone (removed since the backup's moment) is counted as missing."""
    files = Files()
    fd, tmp_name = tempfile.mkstemp(prefix=target.name + ".", suffix=".partial",
                                    dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with tarfile.open(tmp, "w") as tar:
            for key in sorted(keys):
                source = _on_disk(root, key)
                if source is None:
                    files.missing += 1
                    continue
                tar.add(source, arcname=stored_name(key), recursive=False)
                files.count += 1
                files.size += source.stat().st_size
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return files


def _backup_sqlite(source_path, path):
    if not source_path.exists():
        raise BackupError(f"there is no database at {source_path}")
    # Written next to the target and renamed into place: a failed backup leaves no
    # half-written file under the name asked for.
    fd, tmp_name = tempfile.mkstemp(prefix=path.name + ".", suffix=".partial", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        source = _sqlite_connect(source_path)
        target = sqlite3.connect(str(tmp), isolation_level=None)
        try:
            source.backup(target)  # all pages in one step: one consistent moment
            target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            check = integrity(target)
            if check != "ok":
                raise BackupError(f"the backup failed its integrity check: {check}")
            counts = sqlite_counts(target)
            keys = _stored_keys(target.execute, counts)
        finally:
            target.close()
            source.close()
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return counts, keys


def _backup_postgresql(url, path):
    pg_dump = _tool("pg_dump")
    conninfo, env = _libpq(url)
    engine = sa.create_engine(url, isolation_level="REPEATABLE READ", poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            # Export this transaction's snapshot: pg_dump dumps exactly what is counted here.
            snapshot = connection.execute(sa.text("SELECT pg_export_snapshot()")).scalar()
            counts = table_counts(connection)
            keys = _stored_keys(lambda sql: connection.execute(sa.text(sql)), counts)
            _run([pg_dump, "--format=custom", "--no-owner", "--no-privileges",
                  f"--snapshot={snapshot}", f"--file={path}", f"--dbname={conninfo}"], env)
            connection.rollback()
    finally:
        engine.dispose()
    return counts, keys


# ---------------------------------------------------------------- restore


def restore(url, path, attachments_dir=None):
    """Replace the database at ``url`` by the backup at ``path`` and put its attached files
    back in ``attachments_dir``; return the row counts and ``Files`` (``missing``: restored
    rows naming a file that is not on disk)."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"there is no backup at {path}")
    dialect = make_url(url).get_backend_name()
    if dialect not in ("sqlite", "postgresql"):
        raise BackupError(f"no restore for {dialect} databases")
    root = Path(attachments_dir) if attachments_dir else None
    archive = files_path(path)
    members = _checked_members(archive) if archive.is_file() else None
    if dialect == "sqlite":
        counts = _restore_sqlite(path, _sqlite_path(url))
    else:
        counts = _restore_postgresql(path, url)
    files = Files()
    if members and root is not None:
        files = _extract(archive, members, root)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            keys = _stored_keys(lambda sql: connection.execute(sa.text(sql)), counts)
    finally:
        engine.dispose()
    files.missing = sum(1 for key in keys if _on_disk(root, key) is None)
    return counts, files


def _stored_name_or_none(name):
    """``name`` as the store names a file (``ab/abcd…``), or None when it is not one."""
    try:
        return stored_name(name.rpartition("/")[2])
    except ValueError:
        return None


def _checked_members(archive):
    """The regular files of the tar ``archive``, each named as a stored file is; anything
    else (a link, a device, a path out of the folder) refuses the whole restore, before the
    database is touched."""
    try:
        with tarfile.open(archive, "r:") as tar:
            members = tar.getmembers()
    except tarfile.TarError as exc:
        raise BackupError(f"{archive} is not an archive of attached files: {exc}") from None
    for member in members:
        if not (member.isfile() and member.name == _stored_name_or_none(member.name)):
            raise BackupError(f"{archive} holds {member.name!r}, which is not an attached file")
    return members


def _extract(archive, members, root):
    """Put the files back under ``root``, each written whole then renamed into place; a file
    already there (the same key, so the same bytes) is left as it is."""
    files = Files()
    with tarfile.open(archive, "r:") as tar:
        for member in members:
            target = root / member.name
            files.count += 1
            files.size += member.size
            if target.is_file():
                continue
            with tar.extractfile(member) as data:
                write_whole(target, data)
    return files


def _restore_sqlite(path, target_path):
    with open(path, "rb") as f:
        if f.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise BackupError(f"{path} is not a SQLite backup")
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    try:
        check = integrity(source)
        if check != "ok":
            raise BackupError(f"the backup at {path} failed its integrity check: {check}")
        target_path.parent.mkdir(parents=True, exist_ok=True)
        target = _sqlite_connect(target_path)
        try:
            source.backup(target)
            target.execute("PRAGMA journal_mode=WAL")
            check = integrity(target)
            if check != "ok":
                raise BackupError(f"the restored database failed its integrity check: {check}")
            return sqlite_counts(target)
        finally:
            target.close()
    finally:
        source.close()


def _restore_postgresql(path, url):
    pg_restore = _tool("pg_restore")
    conninfo, env = _libpq(url)
    _run([pg_restore, "--list", str(path)], env)  # refuses a file that is not a dump
    _run([pg_restore, "--clean", "--if-exists", "--no-owner", "--no-privileges",
          "--single-transaction", "--exit-on-error", f"--dbname={conninfo}", str(path)], env)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            return table_counts(connection)
    finally:
        engine.dispose()


# ---------------------------------------------------------------- commands


def _echo_counts(counts):
    width = max((len(name) for name in counts), default=0)
    for name, n in counts.items():
        click.echo(f"  {name:{width}}  {n}")
    click.echo(f"{len(counts)} tables, {sum(counts.values())} rows")


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite PATH when it exists.")
@with_appcontext
def backup_command(path, force):
    """Back up the database to PATH while the app keeps running (SQLite: online backup
    API; PostgreSQL: pg_dump custom format), and the attached files its rows name to
    PATH.attachments.tar. Prints the row counts at the backup's moment."""
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    try:
        counts, files = backup(url, path, force=force,
                               attachments_dir=current_app.config["ATTACHMENTS_DIR"])
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Backed up to {path}; rows at the backup's moment:")
    _echo_counts(counts)
    click.echo(f"and {files.describe()} in {files_path(path)}")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(path, yes):
    """Replace the whole database with the backup at PATH (SQLite: backup API into the
    database; PostgreSQL: pg_restore --clean in one transaction) and put back the attached
    files of PATH.attachments.tar. Stop the app first."""
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    if not yes:
        click.confirm(f"Replace every row of {make_url(url).render_as_string()} "
                      f"with the backup {path}?", abort=True)
    db.session.remove()
    db.engine.dispose()  # no pooled connection may hold the old database open
    try:
        counts, files = restore(url, path, attachments_dir=current_app.config["ATTACHMENTS_DIR"])
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Restored {path}; rows now:")
    _echo_counts(counts)
    if not files_path(path).is_file():
        click.echo(f"The backup has no attached files ({files_path(path).name} is not beside it).")
    click.echo(f"and {files.describe()}")
    if files.missing:
        click.echo(f"Warning: {files.missing} attachment rows name a file that is not in "
                   f"{current_app.config['ATTACHMENTS_DIR']}; those files cannot be opened.",
                   err=True)


def init_app(app):
    """``flask backup`` and ``flask restore`` (called by ``tracker.cli.init_app``)."""
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
