"""The audit log: every write is recorded with who, when, from where and what changed."""
from datetime import date, datetime

import sqlalchemy as sa
from flask import has_request_context, request
from flask_login import current_user

from models import AuditLog
from tracker.extensions import db


def _plain(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def snapshot(obj, fields):
    return {f: _plain(getattr(obj, f)) for f in fields}


def diff(before: dict, after: dict) -> dict:
    """``{field: [before, after]}`` for the fields that changed."""
    return {
        k: [before.get(k), after.get(k)]
        for k in sorted(set(before) | set(after))
        if before.get(k) != after.get(k)
    }


def _values(action, entity, entity_id, changes, user):
    if user is None and has_request_context() and current_user.is_authenticated:
        user = current_user
    return dict(
        user_id=user.id if user is not None else None,
        action=action,
        entity=entity,
        entity_id=entity_id,
        changes={k: [_plain(x) for x in v] if isinstance(v, list) else _plain(v)
                 for k, v in (changes or {}).items()},
        remote_addr=request.remote_addr if has_request_context() else None,
    )


def record(action, entity, entity_id=None, changes=None, user=None):
    """Add an audit entry to the session (the caller commits with its own write)."""
    entry = AuditLog(**_values(action, entity, entity_id, changes, user))
    db.session.add(entry)
    return entry


def record_many(entries, user=None):
    """Write many audit entries, ``(action, entity, entity_id, changes)`` each, in one batched
    INSERT, in the order given (for bulk operations: no ORM object, no id fetched per row)."""
    rows = [_values(action, entity, entity_id, changes, user)
            for action, entity, entity_id, changes in entries]
    if rows:
        db.session.execute(sa.insert(AuditLog.__table__), rows)
