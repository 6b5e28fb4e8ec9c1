"""The in-app inbox: marking notifications read, and their words in the reader's language."""
import sqlalchemy as sa
from flask_babel import gettext as _

from models import Notification
from tracker import audit, rules
from tracker.extensions import db


def in_words(notification, flag=None):
    """``(subject, body)`` of ``notification`` in the reader's language.

    The scan and the reminder store them in English (one set-based insert for every reader
    at once); a digest line is worded again from its flag (kind and label), anything else
    through the catalogue (the reminder's words are in it; other text shows as stored)."""
    if notification.event == "digest" and flag is not None and flag.kind in rules.FLAG_KIND_LABELS:
        kind, label = _(rules.FLAG_KIND_LABELS[flag.kind]), (flag.details or {}).get("label")
        subject = f"{kind}: {label}" if label else kind
    else:
        subject = _(notification.subject) if notification.subject else ""
    return subject, (_(notification.body) if notification.body else "")


def mark_read(user, notification, now):
    """Mark one of ``user``'s notifications read (no change when it already is)."""
    if notification.user_id != user.id:
        raise ValueError("not this user's notification")
    if notification.read_at is not None:
        return False
    notification.read_at = now
    db.session.flush()
    audit.record("read", "notification", notification.id, user=user)
    return True


def mark_all_read(user, now):
    """Mark every unread notification of ``user`` read; returns how many."""
    count = db.session.execute(
        sa.update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=now),
        execution_options={"synchronize_session": False},
    ).rowcount
    if count:
        audit.record("read_all", "notification", None, {"count": count}, user=user)
    db.session.flush()
    return count


def unread_count(user) -> int:
    return db.session.execute(
        sa.select(sa.func.count(Notification.id)).where(
            Notification.user_id == user.id, Notification.read_at.is_(None)
        )
    ).scalar_one()
