"""The audit log: every write is recorded with who, when, from where and what changed."""
from datetime import date, datetime

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


def record(action, entity, entity_id=None, changes=None, user=None):
    """Add an audit entry to the session (the caller commits with its own write)."""
    if user is None and has_request_context() and current_user.is_authenticated:
        user = current_user
    remote = request.remote_addr if has_request_context() else None
    entry = AuditLog(
        user_id=user.id if user is not None else None,
        action=action,
        entity=entity,
        entity_id=entity_id,
        changes={k: [_plain(x) for x in v] if isinstance(v, list) else _plain(v)
                 for k, v in (changes or {}).items()},
        remote_addr=remote,
    )
    db.session.add(entry)
    return entry
