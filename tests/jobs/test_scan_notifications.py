"""On the demo data: `jobs run scan` puts every flag in the inbox of each reader it reaches,
naming its subject; a second scan adds nothing."""
import sqlalchemy as sa

from models import Flag, Notification, User
from tracker import clock, demo, rules
from tracker.extensions import db
from tracker.labels import LABELS
from tracker.operations.notifications import FLAG_EVENTS


def test_after_a_scan_on_the_demo_every_reader_has_their_flags_in_the_inbox(app, runner):
    demo.seed(clock.today(), "demo")
    db.session.commit()
    result = runner.invoke(args=["jobs", "run", "scan"])
    assert result.exit_code == 0, result.output
    users = db.session.execute(sa.select(User)).scalars().all()
    flags = db.session.execute(
        sa.select(Flag).where(Flag.cleared_at.is_(None),
                              Flag.kind.notin_(rules.WEEKLY_FLAG_KINDS))).scalars().all()
    assert len(flags) > 100
    inbox = {}
    for user_id, flag_id, subject in db.session.execute(
            sa.select(Notification.user_id, Notification.flag_id, Notification.subject)
            .where(Notification.event.in_(FLAG_EVENTS))):
        assert (user_id, flag_id) not in inbox
        inbox[(user_id, flag_id)] = subject
    readers = set()
    for user in users:
        for flag in flags:
            reaches = rules.flag_reaches(user, flag)
            assert ((user.id, flag.id) in inbox) == reaches, (user.email, flag.kind)
            if reaches:
                readers.add(user.role)
                label = flag.details.get("label")
                assert inbox[(user.id, flag.id)] == (
                    f"{LABELS['flag_kind'][flag.kind]}: {label}" if label
                    else LABELS["flag_kind"][flag.kind])
    assert readers == {"nodal", "nic", "secretary"}
    # The subject is named: a milestone's code and title.
    pwd = db.session.execute(sa.select(User).filter_by(email="nodal.pwd@ladakh.example")).scalar_one()
    subjects = [s for (uid, _), s in inbox.items() if uid == pwd.id]
    assert any(s.startswith("Milestone overdue: PWD-") for s in subjects), subjects[:5]
    count = len(inbox)
    again = runner.invoke(args=["jobs", "run", "scan"])
    assert "0 inbox notifications" in again.output, again.output
    assert db.session.execute(sa.select(sa.func.count(Notification.id))).scalar_one() == count
