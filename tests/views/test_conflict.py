"""No lost updates: two officers save the same milestone from the same version."""
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from models import Milestone, MilestoneUpdate
from tests import factories
from tracker import clock
from tracker.extensions import db
from tracker.operations.errors import ConflictError
from tracker.operations.milestones import record_milestone_update


@pytest.fixture
def setup(app):
    today = clock.today()
    dept = factories.department("health")
    plan = factories.plan(department=dept, status="approved")
    m = factories.milestone(plan=plan, today=today, code="H-01", status="in_progress",
                            percent_complete=20, baseline_due=today + timedelta(days=60),
                            due_date=today + timedelta(days=60))
    return today, m, factories.user("nodal", department=dept, name="Nodal Officer"), \
        factories.user("nic", name="NIC Officer")


def test_second_save_from_the_same_version_gets_the_conflict_page(setup, app):
    today, m, nodal, nic = setup
    first, second = app.test_client(), app.test_client()
    for client, user in ((first, nodal), (second, nic)):
        client.post("/sign-in", data={"email": user.email, "password": factories.PASSWORD})
        page = client.get(f"/milestones/{m.id}").get_data(as_text=True)
        assert 'name="version" type="hidden" value="1"' in page

    r1 = first.post(f"/milestones/{m.id}/update", data={
        "version": "1", "status": "in_progress", "percent_complete": "45",
        "note": "Forms are live in test."})
    assert r1.status_code == 303
    r2 = second.post(f"/milestones/{m.id}/update", data={
        "version": "1", "status": "blocked", "percent_complete": "30",
        "note": "Waiting for the server from NIC."})
    assert r2.status_code == 409
    html = r2.get_data(as_text=True)
    # What the other officer changed …
    assert "Someone else saved this milestone first" in html
    assert "Forms are live in test." in html and "20 → 45" in html and "Nodal Officer" in html
    # … and the second officer's input, kept in a form that now carries the current version.
    assert "Waiting for the server from NIC." in html
    assert '<option selected value="blocked">' in html
    assert 'value="30"' in html
    assert 'name="version" type="hidden" value="2"' in html

    db.session.expire_all()
    saved = db.session.get(Milestone, m.id)
    assert (saved.status, saved.percent_complete, saved.version) == ("in_progress", 45, 2)
    notes = db.session.execute(sa.select(MilestoneUpdate.note)).scalars().all()
    assert notes == ["Forms are live in test."]

    # Re-applying from the conflict page (now version 2) saves it.
    r3 = second.post(f"/milestones/{m.id}/update", data={
        "version": "2", "status": "blocked", "percent_complete": "45",
        "note": "Waiting for the server from NIC."})
    assert r3.status_code == 303
    db.session.expire_all()
    assert db.session.get(Milestone, m.id).status == "blocked"


@pytest.mark.commits  # a second connection writes the row
def test_a_stale_row_at_flush_is_a_conflict_too(setup, app):
    """Both saves passed the version check (read at the same moment); the database refuses
    the second UPDATE … WHERE version = 1, and the operation reports a conflict."""
    today, m, nodal, nic = setup
    m_id = m.id
    db.session.commit()  # end the transaction: the other connection may write now
    with db.engine.begin() as conn:
        conn.execute(sa.update(Milestone.__table__).where(Milestone.__table__.c.id == m_id)
                     .values(version=2, percent_complete=50))
    # This session still believes it read version 1.
    set_committed_value(m, "version", 1)
    with pytest.raises(ConflictError) as caught:
        record_milestone_update(m, nic, expected_version=1, status="in_progress",
                                percent_complete=60, note="late", today=today)
    assert caught.value.expected_version == 1
    db.session.rollback()
    fresh = db.session.get(Milestone, m_id)
    assert (fresh.version, fresh.percent_complete) == (2, 50)
    assert db.session.execute(sa.select(sa.func.count(MilestoneUpdate.id))).scalar() == 0


def test_plan_edit_conflict_keeps_the_input(app, client, auth):
    today = clock.today()
    dept = factories.department("health")
    plan = factories.plan(department=dept)
    m = factories.milestone(plan=plan, today=today, code="H-01", title="Old title",
                            status="not_started", percent_complete=0)
    auth.sign_in(factories.user("nic"))
    form = {"code": "H-01", "category": "other", "start_date": m.start_date.isoformat(),
            "due_date": m.due_date.isoformat(), "service_id": "None"}
    assert client.post(f"/departments/health/plan/milestones/{m.id}/edit",
                       data={**form, "version": "1", "title": "First title"}).status_code == 303
    r = client.post(f"/departments/health/plan/milestones/{m.id}/edit",
                    data={**form, "version": "1", "title": "Second title"})
    assert r.status_code == 409
    html = r.get_data(as_text=True)
    assert 'value="Second title"' in html and "First title" in html
    db.session.expire_all()
    assert db.session.get(Milestone, m.id).title == "First title"
