"""record_milestone_update: validation a user would expect, history, audit, versions."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from models import AuditLog, MilestoneUpdate
from tests import factories
from tracker import clock
from tracker.extensions import db
from tracker.operations.errors import ConflictError, ValidationError
from tracker.operations.milestones import changes_since, history, record_milestone_update


@pytest.fixture
def m(app):
    today = clock.today()
    return factories.milestone(today=today, status="in_progress", percent_complete=10,
                               baseline_due=today + timedelta(days=30),
                               due_date=today + timedelta(days=30))


@pytest.fixture
def user(app):
    return factories.user("nic")


def update(m, user, **kw):
    kw.setdefault("expected_version", m.version)
    kw.setdefault("status", m.status)
    kw.setdefault("percent_complete", m.percent_complete)
    kw.setdefault("today", clock.today())
    return record_milestone_update(m, user, **kw)


@pytest.mark.parametrize("kw, field, message", [
    ({"percent_complete": 101}, "percent_complete", "0 to 100"),
    ({"percent_complete": -1}, "percent_complete", "0 to 100"),
    ({"status": "finished"}, "status", "Choose a status"),
    ({"status": "completed", "percent_complete": 90}, "percent_complete", "100 percent"),
    ({"status": "completed", "percent_complete": 100, "completed_on_days": 1}, "completed_on",
     "future"),
    ({"due_days": 45, "note": "later"}, "reason", "reason"),
    ({"due_days": 45, "reason": "funds"}, "note", "Explain"),
    ({"due_days": -400, "reason": "funds", "note": "x"}, "due_date", "before the start date"),
    ({}, "_", "Nothing to record"),
])
def test_refused_with_a_message_beside_the_field(m, user, kw, field, message):
    today = clock.today()
    if "completed_on_days" in kw:
        kw["completed_on"] = today + timedelta(days=kw.pop("completed_on_days"))
    if "due_days" in kw:
        kw["due_date"] = today + timedelta(days=kw.pop("due_days"))
    with pytest.raises(ValidationError) as caught:
        update(m, user, **kw)
    assert any(message in text for text in caught.value.errors[field]), caught.value.errors
    db.session.rollback()
    assert db.session.execute(sa.select(sa.func.count(MilestoneUpdate.id))).scalar() == 0


def test_completion_records_the_date_and_history(m, user):
    today = clock.today()
    u = update(m, user, status="completed", percent_complete=100, note="Live")
    db.session.commit()
    assert (m.status, m.percent_complete, m.completed_on, m.version) == ("completed", 100, today, 2)
    assert (u.status_from, u.status_to, u.percent_from, u.percent_to) == (
        "in_progress", "completed", 10, 100)
    assert u.milestone_version == 2 and u.user_id == user.id
    entry = db.session.execute(sa.select(AuditLog).filter_by(entity="milestone")).scalar_one()
    assert entry.changes["status"] == ["in_progress", "completed"]
    assert entry.changes["completed_on"] == [None, today.isoformat()]
    # Reopening clears the completion date.
    update(m, user, status="in_progress", percent_complete=90, note="Bug found")
    assert m.completed_on is None


def test_due_revision_keeps_every_date(m, user):
    today = clock.today()
    first, second = today + timedelta(days=40), today + timedelta(days=55)
    update(m, user, due_date=first, reason="funds", note="Budget in the next quarter")
    update(m, user, due_date=second, reason="vendor", note="Vendor changed")
    db.session.commit()
    rows = history(m.id)
    assert [(u.due_from, u.due_to, u.reason) for u in rows] == [
        (first, second, "vendor"), (today + timedelta(days=30), first, "funds")]
    assert m.baseline_due == today + timedelta(days=30)
    assert [u.milestone_version for u in changes_since(m.id, 2)] == [3]


def test_a_stale_version_is_a_conflict(m, user):
    update(m, user, percent_complete=20, note="a")
    with pytest.raises(ConflictError) as caught:
        update(m, user, expected_version=1, percent_complete=30)
    assert (caught.value.expected_version, caught.value.current_version) == (1, 2)


def test_a_note_alone_counts_as_an_update(m, user):
    before = m.updated_at
    update(m, user, note="Still on track")
    assert m.updated_at >= before and m.version == 2
