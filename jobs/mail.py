"""E-mail delivery of the in-app notifications over SMTP (``smtplib``).

Each run sends every user one mail with the notifications of the day not yet e-mailed
(plain-text and HTML parts, each item linked with ``BASE_URL``). A notification is marked
e-mailed as soon as its mail is accepted, and committed, so nothing is mailed twice for the
same flag and day. A refused or unreachable server is logged and recorded on the
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
from flask import current_app, render_template
from flask_babel import force_locale, gettext, ngettext

from models import Department, Flag, Notification, User
from tracker import rules
from tracker.extensions import db
from tracker.operations.notifications import in_words

log = logging.getLogger(__name__)

# The notifications that go out by e-mail (the digest and the weekly plan reminder).
MAILED_EVENTS = ("digest", "plan_reminder")


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


def build_message(user, items, today: date) -> EmailMessage:
    """One mail to ``user`` listing ``items``, in plain text and HTML, in the user's language."""
    config = current_app.config
    base_url = config["BASE_URL"].rstrip("/")
    with force_locale(user.locale or config["BABEL_DEFAULT_LOCALE"]):
        entries = [
            {
                "subject": in_words(n, flag)[0],
                "url": base_url + (n.link or "/notifications/"),
                "severity": gettext(rules.FLAG_SEVERITY_LABELS.get(flag.severity, "")) if flag else "",
                "escalation": gettext(rules.ESCALATION_LABELS.get(flag.escalation, "")) if flag else "",
                "department": department_name or "",
                "event": n.event,
            }
            for n, flag, department_name in items
        ]
        context = {"user": user, "entries": entries, "today": today,
                   "inbox_url": base_url + "/notifications/"}
        message = EmailMessage()
        message["Subject"] = ngettext("Roadmap Tracker: %(num)d item for %(day)s",
                                      "Roadmap Tracker: %(num)d items for %(day)s",
                                      len(entries), day=today.strftime("%d-%m-%Y"))
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
                smtp.send_message(build_message(user, items, today))
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
