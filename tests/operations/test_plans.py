"""The plan lifecycle: what may happen in which state, versions, baselines, revision."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from models import Milestone, PlanVersion
from tests import factories
from tracker import clock
from tracker.extensions import db
from tracker.operations import milestones as m_ops
from tracker.operations import plans as ops
from tracker.operations.errors import ConflictError, ValidationError


@pytest.fixture
def w(app):
    class W:
        today = clock.today()
        dept = factories.department("health")
        nic = factories.user("nic")
        secretary = factories.user("secretary")

        def add(self, plan, code, days=30):
            return ops.add_milestone(plan, self.nic, code=code, title=code, category="other",
                                     start_date=self.today, due_date=self.today + timedelta(days=days))
    return W()


def test_lifecycle_and_versions(w):
    plan = ops.create_plan(w.dept, w.nic)
    with pytest.raises(ValidationError, match="at least one milestone"):
        ops.submit_plan(plan, w.nic)
    a = w.add(plan, "H-01")
    ops.submit_plan(plan, w.nic)
    with pytest.raises(ValidationError):
        w.add(plan, "H-02")  # not while submitted
    with pytest.raises(ValidationError) as caught:
        ops.return_plan(plan, w.secretary, comment="  ")
    assert "comment" in caught.value.errors
    ops.return_plan(plan, w.secretary, comment="Add more")
    w.add(plan, "H-02", days=60)
    ops.submit_plan(plan, w.nic)
    ops.approve_plan(plan, w.secretary)
    db.session.commit()
    assert plan.status == "approved" and plan.current_version == 2
    assert a.baseline_due == a.due_date
    versions = db.session.execute(sa.select(PlanVersion).order_by(PlanVersion.number)).scalars().all()
    assert [len(v.snapshot) for v in versions] == [1, 2]
    assert [v.outcome for v in versions] == ["returned", "approved"]


def test_revising_an_approved_plan_keeps_baselines(w):
    plan = ops.create_plan(w.dept, w.nic)
    a = w.add(plan, "H-01")
    ops.submit_plan(plan, w.nic)
    ops.approve_plan(plan, w.secretary)
    baseline = a.baseline_due
    m_ops.record_milestone_update(a, w.nic, expected_version=a.version, status="in_progress",
                                  percent_complete=10, due_date=baseline + timedelta(days=10),
                                  reason="scope", note="More forms", today=w.today)
    with pytest.raises(ValidationError):
        ops.submit_plan(plan, w.nic)  # approved: revise first
    ops.revise_plan(plan, w.nic)
    assert plan.status == "draft" and plan.current_version == 1
    # A baselined milestone keeps its due date under plan editing, and is not removable.
    with pytest.raises(ValidationError) as caught:
        ops.edit_milestone(a, w.nic, expected_version=a.version, code="H-01", title="H-01",
                           category="other", start_date=a.start_date,
                           due_date=a.due_date + timedelta(days=5))
    assert "milestone's page" in caught.value.errors["due_date"][0]
    with pytest.raises(ValidationError):
        ops.remove_milestone(a, w.nic)
    b = w.add(plan, "H-02", days=90)
    ops.submit_plan(plan, w.nic)
    ops.approve_plan(plan, w.secretary)
    assert plan.current_version == 2
    assert a.baseline_due == baseline and a.due_date == baseline + timedelta(days=10)
    assert b.baseline_due == b.due_date


def test_reorder_and_remove(w):
    plan = ops.create_plan(w.dept, w.nic)
    a, b, c = (w.add(plan, code) for code in ("A", "B", "C"))
    ops.move_milestone(c, w.nic, offset=-1)
    order = lambda: db.session.execute(  # noqa: E731
        sa.select(Milestone.code).where(Milestone.plan_id == plan.id)
        .order_by(Milestone.position)).scalars().all()
    assert order() == ["A", "C", "B"]
    ops.move_milestone(a, w.nic, offset=-1)  # already first
    assert order() == ["A", "C", "B"]
    ops.remove_milestone(c, w.nic)
    assert order() == ["A", "B"]


def test_milestone_validation(w):
    plan = ops.create_plan(w.dept, w.nic)
    w.add(plan, "H-01")
    with pytest.raises(ValidationError) as caught:
        ops.add_milestone(plan, w.nic, code="h-01", title="", category="nope",
                          start_date=w.today, due_date=w.today - timedelta(days=1))
    errors = caught.value.errors
    assert set(errors) == {"code", "title", "category", "due_date"}
    other = factories.service(department=factories.department("pwd"))
    with pytest.raises(ValidationError) as caught:
        ops.add_milestone(plan, w.nic, code="H-02", title="x", category="other",
                          due_date=w.today, service_id=other.id)
    assert "service_id" in caught.value.errors


def test_review_from_a_stale_page_is_a_conflict(w):
    plan = ops.create_plan(w.dept, w.nic)
    w.add(plan, "H-01")
    ops.submit_plan(plan, w.nic)
    db.session.commit()
    seen = plan.lock_version
    ops.return_plan(plan, w.secretary, comment="again")
    ops.submit_plan(plan, w.nic)
    with pytest.raises(ConflictError):
        ops.approve_plan(plan, w.secretary, expected_version=seen)
