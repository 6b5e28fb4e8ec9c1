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


def inbox(user):
    return db.session.execute(
        sa.select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
    ).scalars().all()


def test_the_scan_puts_each_flag_in_its_readers_inbox(roadmap):
    """No digest yet: the scan that raised the flags has put them in the inbox."""
    (health,) = inbox(roadmap["nodal_health"])
    code = roadmap["health_late"].code
    assert health.subject == f"Milestone overdue: {code} · Integrate birth certificates"
    assert health.event == "flag_raised" and health.read_at is None
    (pwd,) = inbox(roadmap["nodal_pwd"])
    assert "Online building permits" in pwd.subject
    # Escalated to the Secretary (16 days late): NIC and the Secretary have it, as escalated.
    for reader in ("secretary", "nic"):
        (notice,) = inbox(roadmap[reader])
        assert "Online building permits" in notice.subject
        assert notice.event == "flag_escalated" and notice.body == "Escalated to you"
    assert inbox(roadmap["viewer"]) == []
    # A second scan with nothing new adds nothing.
    assert scan.scan(TODAY, NOW + timedelta(minutes=15), Thresholds()).notified == 0
    db.session.commit()
    assert db.session.execute(sa.select(sa.func.count(Notification.id))).scalar_one() == 4


def test_an_escalation_reaches_its_new_reader_with_the_scan(roadmap):
    # Health's milestone is on day 7 of being overdue a week later: NIC's turn.
    result = scan.scan(TODAY + timedelta(days=7), NOW + timedelta(days=7), Thresholds())
    db.session.commit()
    assert result.escalated == 1 and result.notified == 1
    assert [n.subject for n in inbox(roadmap["nic"])][-1].endswith("Integrate birth certificates")
    assert len(inbox(roadmap["nodal_health"])) == 1  # the nodal officer had it already
    assert len(inbox(roadmap["secretary"])) == 1


def test_a_cleared_flag_leaves_the_unread_count(roadmap):
    roadmap["health_late"].status = "completed"
    roadmap["health_late"].completed_on = TODAY
    roadmap["health_late"].percent_complete = 100
    db.session.commit()
    scan.scan(TODAY, NOW + timedelta(hours=1), Thresholds())
    db.session.commit()
    (notice,) = inbox(roadmap["nodal_health"])
    assert notice.read_at == NOW + timedelta(hours=1)


def test_digest_leads_each_reader_with_their_new_items(roadmap, smtp):
    summary = digest.run(TODAY, NOW)
    assert summary == {"digests": 4, "mails sent": 4, "mails failed": 0}
    (health_mail,) = smtp.to("nodal.health@test.example")
    text, html = body(health_mail, "plain"), body(health_mail, "html")
    assert "Integrate birth certificates" in text and "Integrate birth certificates" in html
    assert "Online building permits" not in text + html
    # The link goes where the milestone is updated (views.flags.flag_subject).
    milestone_url = (f"https://tracker.test.example/milestones/{roadmap['health_late'].id}"
                     "#update-title")
    assert milestone_url in text and f'href="{milestone_url}"' in html
    assert "raised on 20-11-2026" in text and "2026-11-20" not in text + html
    assert health_mail["Subject"] == "Roadmap Tracker: 1 new item for 20-11-2026"
    (pwd_mail,) = smtp.to("nodal.pwd@test.example")
    assert "Online building permits" in body(pwd_mail, "plain")
    assert "Integrate birth certificates" not in body(pwd_mail, "plain")
    # The Secretary and NIC get only what has been escalated to them, then the counts
    # linked to the filtered flag list.
    (secretary_mail,) = smtp.to("secretary@test.example")
    text = body(secretary_mail, "plain")
    assert text.index("New or escalated to you") < text.index("Online building permits")
    assert "Escalated to you" in text
    assert "Integrate birth certificates" not in text
    assert "- Milestone overdue (escalated to: Secretary): 1" in text
    assert ("https://tracker.test.example/flags/?kind=milestone_overdue&status=open"
            "&escalation=secretary") in text
    assert len(smtp.to("nic@test.example")) == 1
    assert smtp.to("viewer@test.example") == []
    # What the mail carried is marked e-mailed in the inbox.
    assert all(n.emailed_at == NOW for n in inbox(roadmap["nodal_health"]))


def test_the_next_day_with_nothing_new_sends_nothing(roadmap, smtp):
    digest.run(TODAY, NOW)
    assert len(smtp.messages) == 4
    tomorrow, later = TODAY + timedelta(days=1), NOW + timedelta(days=1)
    scan.scan(tomorrow, later - timedelta(hours=1), Thresholds())
    db.session.commit()
    assert digest.run(tomorrow, later) == {"digests": 0, "mails sent": 0, "mails failed": 0}
    assert len(smtp.messages) == 4


def test_one_new_escalation_sends_one_mail_that_leads_with_it(roadmap, smtp):
    digest.run(TODAY, NOW)
    assert len(smtp.messages) == 4
    # A week later health's milestone reaches NIC; nothing else is new.
    day, later = TODAY + timedelta(days=7), NOW + timedelta(days=7)
    scan.scan(day, later - timedelta(hours=1), Thresholds())
    db.session.commit()
    assert digest.run(day, later) == {"digests": 1, "mails sent": 1, "mails failed": 0}
    assert len(smtp.messages) == 5
    nic_mail = smtp.to("nic@test.example")[-1]
    text = body(nic_mail, "plain")
    assert "Your Roadmap Tracker digest for 27-11-2026." in text
    lead = text.split("New or escalated to you since your last digest:")[1]
    assert lead.lstrip().startswith(f"- Milestone overdue: {roadmap['health_late'].code} · "
                                    "Integrate birth certificates (Health)")
    assert "Online building permits" not in lead.split("open items addressed to you")[0]
    assert "All 2 open items addressed to you, by kind:" in text
    assert nic_mail["Subject"] == "Roadmap Tracker: 1 new item for 27-11-2026"


def test_a_reader_on_the_full_list_gets_every_days_list(roadmap, smtp, app):
    app.config["DIGEST_FULL_LIST"] = ["secretary@test.example"]
    digest.run(TODAY, NOW)
    tomorrow, later = TODAY + timedelta(days=1), NOW + timedelta(days=1)
    assert digest.run(tomorrow, later)["mails sent"] == 1
    mail_ = smtp.to("secretary@test.example")[-1]
    text = body(mail_, "plain")
    assert "Nothing new since your last digest." in text
    assert "Your Roadmap Tracker digest for 21-11-2026." in text
    assert "The full list of your open items:" in text and "Online building permits" in text
    assert mail_["Subject"] == "Roadmap Tracker: 1 open item for 21-11-2026"
    assert digest.run(tomorrow, later + timedelta(minutes=5))["mails sent"] == 0


def test_the_same_run_again_sends_nothing_new(roadmap, smtp):
    digest.run(TODAY, NOW)
    count = len(smtp.messages)
    again = digest.run(TODAY, NOW + timedelta(minutes=5))
    assert again == {"digests": 0, "mails sent": 0, "mails failed": 0}
    assert mail.run(TODAY, NOW + timedelta(minutes=15))["mails sent"] == 0
    assert len(smtp.messages) == count
    sent = db.session.execute(sa.select(Notification)).scalars().all()
    assert sent and all(n.emailed_at == NOW and n.email_result == "sent" for n in sent)


def test_without_mail_server_the_flags_stay_in_the_inbox(roadmap, app):
    assert app.config["MAIL_SERVER"] is None
    assert digest.run(TODAY, NOW) == {"digests": 0, "mail": "not configured"}
    (notice,) = inbox(roadmap["nodal_health"])
    assert notice.emailed_at is None and notice.link.startswith("/flags/")


def test_a_stopped_smtp_server_is_logged_and_retried_next_run(roadmap, smtp, caplog):
    smtp.stop()
    with caplog.at_level(logging.WARNING, logger="jobs.mail"):
        summary = digest.run(TODAY, NOW)
    assert summary["mails sent"] == 0 and summary["mails failed"] == 4
    assert "unreachable" in caplog.text and "retried" in caplog.text
    pending = db.session.execute(sa.select(Notification)).scalars().all()
    assert all(n.emailed_at is None for n in pending)
    assert all(n.email_result.startswith("failed") for n in pending if n.event == "digest")
    # The server is back: the next run sends what is pending, once.
    smtp.start()
    assert mail.run(TODAY, NOW + timedelta(minutes=15))["mails sent"] == 4
    assert len(smtp.to("nodal.health@test.example")) == 1
    assert mail.run(TODAY, NOW + timedelta(minutes=30))["mails sent"] == 0


def test_a_stopped_server_does_not_stop_the_scheduler(roadmap, smtp, app, caplog):
    from jobs.scheduler import Scheduler

    smtp.stop()
    scheduler = Scheduler(app, holder="only")
    try:
        with caplog.at_level(logging.WARNING):
            summary = scheduler.run("digest", now=NOW, today=TODAY)
        assert summary["mails failed"] == 4
        assert scheduler.run("scan", now=NOW + timedelta(minutes=1), today=TODAY) is not None
    finally:
        scheduler.shutdown()  # a scheduler left holding the lock would block every later one


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
    # The daily digest and the inbox leave the missing plan to the weekly reminder.
    assert digest.run(TODAY, NOW)["digests"] == 0
    assert db.session.execute(sa.select(sa.func.count(Notification.id))
                              .where(Notification.event != "plan_reminder")).scalar_one() == 0


def test_a_refused_recipient_is_logged_and_the_others_still_get_theirs(roadmap, smtp, caplog):
    smtp.refuse.add("nodal.health@test.example")
    with caplog.at_level(logging.WARNING, logger="jobs.mail"):
        summary = digest.run(TODAY, NOW)
    assert summary == {"digests": 4, "mails sent": 3, "mails failed": 1}
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
    assert health_mail["Subject"] == "रोडमैप ट्रैकर: 20-11-2026 के लिए 1 नया बिंदु"
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


@pytest.mark.commits
def test_a_scheduler_process_that_served_no_page_links_its_digest_right(tmp_path):
    """The views load on first use (``TrackerApp``): a process that has routed nothing (the
    scheduler, ``flask jobs run digest``) builds the digest's links all the same."""
    from tracker import create_app

    inbox_ = Inbox(free_port())
    inbox_.start()
    fresh = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'scheduler.db'}",
                        "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": inbox_.port,
                        "BASE_URL": "https://tracker.test.example"})
    try:
        with fresh.app_context():
            db.create_all()
            health = factories.department("health", name="Health")
            plan = factories.plan(department=health, status="approved")
            late = factories.milestone(plan=plan, title="Integrate birth certificates",
                                       today=TODAY, due_date=TODAY - timedelta(days=1),
                                       start_date=None)
            factories.user("nodal", department=health, email="nodal.health@test.example")
            scan.scan(TODAY, NOW, Thresholds())
            db.session.commit()
            assert fresh._views_pending  # nothing has routed or built a URL yet
            assert digest.run(TODAY, NOW)["mails sent"] == 1
            late_id = late.id
            db.session.remove()
            db.engine.dispose()
    finally:
        inbox_.stop()
    (mail_,) = inbox_.to("nodal.health@test.example")
    assert (f'href="https://tracker.test.example/milestones/{late_id}#update-title"'
            in body(mail_, "html"))
