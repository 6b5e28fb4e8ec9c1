"""The weekly reminder to departments with no submitted action plan: the nodal officer of
each department with an open 'no submitted plan' flag gets a notice in the inbox, e-mailed
when ``MAIL_SERVER`` is set. Once per department and day, however often it runs."""
from datetime import date, datetime

import sqlalchemy as sa

from jobs import mail
from jobs.digest import flag_link_sql, insert_notifications
from models import Flag, User
from tracker.extensions import db
from tracker.i18n import N_

# Stored in English; shown in the reader's language (``operations.notifications.in_words``).
SUBJECT = N_("Reminder: your department has not yet submitted its action plan")
BODY = N_("Please draft and submit the action plan with its dated milestones.")


def create_reminders(today: date, now: datetime) -> int:
    """Add the reminders (flushes, does not commit); returns how many."""
    conn = db.session.connection()
    select = (
        sa.select(
            User.id, Flag.id, sa.literal("plan_reminder"), sa.literal(SUBJECT),
            sa.literal(BODY),
            flag_link_sql(), sa.literal(now, sa.DateTime), sa.literal(today, sa.Date),
        )
        .select_from(Flag)
        .join(User, sa.and_(User.department_id == Flag.department_id, User.role == "nodal",
                            User.active.is_(True)))
        .where(Flag.kind == "no_submitted_plan", Flag.cleared_at.is_(None))
    )
    return conn.execute(insert_notifications(select, conn.dialect.name)).rowcount


def run(today: date, now: datetime) -> dict:
    created = create_reminders(today, now)
    db.session.commit()
    return {"reminders": created, **mail.deliver(today, now)}
