"""The daily digest (at ``DIGEST_HOUR``, local time): every open flag reaches, in the
in-app inbox, the people ``rules.flag_reaches`` names (the department's nodal officer,
NIC once escalated to NIC, the Secretary once escalated to the Secretary); then the inbox
of the day is e-mailed when ``MAIL_SERVER`` is set.

One ``INSERT … SELECT … ON CONFLICT DO NOTHING`` makes the notifications: the unique
(user, flag, day) keeps a second run on the same day from adding or mailing anything.
"""
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from jobs import mail
from models import Flag, Notification, User
from tracker import rules
from tracker.extensions import db

COLUMNS = ["user_id", "flag_id", "event", "subject", "body", "link", "created_at", "digest_on"]


def kind_label_sql():
    return sa.case(
        *((Flag.kind == kind, label) for kind, label in rules.FLAG_KIND_LABELS.items()),
        else_=Flag.kind,
    )


def flag_subject_sql():
    """'Milestone overdue: M-3 Build the portal', from the flag's kind and details."""
    return kind_label_sql() + ": " + sa.func.coalesce(Flag.details["label"].as_string(), "")


def flag_link_sql():
    return "/flags/" + sa.cast(Flag.id, sa.String)


def insert_notifications(select, dialect):
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Notification)
    return (
        insert.from_select(COLUMNS, select)
        .on_conflict_do_nothing(index_elements=["user_id", "flag_id", "digest_on"])
        .execution_options(preserve_rowcount=True)
    )


def create_digest(today: date, now: datetime) -> int:
    """Add today's digest notifications (flushes, does not commit); returns how many."""
    conn = db.session.connection()
    select = (
        sa.select(
            User.id, Flag.id, sa.literal("digest"), flag_subject_sql(), sa.literal(""),
            flag_link_sql(), sa.literal(now, sa.DateTime), sa.literal(today, sa.Date),
        )
        .select_from(Flag)
        .join(User, rules.flag_reaches_sql())
        .where(Flag.kind.notin_(rules.WEEKLY_FLAG_KINDS))
    )
    created = conn.execute(insert_notifications(select, conn.dialect.name)).rowcount
    # Yesterday's unread notice of a flag is superseded by today's: the unread count
    # stays the number of open items, not items times days.
    today_n = aliased(Notification)
    conn.execute(
        sa.update(Notification)
        .where(
            Notification.event == "digest",
            Notification.read_at.is_(None),
            Notification.digest_on < today,
            sa.exists().where(
                today_n.user_id == Notification.user_id,
                today_n.flag_id == Notification.flag_id,
                today_n.digest_on == today,
            ),
        )
        .values(read_at=now)
    )
    return created


def run(today: date, now: datetime) -> dict:
    """The scheduled job: today's digest in the inbox, committed, then e-mailed."""
    created = create_digest(today, now)
    db.session.commit()
    return {"notifications": created, **mail.deliver(today, now)}
