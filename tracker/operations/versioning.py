"""Optimistic locking, one way for every versioned record.

A versioned model names its version column in ``__mapper_args__["version_id_col"]``
(``version`` for most, ``lock_version`` for an action plan). An operation that changes one
takes ``expected_version``, the version the user read, and calls ``check_version`` before
changing anything and ``flush_versioned`` to write: a save from another version raises
``ConflictError`` instead of overwriting what someone else saved in between (a concurrent
save that passed the check is caught by the database at the flush).
"""
import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError

from tracker.extensions import db
from tracker.operations.errors import ConflictError


def current_version(record):
    """The record's version, whatever its model calls the column."""
    mapper = sa.inspect(type(record))
    return getattr(record, mapper.get_property_by_column(mapper.version_id_col).key)


def check_version(record, expected_version):
    """Refuse a save made from a version other than the record's current one (``None``: the
    caller read no version, nothing to compare)."""
    if expected_version is None:
        return
    current = current_version(record)
    try:
        expected = int(expected_version)
    except (TypeError, ValueError):
        raise ConflictError(record, expected_version, current) from None
    if expected != current:
        raise ConflictError(record, expected, current)


def flush_versioned(record, expected_version):
    """Flush, turning SQLAlchemy's stale-version error into our ``ConflictError``."""
    record_id = record.id
    try:
        db.session.flush()
    except StaleDataError:
        raise ConflictError(record, expected_version, record_id=record_id) from None
