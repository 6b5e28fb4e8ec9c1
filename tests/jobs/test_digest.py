"""The daily digest and the plan reminder, delivered to a real SMTP server on loopback."""
import email
import email.policy
import logging
import socket
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from jobs import digest, mail, plan_reminder, scan
from models import Notification
from tests import factories
from tracker.extensions import db
from tracker.settings import Thresholds

TODAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 2, 30)  # 08:00 in Kolkata


class Inbox:
    """An SMTP server on loopback keeping what it receives; it can be stopped and restarted."""

    def __init__(self, port):
        self.messages = []
        self.port = port
        self.controller = None
        self.refuse = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def start(self):
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content, policy=email.policy.default)))
        return "250 OK"

    def to(self, address):
        return [m for rcpts, m in self.messages if address in rcpts]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(app):
    inbox = Inbox(free_port())
    inbox.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=inbox.port,
                      BASE_URL="https://tracker.test.example")
    yield inbox
    inbox.stop()


@pytest.fixture
def roadmap(app):
    """Two departments with a nodal officer each; health's milestone is 1 day late (its
    nodal officer only), pwd's 16 days late (escalated to the Secretary)."""
    health = factories.department("health", name="Health")
    pwd = factories.department("pwd", name="Public Works")
    w = {}
    w["health_plan"] = factories.plan(department=health, status="approved")
    w["pwd_plan"] = factories.plan(department=pwd, status="approved")
    w["health_late"] = factories.milestone(plan=w["health_plan"], title="Integrate birth certificates",
                                           today=TODAY, due_date=TODAY - timedelta(days=1),
                                           start_date=None)
    w["pwd_late"] = factories.milestone(plan=w["pwd_plan"], title="Online building permits",
                                        today=TODAY, due_date=TODAY - timedelta(days=16),
                                        start_date=None)
    w["nodal_health"] = factories.user("nodal", department=health, email="nodal.health@test.example")
    w["nodal_pwd"] = factories.user("nodal", department=pwd, email="nodal.pwd@test.example")
    w["secretary"] = factories.user("secretary", email="secretary@test.example")
    w["nic"] = factories.user("nic", email="nic@test.example")
    w["viewer"] = factories.user("viewer", email="viewer@test.example")
    scan.scan(TODAY, NOW, Thresholds())
    db.session.commit()
    return w


def body(message, subtype):
    for part in message.walk():
        if part.get_content_type() == f"text/{subtype}":
            return part.get_content()
    raise AssertionError(f"no text/{subtype} part")


def test_digest_reaches_each_nodal_officer_with_only_their_items(roadmap, smtp):
    summary = digest.run(TODAY, NOW)
    assert summary["mails sent"] == 4 and summary["mails failed"] == 0
    (health_mail,) = smtp.to("nodal.health@test.example")
    text, html = body(health_mail, "plain"), body(health_mail, "html")
    assert "Integrate birth certificates" in text and "Integrate birth certificates" in html
    assert "Online building permits" not in text + html
    flag_id = db.session.execute(
        sa.select(Notification.flag_id).join(Notification.user)
        .where(Notification.user_id == roadmap["nodal_health"].id)).scalar_one()
    assert f"https://tracker.test.example/flags/{flag_id}" in text
    assert f'href="https://tracker.test.example/flags/{flag_id}"' in html
    (pwd_mail,) = smtp.to("nodal.pwd@test.example")
    assert "Online building permits" in body(pwd_mail, "plain")
    assert "Integrate birth certificates" not in body(pwd_mail, "plain")
    # The Secretary and NIC get only what has been escalated to them.
    (secretary_mail,) = smtp.to("secretary@test.example")
    assert "Online building permits" in body(secretary_mail, "plain")
    assert "Integrate birth certificates" not in body(secretary_mail, "plain")
    assert len(smtp.to("nic@test.example")) == 1
    assert smtp.to("viewer@test.example") == []
    assert health_mail["Subject"] == "Roadmap Tracker: 1 item for 20-11-2026"


def test_the_same_run_again_sends_nothing_new(roadmap, smtp):
    digest.run(TODAY, NOW)
    count = len(smtp.messages)
    again = digest.run(TODAY, NOW + timedelta(minutes=5))
    assert again == {"notifications": 0, "mails sent": 0, "mails failed": 0}
    assert mail.run(TODAY, NOW + timedelta(minutes=15))["mails sent"] == 0
    assert len(smtp.messages) == count
    sent = db.session.execute(sa.select(Notification)).scalars().all()
    assert sent and all(n.emailed_at == NOW and n.email_result == "sent" for n in sent)


def test_next_day_digest_supersedes_yesterdays_unread_notice(roadmap, app):
    digest.run(TODAY, NOW)
    digest.run(TODAY + timedelta(days=1), NOW + timedelta(days=1))
    rows = db.session.execute(
        sa.select(Notification.digest_on, Notification.read_at)
        .where(Notification.user_id == roadmap["nodal_health"].id)
        .order_by(Notification.digest_on)).all()
    assert [(d, r is None) for d, r in rows] == [(TODAY, False), (TODAY + timedelta(days=1), True)]


def test_without_mail_server_the_digest_stays_in_the_inbox(roadmap, app):
    assert app.config["MAIL_SERVER"] is None
    summary = digest.run(TODAY, NOW)
    assert summary["notifications"] == 4 and summary["mails sent"] == 0
    notice = db.session.execute(
        sa.select(Notification).where(Notification.user_id == roadmap["nodal_health"].id)
    ).scalar_one()
    assert notice.subject.startswith("Milestone overdue: ")
    assert "Integrate birth certificates" in notice.subject
    assert notice.emailed_at is None and notice.link.startswith("/flags/")


def test_a_stopped_smtp_server_is_logged_and_retried_next_run(roadmap, smtp, caplog):
    smtp.stop()
    with caplog.at_level(logging.WARNING, logger="jobs.mail"):
        summary = digest.run(TODAY, NOW)
    assert summary["mails sent"] == 0 and summary["mails failed"] == 4
    assert "unreachable" in caplog.text and "retried" in caplog.text
    pending = db.session.execute(sa.select(Notification)).scalars().all()
    assert all(n.emailed_at is None and n.email_result.startswith("failed") for n in pending)
    # The server is back: the next run sends what is pending, once.
    smtp.start()
    assert mail.run(TODAY, NOW + timedelta(minutes=15))["mails sent"] == 4
    assert len(smtp.to("nodal.health@test.example")) == 1
    assert mail.run(TODAY, NOW + timedelta(minutes=30))["mails sent"] == 0


def test_a_stopped_server_does_not_stop_the_scheduler(roadmap, smtp, app, caplog):
    from jobs.scheduler import Scheduler

    smtp.stop()
    scheduler = Scheduler(app, holder="only")
    with caplog.at_level(logging.WARNING):
        summary = scheduler.run("digest", now=NOW, today=TODAY)
    assert summary["mails failed"] == 4
    assert scheduler.run("scan", now=NOW + timedelta(minutes=1), today=TODAY) is not None


def test_weekly_reminder_to_departments_without_a_submitted_plan(app, smtp):
    idle = factories.department("idle", name="Idle Department")
    factories.user("nodal", department=idle, email="nodal.idle@test.example")
    busy = factories.department("busy")
    factories.plan(department=busy, status="submitted")
    factories.user("nodal", department=busy, email="nodal.busy@test.example")
    scan.scan(TODAY, NOW, Thresholds())
    db.session.commit()
    summary = plan_reminder.run(TODAY, NOW)
    assert summary == {"reminders": 1, "mails sent": 1, "mails failed": 0}
    (message,) = smtp.to("nodal.idle@test.example")
    assert "not yet submitted its action plan" in body(message, "plain")
    assert smtp.to("nodal.busy@test.example") == []
    assert plan_reminder.run(TODAY, NOW)["reminders"] == 0
    # The daily digest leaves the missing plan to the weekly reminder.
    assert digest.run(TODAY, NOW)["notifications"] == 0


def test_a_refused_recipient_is_logged_and_the_others_still_get_theirs(roadmap, smtp, caplog):
    smtp.refuse.add("nodal.health@test.example")
    with caplog.at_level(logging.WARNING, logger="jobs.mail"):
        summary = digest.run(TODAY, NOW)
    assert summary == {"notifications": 4, "mails sent": 3, "mails failed": 1}
    assert "nodal.health@test.example" in caplog.text
    assert smtp.to("nodal.pwd@test.example") and not smtp.to("nodal.health@test.example")
    smtp.refuse.clear()
    assert mail.run(TODAY, NOW + timedelta(minutes=15)) == {"mails sent": 1, "mails failed": 0}
    assert len(smtp.to("nodal.health@test.example")) == 1
    assert len(smtp.to("nodal.pwd@test.example")) == 1


def test_an_officer_who_chose_hindi_gets_the_digest_in_hindi(roadmap, smtp):
    roadmap["nodal_health"].locale = "hi"
    db.session.commit()
    digest.run(TODAY, NOW)
    (health_mail,) = smtp.to("nodal.health@test.example")
    text, html = body(health_mail, "plain"), body(health_mail, "html")
    assert health_mail["Subject"] == "रोडमैप ट्रैकर: 20-11-2026 के लिए 1 बिंदु"
    assert "पड़ाव समय सीमा पार" in text  # the flag's kind, worded again in Hindi
    assert "Integrate birth certificates" in text  # the data stays as entered
    assert "Milestone overdue" not in text + html and "Dear" not in text + html
    assert '<html lang="hi">' in html
    # Everyone else keeps English.
    (pwd_mail,) = smtp.to("nodal.pwd@test.example")
    assert "Milestone overdue" in body(pwd_mail, "plain")


def test_the_inbox_shows_a_digest_line_in_the_readers_language(roadmap, app):
    from tests.route_walk import sign_in_as

    digest.run(TODAY, NOW)
    client = app.test_client()
    sign_in_as(client, roadmap["nodal_health"])
    page = client.get("/notifications/").get_data(as_text=True)
    assert "Milestone overdue: " in page
    client.post("/language", data={"language": "hi", "next": "/notifications/"})
    page = client.get("/notifications/").get_data(as_text=True)
    assert "पड़ाव समय सीमा पार: " in page and "Milestone overdue" not in page


def test_two_runs_that_read_the_same_pending_mail_send_it_once(roadmap, smtp, monkeypatch):
    """The digest and the mail job (or a run by hand) may read the same pending mail
    before either has sent it: each mail is claimed before it is sent, so it goes once."""
    digest.create_digest(TODAY, NOW)
    db.session.commit()
    read_by_the_other_run = mail.pending(TODAY)
    assert mail.deliver(TODAY, NOW)["mails sent"] == 4
    monkeypatch.setattr(mail, "pending", lambda today: read_by_the_other_run)
    assert mail.deliver(TODAY, NOW) == {"mails sent": 0, "mails failed": 0}
    assert len(smtp.to("nodal.health@test.example")) == 1
    assert len(smtp.messages) == 4
