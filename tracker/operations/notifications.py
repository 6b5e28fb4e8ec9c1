"""The in-app inbox: marking notifications read."""
import sqlalchemy as sa

from models import Notification
from tracker import audit
from tracker.extensions import db


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
