"""E-mail delivery of the in-app notifications over SMTP (``smtplib``).

Each run sends every user one mail with their notifications of the day not yet e-mailed:
the daily digest (``jobs.digest``: what is new or escalated since their last digest first,
then the rest as counts per kind, each linked with ``BASE_URL``) and the weekly plan
reminder, in plain text and HTML, in the reader's language. A notification is marked
e-mailed as soon as its mail is accepted, and committed, so nothing is mailed twice; the
flag notifications a digest carried are marked e-mailed with it, so the next digest leads
only with what came after. A refused or unreachable server is logged and recorded on the
notifications (``email_result``); they stay pending and the next run tries again. Without
``MAIL_SERVER`` the notifications stay in the in-app inbox only.
"""
import logging
import smtplib
from collections import defaultdict
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import formataddr, format_datetime, make_msgid, parseaddr
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, render_template, url_for
from flask_babel import force_locale, ngettext
from sqlalchemy.orm import aliased

from models import Department, Flag, Notification, User
from tracker import rules
from tracker.extensions import db
from tracker.labels import label
from tracker.operations.notifications import FLAG_EVENTS, in_words

log = logging.getLogger(__name__)

# The notifications that go out by e-mail (the digest and the weekly plan reminder).
MAILED_EVENTS = ("digest", "plan_reminder")
# Bounds of one mail: the new items listed (the rest are counted and in the inbox), and
# the full list of a ``DIGEST_FULL_LIST`` reader.
NEW_LIMIT = 50
FULL_LIST_LIMIT = 300

SEVERITY_ORDER = sa.case({"critical": 0, "warning": 1, "info": 2}, value=Flag.severity, else_=3)
ESCALATION_ORDER = sa.case({"secretary": 0, "nic": 1, "department": 2},
                           value=Flag.escalation, else_=3)


def configured() -> bool:
    return bool(current_app.config.get("MAIL_SERVER"))


def pending(today: date):
    """The notifications of ``today`` still to be e-mailed, with their flag and department,
    grouped by user: ``{user: [(notification, flag, department_name), …]}`` (one query)."""
    rows = db.session.execute(
        sa.select(Notification, User, Flag, Department.name)
        .join(User, User.id == Notification.user_id)
        .outerjoin(Flag, Flag.id == Notification.flag_id)
        .outerjoin(Department, Department.id == Flag.department_id)
        .where(
            Notification.digest_on == today,
            Notification.emailed_at.is_(None),
            Notification.event.in_(MAILED_EVENTS),
            User.active.is_(True),
        )
        .order_by(User.id, Notification.event, Notification.id)
    ).all()
    grouped = defaultdict(list)
    for notification, user, flag, department_name in rows:
        grouped[user].append((notification, flag, department_name))
    return grouped


def _digests(items):
    return [n for n, flag, _ in items if n.event == "digest" and flag is None]


def digest_contents(digests) -> dict:
    """What each digest mail says, for all of ``digests`` (the digest notifications) in a
    few queries: ``{user_id: {"new": [(notification, flag, dept_name, dept_code)…],
    "new_total": n, "counts": [(kind, escalation, n)…], "full": [(flag, dept_name,
    dept_code)…], "full_total": n}}``."""
    if not digests:
        return {}
    config = current_app.config
    cutoff = {d.user_id: d.created_at for d in digests}
    contents = {uid: {"new": [], "new_total": 0, "counts": [], "full": [], "full_total": 0}
                for uid in cutoff}
    d = aliased(Notification)
    order = (ESCALATION_ORDER, SEVERITY_ORDER, Flag.raised_at.desc(), Flag.id)
    new = (
        sa.select(
            Notification.id.label("id"),
            sa.func.row_number().over(partition_by=Notification.user_id, order_by=order)
            .label("rank"),
            sa.func.count().over(partition_by=Notification.user_id).label("total"),
        )
        .join(Flag, Flag.id == Notification.flag_id)
        .join(d, sa.and_(d.user_id == Notification.user_id, d.id.in_([x.id for x in digests])))
        .where(
            Notification.event.in_(FLAG_EVENTS),
            Notification.emailed_at.is_(None),
            Notification.created_at <= d.created_at,
            Flag.cleared_at.is_(None),
        )
    ).subquery()
    rows = db.session.execute(
        sa.select(Notification, Flag, Department.name, Department.code, new.c.total)
        .join(new, new.c.id == Notification.id)
        .join(Flag, Flag.id == Notification.flag_id)
        .outerjoin(Department, Department.id == Flag.department_id)
        .where(new.c.rank <= NEW_LIMIT)
        .order_by(Notification.user_id, new.c.rank)
    ).all()
    for notification, flag, name, code, total in rows:
        entry = contents[notification.user_id]
        entry["new"].append((notification, flag, name, code))
        entry["new_total"] = total
    # The rest: every open flag that reaches the reader, counted per kind (and, for NIC
    # and the Secretary, per escalation level: the flag list filters by one level).
    level = sa.case((User.role == "nodal", ""), else_=Flag.escalation)
    reaches = sa.and_(User.id.in_(list(cutoff)), Flag.kind.notin_(rules.WEEKLY_FLAG_KINDS))
    for user_id, kind, escalation, count in db.session.execute(
        sa.select(User.id, Flag.kind, level, sa.func.count())
        .select_from(Flag).join(User, rules.flag_reaches_sql()).where(reaches)
        .group_by(User.id, Flag.kind, level)
        .order_by(User.id, Flag.kind, level)
    ):
        contents[user_id]["counts"].append((kind, escalation, count))
    full_list = config.get("DIGEST_FULL_LIST") or []
    if full_list:
        full = (
            sa.select(
                Flag.id.label("id"), User.id.label("user_id"),
                sa.func.row_number().over(partition_by=User.id, order_by=order).label("rank"),
                sa.func.count().over(partition_by=User.id).label("total"),
            )
            .select_from(Flag).join(User, rules.flag_reaches_sql())
            .where(reaches, User.email.in_(full_list))
        ).subquery()
        for user_id, flag, name, code, total in db.session.execute(
            sa.select(full.c.user_id, Flag, Department.name, Department.code, full.c.total)
            .join(full, full.c.id == Flag.id)
            .outerjoin(Department, Department.id == Flag.department_id)
            .where(full.c.rank <= FULL_LIST_LIMIT)
            .order_by(full.c.user_id, full.c.rank)
        ):
            contents[user_id]["full"].append((flag, name, code))
            contents[user_id]["full_total"] = total
    return contents


def _flag_entry(flag, department_name, department_code, base_url, event=None):
    from tracker.links import subject_url

    kind = label("flag_kind", flag.kind)
    name = (flag.details or {}).get("label")
    subject_path = subject_url(flag, department_code) or url_for("flags.show", flag_id=flag.id)
    return {
        "subject": f"{kind}: {name}" if name else kind,
        "url": base_url + subject_path,
        "flag_url": base_url + url_for("flags.show", flag_id=flag.id),
        "severity": label("flag_severity", flag.severity),
        "escalation": label("escalation", flag.escalation),
        "escalated": event == "flag_escalated",
        "level": flag.escalation,
        "department": department_name or "",
        "raised": flag.raised_at,
    }


def build_message(user, items, today: date, contents=None) -> EmailMessage:
    """One mail to ``user``: their digest (``contents``, from ``digest_contents``) and any
    other ``items`` (the plan reminder), in plain text and HTML, in the user's language."""
    config = current_app.config
    base_url = config["BASE_URL"].rstrip("/")
    contents = contents or {"new": [], "new_total": 0, "counts": [], "full": [],
                            "full_total": 0}
    with force_locale(user.locale or config["BABEL_DEFAULT_LOCALE"]), \
            current_app.test_request_context("/"):
        new = [_flag_entry(f, name, code, base_url, n.event)
               for n, f, name, code in contents["new"]]
        full = [_flag_entry(f, name, code, base_url) for f, name, code in contents["full"]]
        counts = []
        for kind, escalation, count in contents["counts"]:
            args = {"kind": kind, "status": "open"}
            if escalation:
                args["escalation"] = escalation
            counts.append({
                "kind": label("flag_kind", kind),
                "escalation": label("escalation", escalation),
                "count": count,
                "url": base_url + url_for("flags.index", **args),
            })
        reminders = [
            {"subject": in_words(n, flag)[0], "body": in_words(n, flag)[1],
             "url": base_url + (n.link or "/notifications/")}
            for n, flag, _ in items if not (n.event == "digest" and flag is None)
        ]
        has_digest = bool(_digests(items))
        context = {
            "user": user, "today": today, "inbox_url": base_url + "/notifications/",
            "digest": has_digest, "new": new, "new_total": contents["new_total"],
            "new_more": contents["new_total"] - len(new), "counts": counts,
            "open_total": sum(c["count"] for c in counts), "full": full,
            "full_more": contents["full_total"] - len(full), "reminders": reminders,
            "full_list": user.email in (config.get("DIGEST_FULL_LIST") or []),
        }
        day = today.strftime("%d-%m-%Y")
        if contents["new_total"]:
            subject = ngettext("Roadmap Tracker: %(num)d new item for %(day)s",
                               "Roadmap Tracker: %(num)d new items for %(day)s",
                               contents["new_total"], day=day)
        elif has_digest:
            subject = ngettext("Roadmap Tracker: %(num)d open item for %(day)s",
                               "Roadmap Tracker: %(num)d open items for %(day)s",
                               context["open_total"], day=day)
        else:
            subject = ngettext("Roadmap Tracker: %(num)d item for %(day)s",
                               "Roadmap Tracker: %(num)d items for %(day)s",
                               len(reminders), day=day)
        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = sender(config)
        message["To"] = formataddr((user.name, user.email))
        message["Date"] = format_datetime(datetime.now(ZoneInfo(config["TIMEZONE"])))
        message["Message-ID"] = make_msgid(domain=_sender_domain(config))
        # RFC 3834: sent by a program; auto-responders (out of office) do not answer it.
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(render_template("mail/digest.txt", **context))
        message.add_alternative(render_template("mail/digest.html", **context), subtype="html")
    return message


def sender(config):
    """The From header: 'Roadmap Tracker <roadmap-tracker@…>' unless MAIL_DEFAULT_SENDER
    already carries a display name."""
    name, address = parseaddr(config["MAIL_DEFAULT_SENDER"])
    return formataddr((name or config.get("MAIL_SENDER_NAME") or "Roadmap Tracker", address))


def _sender_domain(config):
    address = parseaddr(config["MAIL_DEFAULT_SENDER"])[1]
    return address.rpartition("@")[2] or "roadmap-tracker"


def _claim(notifications, now):
    """Take ``notifications`` for this run before mailing them: one ``UPDATE … WHERE
    emailed_at IS NULL … RETURNING`` (committed), so of two runs that read the same pending
    mail (the digest and the mail job, or a run by hand) only one sends it. Returns the ids
    taken. A mail that fails is given back (``_mark``); one whose process dies between the
    claim and the send is not sent again (it stays in the inbox): never twice."""
    taken = db.session.execute(
        sa.update(Notification)
        .where(Notification.id.in_([n.id for n in notifications]),
               Notification.emailed_at.is_(None))
        .values(emailed_at=now, email_result="sending")
        .returning(Notification.id),
        execution_options={"synchronize_session": False},
    ).scalars().all()
    db.session.commit()
    return set(taken)


def _mark(notifications, now, result, sent):
    ids = [n.id for n in notifications]
    values = {"email_result": result[:300], "emailed_at": now if sent else None}
    db.session.execute(
        sa.update(Notification).where(Notification.id.in_(ids)).values(**values),
        execution_options={"synchronize_session": False},
    )


def _mark_carried(user_id, digests, now):
    """The flag notifications a sent digest carried (up to its making) are e-mailed."""
    if not digests:
        return
    db.session.execute(
        sa.update(Notification)
        .where(Notification.user_id == user_id, Notification.event.in_(FLAG_EVENTS),
               Notification.emailed_at.is_(None),
               Notification.created_at <= max(d.created_at for d in digests))
        .values(emailed_at=now, email_result="sent")
        .execution_options(synchronize_session=False)
    )


def _connect():
    config = current_app.config
    smtp = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"],
                        timeout=config["MAIL_TIMEOUT_SECONDS"])
    try:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
    except Exception:
        smtp.close()
        raise
    return smtp


def deliver(today: date, now: datetime) -> dict:
    """E-mail each user their pending notifications of ``today``. Commits after each mail
    (so an accepted mail is never sent again); never raises for an SMTP failure."""
    if not configured():
        return {"mails sent": 0, "mails failed": 0, "mail": "not configured"}
    grouped = pending(today)
    if not grouped:
        return {"mails sent": 0, "mails failed": 0}
    sent = skipped = 0
    contents = digest_contents([d for items in grouped.values() for d in _digests(items)])
    try:
        smtp = _connect()
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("SMTP server %s:%s unreachable (%s); %d mails will be retried on the next run",
                    current_app.config["MAIL_SERVER"], current_app.config["MAIL_PORT"], exc,
                    len(grouped))
        for user, items in grouped.items():
            _mark([n for n, _, _ in items], now, f"failed: {exc}", sent=False)
        db.session.commit()
        return {"mails sent": 0, "mails failed": len(grouped)}
    try:
        for user, items in grouped.items():
            ids = [n.id for n, _, _ in items]
            taken = _claim([n for n, _, _ in items], now)
            items = [item for item, n_id in zip(items, ids) if n_id in taken]
            if not items:
                skipped += 1  # another run has sent (or is sending) them
                continue
            notifications = [n for n, _, _ in items]
            try:
                smtp.send_message(build_message(user, items, today, contents.get(user.id)))
            except (OSError, smtplib.SMTPException) as exc:
                log.warning("mail to %s refused (%s); it will be retried on the next run",
                            user.email, exc)
                _mark(notifications, now, f"failed: {exc}", sent=False)
                db.session.commit()
                if isinstance(exc, (smtplib.SMTPServerDisconnected, OSError)):
                    smtp = _reconnect(smtp)
                    if smtp is None:
                        break
                continue
            _mark(notifications, now, "sent", sent=True)
            _mark_carried(user.id, _digests(items), now)
            db.session.commit()
            sent += 1
    finally:
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()
    return {"mails sent": sent, "mails failed": len(grouped) - sent - skipped}


def _reconnect(smtp):
    try:
        smtp.close()
        return _connect()
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("SMTP server lost (%s); the remaining mails will be retried on the next run",
                    exc)
        return None


def run(today: date, now: datetime) -> dict:
    """The scheduled job: retry the mails of the day still pending."""
    return deliver(today, now)
