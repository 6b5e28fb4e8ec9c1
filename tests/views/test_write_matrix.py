"""Every write route of the workflows × every role, own and other department: the expected
status code, and not one row changed when the request is refused."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from models import Bottleneck, Milestone
from tests import factories
from tracker import clock
from tracker.extensions import db
from tracker.operations import plans as plan_ops

ROLES = ("secretary", "nic", "nodal_own", "nodal_other", "viewer", "admin")
WATCHED = ("action_plans", "plan_versions", "milestones", "milestone_updates", "bottlenecks",
           "milestone_dependencies", "audit_log")

DEPARTMENT_WRITE = {"secretary": 303, "nic": 303, "nodal_own": 303, "nodal_other": 404,
                    "viewer": 403, "admin": 403}
REVIEW = {"secretary": 303, "nic": 403, "nodal_own": 403, "nodal_other": 404, "viewer": 403,
          "admin": 403}
ESCALATE = {"secretary": 303, "nic": 303, "nodal_own": 403, "nodal_other": 404, "viewer": 403,
            "admin": 403}


class World:
    def __init__(self):
        self.today = clock.today()
        self.own = factories.department("own", name="Own Department")
        self.other = factories.department("other", name="Other Department")
        self.users = {
            "secretary": factories.user("secretary"),
            "nic": factories.user("nic"),
            "nodal_own": factories.user("nodal", department=self.own),
            "nodal_other": factories.user("nodal", department=self.other),
            "viewer": factories.user("viewer"),
            "admin": factories.user("admin"),
        }
        self.nic = self.users["nic"]

    def plan(self, status="draft", milestones=1):
        plan = plan_ops.create_plan(self.own, self.nic)
        for n in range(milestones):
            plan_ops.add_milestone(plan, self.nic, code=f"OWN-{n + 1}", title=f"Milestone {n + 1}",
                                   category="other", start_date=self.today - timedelta(days=5),
                                   due_date=self.today + timedelta(days=40 + n))
        if status in ("submitted", "approved", "returned"):
            plan_ops.submit_plan(plan, self.nic)
        if status == "approved":
            plan_ops.approve_plan(plan, self.users["secretary"], comment="ok")
        if status == "returned":
            plan_ops.return_plan(plan, self.users["secretary"], comment="Add owners")
        db.session.commit()
        return plan

    def milestone(self, plan_status="approved"):
        self.plan(plan_status)
        return db.session.execute(sa.select(Milestone).filter_by(code="OWN-1")).scalar_one()

    def bottleneck(self, status="open"):
        return factories.bottleneck(department=self.own, status=status, raised_on=self.today)


def waiting(w):
    """OWN-1 waits for OWN-2 (an approved plan of two milestones)."""
    from models import MilestoneDependency

    w.plan("approved", 2)
    db.session.add(MilestoneDependency(predecessor_id=_id("OWN-2"), successor_id=_id("OWN-1")))
    db.session.commit()
    return f"/milestones/{_id('OWN-1')}/dependencies/{_id('OWN-2')}/remove"


def d(day):
    return day.isoformat() if day else ""


def milestone_form(w, m):
    return {"version": m.version, "code": m.code, "title": "Renamed", "category": "other",
            "start_date": d(m.start_date), "due_date": d(m.due_date), "service_id": "None"}


ROUTES = {
    "create plan": (DEPARTMENT_WRITE, lambda w: ("/departments/own/plan/create", {})),
    "add milestone": (DEPARTMENT_WRITE, lambda w: (
        w.plan("draft", 0) and "/departments/own/plan/milestones/new",
        {"code": "NEW-1", "title": "New", "category": "other", "due_date": d(w.today),
         "service_id": "None"})),
    "edit milestone": (DEPARTMENT_WRITE, lambda w: (lambda m: (
        f"/departments/own/plan/milestones/{m.id}/edit", milestone_form(w, m)))(
        w.milestone("draft"))),
    "move milestone": (DEPARTMENT_WRITE, lambda w: (
        w.plan("draft", 2) and
        f"/departments/own/plan/milestones/{_id('OWN-1')}/move", {"direction": "down"})),
    "remove milestone": (DEPARTMENT_WRITE, lambda w: (
        f"/departments/own/plan/milestones/{w.milestone('returned').id}/remove", {})),
    "submit plan": (DEPARTMENT_WRITE, lambda w: (
        w.plan("returned") and "/departments/own/plan/submit", {})),
    "approve plan": (REVIEW, lambda w: (
        w.plan("submitted") and "/departments/own/plan/approve", {"comment": "Fine"})),
    "return plan": (REVIEW, lambda w: (
        w.plan("submitted") and "/departments/own/plan/return", {"comment": "Redo"})),
    "revise plan": (DEPARTMENT_WRITE, lambda w: (
        w.plan("approved") and "/departments/own/plan/revise", {})),
    "update milestone": (DEPARTMENT_WRITE, lambda w: (lambda m: (
        f"/milestones/{m.id}/update",
        {"version": m.version, "status": "in_progress", "percent_complete": "30",
         "note": "Going well"}))(w.milestone())),
    "raise on department": (DEPARTMENT_WRITE, lambda w: (
        "/departments/own/bottlenecks/new",
        {"title": "Funds awaited", "category": "funds", "severity": "high",
         "milestone_id": "None"})),
    "raise on milestone": (DEPARTMENT_WRITE, lambda w: (lambda m: (
        f"/milestones/{m.id}/bottlenecks/new",
        {"title": "Vendor late", "category": "vendor", "severity": "low",
         "milestone_id": str(m.id)}))(w.milestone())),
    "add dependency": (DEPARTMENT_WRITE, lambda w: (
        w.plan("approved", 2) and f"/milestones/{_id('OWN-1')}/dependencies",
        {"predecessor": "OWN-2"})),
    "remove dependency": (DEPARTMENT_WRITE, lambda w: (waiting(w), {})),
    "escalate bottleneck": (ESCALATE, lambda w: (
        f"/bottlenecks/{w.bottleneck().id}/escalate", {"note": "to review"})),
    "resolve bottleneck": (DEPARTMENT_WRITE, lambda w: (
        f"/bottlenecks/{w.bottleneck('escalated').id}/resolve", {"note": "Done"})),
}


def _id(code):
    return db.session.execute(sa.select(Milestone.id).filter_by(code=code)).scalar_one()


def snapshot():
    """Every row of the watched tables. A refused request is itself logged (an
    ``access_refused`` audit entry, see tracker/security_log.py); that entry is not a change."""
    result = {}
    for name in WATCHED:
        table = db.metadata.tables[name]
        pk = list(table.primary_key.columns)
        query = sa.select(table).order_by(*pk)
        if name == "audit_log":
            query = query.where(table.c.action != "access_refused")
        result[name] = [tuple(r) for r in db.session.execute(query)]
    return result


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", sorted(ROUTES))
def test_write_route(app, client, auth, route, role):
    expected_by_role, build = ROUTES[route]
    w = World()
    url, data = build(w)
    auth.sign_in(w.users[role])
    db.session.expire_all()
    before = snapshot()
    response = client.post(url, data=data)
    expected = expected_by_role[role]
    assert response.status_code == expected, response.get_data(as_text=True)[:3000]
    db.session.rollback()
    db.session.expire_all()
    after = snapshot()
    if expected == 303:
        assert after != before
        assert len(after["audit_log"]) > len(before["audit_log"]), "a write without an audit entry"
    else:
        assert after == before


def test_every_write_route_is_in_the_matrix(app):
    """A new POST route of these blueprints must be added to the matrix above."""
    rules = [r for r in app.url_map.iter_rules()
             if r.endpoint.split(".")[0] in ("plans", "milestones", "bottlenecks", "audit")
             and "POST" in r.methods]
    assert len(rules) == len(ROUTES)


# --- Forged hidden fields ------------------------------------------------------------------


def test_forged_department_and_plan_fields_are_ignored(app, client, auth):
    w = World()
    own_plan = w.plan("draft", 0)
    other_plan = plan_ops.create_plan(w.other, w.nic)
    plan_ops.add_milestone(other_plan, w.nic, code="OTH-1", title="Theirs", category="other",
                           due_date=w.today + timedelta(days=9))
    db.session.commit()
    other_m = db.session.execute(sa.select(Milestone).filter_by(code="OTH-1")).scalar_one()
    auth.sign_in(w.users["nodal_own"])

    r = client.post("/departments/own/plan/milestones/new", data={
        "code": "OWN-9", "title": "Mine", "category": "other", "due_date": d(w.today),
        "service_id": "None", "department_id": w.other.id, "plan_id": other_plan.id})
    assert r.status_code == 303
    made = db.session.execute(sa.select(Milestone).filter_by(code="OWN-9")).scalar_one()
    assert (made.department_id, made.plan_id) == (w.own.id, own_plan.id)

    r = client.post(f"/departments/own/plan/milestones/{made.id}/edit", data={
        **milestone_form(w, made), "department_id": w.other.id, "plan_id": other_plan.id})
    assert r.status_code == 303
    db.session.expire_all()
    assert (made.department_id, made.plan_id) == (w.own.id, own_plan.id)

    # Another department's milestone reached through one's own department's address.
    r = client.post(f"/departments/own/plan/milestones/{other_m.id}/edit",
                    data=milestone_form(w, other_m))
    assert r.status_code == 404
    r = client.post(f"/milestones/{made.id}/update", data={
        "version": made.version, "status": "in_progress", "percent_complete": "5",
        "department_id": w.other.id})
    assert r.status_code == 303
    db.session.expire_all()
    assert made.department_id == w.own.id

    before = snapshot()
    r = client.post("/departments/own/bottlenecks/new", data={
        "title": "Forged", "category": "funds", "severity": "low",
        "department_id": w.other.id, "milestone_id": str(other_m.id)})
    assert r.status_code == 422
    assert "Not a valid choice" in r.get_data(as_text=True)
    db.session.expire_all()
    assert snapshot() == before
    # Raised from a milestone's page, the milestone comes from the address: a forged
    # milestone_id naming another department's milestone is ignored.
    r = client.post(f"/milestones/{made.id}/bottlenecks/new", data={
        "title": "Forged", "category": "funds", "severity": "low",
        "milestone_id": str(other_m.id), "department_id": w.other.id})
    assert r.status_code == 303
    db.session.expire_all()
    raised = db.session.execute(
        sa.select(Bottleneck).where(Bottleneck.title == "Forged")).scalar_one()
    assert (raised.milestone_id, raised.department_id) == (made.id, w.own.id)
    db.session.delete(raised)
    db.session.commit()

    r = client.post("/departments/own/bottlenecks/new", data={
        "title": "Real", "category": "funds", "severity": "low", "milestone_id": "None",
        "department_id": w.other.id})
    assert r.status_code == 303
    b = db.session.execute(sa.select(Bottleneck).filter_by(title="Real")).scalar_one()
    assert b.department_id == w.own.id and b.milestone_id is None


def test_nic_cannot_move_a_milestone_between_departments_by_url(app, client, auth):
    w = World()
    m = w.milestone("draft")
    other_plan = plan_ops.create_plan(w.other, w.nic)
    db.session.commit()
    auth.sign_in(w.nic)
    before = snapshot()
    r = client.post(f"/departments/other/plan/milestones/{m.id}/edit", data=milestone_form(w, m))
    assert r.status_code == 404
    db.session.expire_all()
    assert snapshot() == before
    assert other_plan.id
