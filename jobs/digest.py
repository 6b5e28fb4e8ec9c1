"""The daily digest (at ``DIGEST_HOUR``, local time), by e-mail when ``MAIL_SERVER`` is set.

The flags themselves reach the in-app inbox with the scan that raises or escalates them
(``operations.notifications.notify_flags``). The digest adds, for each reader with
something new since their last digest (flag notifications not yet e-mailed), one 'digest'
notification: the record of that day's mail, which ``jobs.mail`` sends (new and escalated
items first, then the rest as counts per kind with a link to the filtered flag list).
A reader with nothing new gets no mail, unless their address is in ``DIGEST_FULL_LIST``:
they get every day's mail with the full list of their open items.

One ``INSERT … SELECT … WHERE NOT EXISTS`` makes the digest notifications: a second run on
the same day adds and mails nothing.
"""
from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased

from jobs import mail
from models import Flag, Notification, User
from tracker import rules
from tracker.extensions import db
from tracker.i18n import N_
from tracker.operations.notifications import (  # noqa: F401  (re-exported for the jobs)
    FLAG_EVENTS, flag_link_sql, flag_subject_sql, kind_label_sql,
)

COLUMNS = ["user_id", "flag_id", "event", "subject", "body", "link", "created_at", "digest_on"]
SUBJECT = N_("Daily digest e-mail")
DIGEST_ROLES = ("nodal", "nic", "secretary")


def insert_notifications(select, dialect):
    """``INSERT … SELECT`` of notifications about a flag, once per (user, flag, day)."""
    from sqlalchemy.dialects import postgresql, sqlite

    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Notification)
    return (
        insert.from_select(COLUMNS, select)
        .on_conflict_do_nothing(index_elements=["user_id", "flag_id", "digest_on"])
        .execution_options(preserve_rowcount=True)
    )


def new_since_last_digest_sql():
    """The reader (``User``) has a flag notification not yet e-mailed whose flag is open."""
    return (
        sa.select(Notification.id)
        .join(Flag, Flag.id == Notification.flag_id)
        .where(
            Notification.user_id == User.id,
            Notification.event.in_(FLAG_EVENTS),
            Notification.emailed_at.is_(None),
            Flag.cleared_at.is_(None),
        )
        .exists()
    )


def create_digest(today: date, now: datetime) -> int:
    """Add today's digest notifications (flushes, does not commit); returns how many."""
    full_list = current_app.config.get("DIGEST_FULL_LIST") or []
    any_open = (
        sa.select(Flag.id)
        .where(rules.flag_reaches_sql(), Flag.kind.notin_(rules.WEEKLY_FLAG_KINDS))
        .exists()
    )
    sent = aliased(Notification)
    already = (
        sa.select(sent.id)
        .where(sent.user_id == User.id, sent.event == "digest", sent.flag_id.is_(None),
               sent.digest_on == today)
        .exists()
    )
    wanted = new_since_last_digest_sql()
    if full_list:
        wanted = sa.or_(wanted, sa.and_(User.email.in_(full_list), any_open))
    select = sa.select(
        User.id, sa.null(), sa.literal("digest"), sa.literal(SUBJECT), sa.literal(""),
        sa.literal("/notifications/"), sa.literal(now, sa.DateTime),
        sa.literal(today, sa.Date), sa.literal(now, sa.DateTime),
    ).where(User.active.is_(True), User.role.in_(DIGEST_ROLES), wanted, sa.not_(already))
    return db.session.execute(
        sa.insert(Notification).from_select([*COLUMNS, "read_at"], select)
        .execution_options(preserve_rowcount=True)
    ).rowcount


def run(today: date, now: datetime) -> dict:
    """The scheduled job: today's digest mails, recorded, committed, then sent. Without a
    mail server there is nothing to do: the flags are in the inbox already."""
    if not mail.configured():
        return {"digests": 0, "mail": "not configured"}
    created = create_digest(today, now)
    db.session.commit()
    return {"digests": created, **mail.deliver(today, now)}
