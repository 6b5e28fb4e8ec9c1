"""The in-app inbox: flags reaching their readers when the scan raises or escalates them,
marking notifications read, and their words in the reader's language."""
import sqlalchemy as sa
from flask_babel import gettext as _

from models import Flag, Notification, User
from tracker import audit, labels, rules
from tracker.extensions import db
from tracker.i18n import N_
from tracker.labels import LABELS

# A flag reaching a reader, with the scan that raised it (the nodal officer of its
# department) or escalated it to them (NIC, the Secretary): one notification per reader
# and flag, whatever the number of scans.
FLAG_EVENTS = ("flag_raised", "flag_escalated")
ESCALATED_BODY = N_("Escalated to you")
# The notifications worded again from their flag in the reader's language.
_WORDED_FROM_FLAG = ("digest", *FLAG_EVENTS)


def kind_label_sql():
    return sa.case(
        *((Flag.kind == kind, words) for kind, words in LABELS["flag_kind"].items()),
        else_=Flag.kind,
    )


def flag_subject_sql():
    """'Milestone overdue: M-3 Build the portal', from the flag's kind and details."""
    label = sa.func.coalesce(Flag.details["label"].as_string(), "")
    return sa.case((label == "", kind_label_sql()), else_=kind_label_sql() + ": " + label)


def flag_link_sql():
    return "/flags/" + sa.cast(Flag.id, sa.String)


def notify_flags(now, connection=None) -> int:
    """Give every open flag to each reader it reaches (``rules.flag_reaches_sql``) who has
    not had it yet: one ``INSERT … SELECT … WHERE NOT EXISTS``. Run by the scan, in its
    transaction (flushes, does not commit); a second run with nothing new adds nothing.

    The notifications of flags cleared since are marked read: the unread count stays the
    number of open items new to the reader. Returns how many notifications were added."""
    conn = connection if connection is not None else db.session.connection()
    seen = sa.exists().where(
        Notification.user_id == User.id,
        Notification.flag_id == Flag.id,
        Notification.event.in_(FLAG_EVENTS),
    )
    escalated = sa.and_(User.role != "nodal", Flag.escalation != "department")
    select = (
        sa.select(
            User.id, Flag.id,
            sa.case((escalated, "flag_escalated"), else_="flag_raised"),
            flag_subject_sql(),
            sa.case((escalated, ESCALATED_BODY), else_=""),
            flag_link_sql(), sa.literal(now, sa.DateTime),
        )
        .select_from(Flag)
        .join(User, rules.flag_reaches_sql())
        .where(Flag.kind.notin_(rules.WEEKLY_FLAG_KINDS), sa.not_(seen))
    )
    columns = ["user_id", "flag_id", "event", "subject", "body", "link", "created_at"]
    added = conn.execute(
        sa.insert(Notification).from_select(columns, select)
        .execution_options(preserve_rowcount=True)
    ).rowcount
    conn.execute(
        sa.update(Notification)
        .where(
            Notification.read_at.is_(None),
            Notification.event.in_(FLAG_EVENTS),
            sa.exists().where(Flag.id == Notification.flag_id, Flag.cleared_at.is_not(None)),
        )
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    return added


def in_words(notification, flag=None):
    """``(subject, body)`` of ``notification`` in the reader's language.

    The scan and the reminder store them in English (one set-based insert for every reader
    at once); a flag's notice is worded again from its flag (kind and label), anything else
    through the catalogue (the reminder's words are in it; other text shows as stored)."""
    if (notification.event in _WORDED_FROM_FLAG and flag is not None
            and flag.kind in LABELS["flag_kind"]):
        kind, label = labels.label("flag_kind", flag.kind), (flag.details or {}).get("label")
        subject = f"{kind}: {label}" if label else kind
    else:
        subject = _(notification.subject) if notification.subject else ""
    return subject, (_(notification.body) if notification.body else "")


def mark_read(notification, user, *, now):
    """Mark one of ``user``'s notifications read (no change when it already is)."""
    if notification.user_id != user.id:
        raise ValueError("not this user's notification")
    if notification.read_at is not None:
        return False
    notification.read_at = now
    db.session.flush()
    audit.record("read", "notification", notification.id, user=user)
    return True


def mark_all_read(user, *, now):
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
