"""The whole workflow of issue 3, through the pages, as its users would go through it."""
from datetime import timedelta

import sqlalchemy as sa

from models import ActionPlan, AuditLog, Bottleneck, Milestone, MilestoneUpdate, PlanVersion
from tests import factories
from tracker import clock
from tracker.extensions import db


def d(day):
    return day.isoformat()


def audit_actions(entity=None):
    """The workflow's audit trail (refused requests are logged too, as ``access_refused``;
    tests/test_security_log.py covers those)."""
    q = (sa.select(AuditLog.action, AuditLog.entity, AuditLog.user_id)
         .where(AuditLog.action != "access_refused").order_by(AuditLog.id))
    if entity:
        q = q.where(AuditLog.entity == entity)
    return db.session.execute(q).all()


def test_plan_to_resolved_bottleneck(app, client, auth):
    today = clock.today()
    dept = factories.department("health", name="Health Department")
    nic = factories.user("nic", name="Asha NIC")
    secretary = factories.user("secretary", name="Tsering Secretary")
    nodal = factories.user("nodal", department=dept, name="Nodal Health")

    # NIC drafts a plan with two milestones.
    auth.sign_in(nic)
    assert client.post("/departments/health/plan/create", data={"title": "Health plan"}).status_code == 303
    for code, title, due in (("H-01", "Online birth certificates", today + timedelta(days=60)),
                             ("H-02", "Hospital website update", today + timedelta(days=90))):
        r = client.post("/departments/health/plan/milestones/new", data={
            "code": code, "title": title, "category": "service_integration",
            "start_date": d(today - timedelta(days=10)), "due_date": d(due), "service_id": "None"})
        assert r.status_code == 303, r.get_data(as_text=True)
    plan = db.session.execute(sa.select(ActionPlan)).scalar_one()
    assert client.post("/departments/health/plan/submit",
                       data={"lock_version": plan.lock_version}).status_code == 303
    page = client.get("/departments/health/plan").get_data(as_text=True)
    assert "Submitted" in page and "Version 1" in page
    auth.sign_out()

    # The Secretary returns it with a comment.
    auth.sign_in(secretary)
    r = client.post("/departments/health/plan/return", data={"comment": ""})
    assert r.status_code == 422 and "Say what must change" in r.get_data(as_text=True)
    r = client.post("/departments/health/plan/return",
                    data={"comment": "Add the owner of each milestone."})
    assert r.status_code == 303
    auth.sign_out()

    # NIC edits and resubmits.
    auth.sign_in(nic)
    page = client.get("/departments/health/plan").get_data(as_text=True)
    assert "Returned" in page and "Add the owner of each milestone." in page
    h1 = db.session.execute(sa.select(Milestone).filter_by(code="H-01")).scalar_one()
    r = client.post(f"/departments/health/plan/milestones/{h1.id}/edit", data={
        "version": h1.version, "code": "H-01", "title": "Online birth certificates",
        "category": "service_integration", "owner": "Director Health",
        "start_date": d(h1.start_date), "due_date": d(h1.due_date), "service_id": "None"})
    assert r.status_code == 303, r.get_data(as_text=True)
    assert client.post("/departments/health/plan/submit").status_code == 303
    auth.sign_out()

    # The Secretary approves: baselines frozen.
    auth.sign_in(secretary)
    r = client.post("/departments/health/plan/approve", data={"comment": "Approved."})
    assert r.status_code == 303
    db.session.expire_all()
    plan = db.session.execute(sa.select(ActionPlan)).scalar_one()
    assert plan.status == "approved" and plan.current_version == 2
    versions = db.session.execute(sa.select(PlanVersion).order_by(PlanVersion.number)).scalars().all()
    assert [(v.number, v.outcome) for v in versions] == [(1, "returned"), (2, "approved")]
    assert versions[0].review_comment == "Add the owner of each milestone."
    assert versions[1].snapshot[0]["owner"] == "Director Health"
    milestones = db.session.execute(sa.select(Milestone).order_by(Milestone.code)).scalars().all()
    assert all(m.baseline_due == m.due_date for m in milestones)
    version_page = client.get("/departments/health/plan/versions/1").get_data(as_text=True)
    assert "Add the owner of each milestone." in version_page and "H-02" in version_page
    auth.sign_out()

    # The nodal officer records progress, then a due-date revision with a reason.
    auth.sign_in(nodal)
    h1 = db.session.execute(sa.select(Milestone).filter_by(code="H-01")).scalar_one()
    baseline = h1.baseline_due
    r = client.post(f"/milestones/{h1.id}/update", data={
        "version": h1.version, "status": "in_progress", "percent_complete": "40",
        "note": "Forms designed."})
    assert r.status_code == 303, r.get_data(as_text=True)
    db.session.expire_all()
    new_due = baseline + timedelta(days=21)
    r = client.post(f"/milestones/{h1.id}/update", data={
        "version": h1.version, "status": "in_progress", "percent_complete": "40",
        "due_date": d(new_due), "reason": "vendor", "note": "Vendor delayed the payment gateway."})
    assert r.status_code == 303, r.get_data(as_text=True)
    page = client.get(f"/milestones/{h1.id}").get_data(as_text=True)
    assert '<dd class="revisions">1</dd>' in page
    assert '<dd class="slipped">21</dd>' in page
    # History newest first: the revision, then the progress.
    assert page.index("Vendor delayed the payment gateway.") < page.index("Forms designed.")
    assert "Vendor" in page

    # …and raises a bottleneck on the milestone.
    r = client.post(f"/milestones/{h1.id}/bottlenecks/new", data={
        "title": "Payment gateway agreement pending", "category": "vendor",
        "severity": "high", "action_by": "Finance Department", "milestone_id": str(h1.id)})
    assert r.status_code == 303, r.get_data(as_text=True)
    bottleneck = db.session.execute(sa.select(Bottleneck)).scalar_one()
    assert bottleneck.milestone_id == h1.id and bottleneck.raised_on == today
    # The nodal officer may not escalate.
    assert client.post(f"/bottlenecks/{bottleneck.id}/escalate").status_code == 403
    auth.sign_out()

    # The Secretary escalates and resolves it.
    auth.sign_in(secretary)
    assert client.post(f"/bottlenecks/{bottleneck.id}/escalate",
                       data={"note": "For the next review."}).status_code == 303
    r = client.post(f"/bottlenecks/{bottleneck.id}/resolve", data={"note": ""})
    assert r.status_code == 422 and "Say how the bottleneck was resolved." in r.get_data(as_text=True)
    assert client.post(f"/bottlenecks/{bottleneck.id}/resolve",
                       data={"note": "Agreement signed in the review."}).status_code == 303
    db.session.expire_all()
    bottleneck = db.session.get(Bottleneck, bottleneck.id)
    assert bottleneck.status == "resolved" and bottleneck.resolved_on == today
    assert bottleneck.escalated_by_id == secretary.id and bottleneck.resolved_by_id == secretary.id
    page = client.get(f"/bottlenecks/{bottleneck.id}").get_data(as_text=True)
    assert "Agreement signed in the review." in page and "Resolved" in page

    # Every step is in the history and the audit log, with who did it.
    updates = db.session.execute(
        sa.select(MilestoneUpdate).where(MilestoneUpdate.milestone_id == h1.id)
        .order_by(MilestoneUpdate.id)).scalars().all()
    assert [(u.percent_to, u.due_to, u.reason, u.user_id) for u in updates] == [
        (40, None, None, nodal.id), (40, new_due, "vendor", nodal.id)]
    steps = [(a, e, u) for a, e, u in audit_actions() if not a.startswith("sign_")]
    assert steps == [
        ("create", "action_plan", nic.id),
        ("create", "milestone", nic.id),
        ("create", "milestone", nic.id),
        ("submit", "action_plan", nic.id),
        ("return", "action_plan", secretary.id),
        ("edit", "milestone", nic.id),
        ("submit", "action_plan", nic.id),
        ("approve", "action_plan", secretary.id),
        ("update", "milestone", nodal.id),
        ("update", "milestone", nodal.id),
        ("raise", "bottleneck", nodal.id),
        ("escalate", "bottleneck", secretary.id),
        ("resolve", "bottleneck", secretary.id),
    ]
    revision = db.session.execute(
        sa.select(AuditLog).where(AuditLog.action == "update").order_by(AuditLog.id.desc())
    ).scalars().first()
    assert revision.changes["due_date"] == [baseline.isoformat(), new_due.isoformat()]
    assert revision.changes["reason"] == [None, "vendor"]
    assert revision.remote_addr == "127.0.0.1"
    audit_page = client.get("/audit?entity=bottleneck").get_data(as_text=True)
    assert "Resolved" in audit_page and "Agreement signed in the review." in audit_page
    dept_page = client.get("/departments/health").get_data(as_text=True)
    assert f'href="/milestones/{h1.id}"' in dept_page and "Approved" in dept_page
