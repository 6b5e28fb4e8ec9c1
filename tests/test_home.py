from datetime import timedelta

from tests import factories
from tracker import clock


def test_secretary_sees_every_department_with_counts(app, as_user):
    today = clock.today()
    health = factories.department("health", name="Health & Medical Education")
    pwd = factories.department("pwd", name="Public Works")
    plan = factories.plan(department=health, status="approved")
    factories.milestone(plan=plan, today=today, status="completed")
    factories.milestone(plan=plan, today=today, due_date=today - timedelta(days=3))
    factories.milestone(plan=plan, today=today, status="blocked")
    client = as_user(factories.user("secretary"))
    html = client.get("/overview").get_data(as_text=True)
    assert "Health &amp; Medical Education" in html and "Public Works" in html
    row = html.split("Health &amp; Medical Education")[1].split("</tr>")[0]
    cells = [c.split(">")[-1] for c in row.split("</td>")[:-1]]
    # plan status, milestones, done, at risk, overdue, open bottlenecks
    assert cells[1:] == ["3", "1", "1", "1", "0"]
    assert "Approved" in row.split("</td>")[0]
    pwd_row = html.split("Public Works")[1].split("</tr>")[0]
    assert "Missing" in pwd_row
    assert pwd.code == "pwd"


def test_nodal_officer_sees_only_their_department(app, as_user):
    own = factories.department("health", name="Health Dept")
    factories.department("pwd", name="Works Dept")
    client = as_user(factories.user("nodal", department=own))
    html = client.get("/").get_data(as_text=True)
    assert "Health Dept" in html
    assert "Works Dept" not in html


def test_department_page_lists_milestones_with_health(app, as_user):
    today = clock.today()
    dept = factories.department("health", name="Health Dept")
    plan = factories.plan(department=dept, status="approved")
    factories.milestone(plan=plan, code="H-01", title="Integrate birth certificates", today=today,
                        due_date=today - timedelta(days=2))
    client = as_user(factories.user("viewer"))
    response = client.get("/departments/health")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Integrate birth certificates" in html
    assert "H-01" in html
    assert "Overdue" in html


def test_nodal_officer_gets_404_for_another_department(app, as_user):
    own = factories.department("health")
    factories.department("pwd")
    client = as_user(factories.user("nodal", department=own))
    assert client.get("/departments/pwd").status_code == 404
    assert client.get("/departments/health").status_code == 200
    assert client.get("/departments/nope").status_code == 404


def test_department_page_query_count_does_not_grow(app, as_user, count_queries):
    today = clock.today()
    dept = factories.department("health")
    plan = factories.plan(department=dept, status="approved")
    client = as_user(factories.user("secretary"))

    def queries_for_page():
        with count_queries() as statements:
            assert client.get("/departments/health").status_code == 200
        return len(statements)

    factories.milestone(plan=plan, today=today)
    queries_for_page()  # warm-up: the signed-in user and settings are loaded once
    few = queries_for_page()
    # user, department, plan, milestones (count, page); the header's unread count; the
    # open flags (counts by kind, the most severe few)
    assert few <= 7
    for _ in range(30):
        factories.milestone(plan=plan, today=today, commit=False)
    from tracker.extensions import db

    db.session.commit()
    queries_for_page()  # warm-up again after the commit expired the cached user
    assert queries_for_page() == few


def test_security_headers_on_every_page(client):
    response = client.get("/sign-in")
    csp = response.headers["Content-Security-Policy"]
    assert "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]


def test_production_refuses_to_start_without_secrets(monkeypatch):
    import pytest

    from tracker import create_app

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY, DATABASE_URL"):
        create_app(config_name="production")


def test_changing_language_is_remembered_and_audited(app, as_user):
    from models import AuditLog, User
    from tracker.extensions import db

    user = factories.user("viewer")
    client = as_user(user)
    response = client.post("/language", data={"language": "hi", "next": "https://evil.example/"})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert db.session.get(User, user.id).locale == "hi"
    entry = db.session.execute(db.select(AuditLog).filter_by(action="set_language")).scalar_one()
    assert entry.user_id == user.id and entry.changes == {"locale": [None, "hi"]}
    assert client.post("/language", data={"language": "xx"}).status_code == 302
    assert db.session.get(User, user.id).locale == "hi"  # an unknown language changes nothing


# --- The work lists -----------------------------------------------------------------------------

from datetime import datetime  # noqa: E402

import pytest  # noqa: E402

from models import ActionPlan  # noqa: E402
from tracker.extensions import db  # noqa: E402


def _pwd_world(today):
    """Public Works with work of every kind, and Health with work that is not PWD's."""
    pwd = factories.department("pwd", name="Public Works")
    health = factories.department("health", name="Health")
    plan = factories.plan(department=pwd, status="returned", current_version=1,
                          reviewed_at=datetime(2026, 11, 12, 6, 0),
                          review_comment="Add the dates of the e-Office roll-out")
    w = {"pwd": pwd, "health": health, "plan": plan}
    w["late"] = factories.milestone(plan=plan, code="PWD-05", title="Online building permits",
                                    today=today, due_date=today - timedelta(days=19))
    w["later"] = factories.milestone(plan=plan, code="PWD-04", title="e-Office roll-out",
                                     today=today, due_date=today - timedelta(days=3))
    w["soon"] = factories.milestone(plan=plan, code="PWD-07", title="Road status map",
                                    today=today, due_date=today + timedelta(days=10))
    w["far"] = factories.milestone(plan=plan, code="PWD-09", title="Far away", today=today,
                                   due_date=today + timedelta(days=200))
    w["quiet"] = factories.milestone(plan=plan, code="PWD-02", title="Contractor register",
                                     today=today, due_date=today + timedelta(days=100),
                                     updated_at=datetime(2020, 1, 1))
    w["health_plan"] = factories.plan(department=health, status="approved")
    factories.milestone(plan=w["health_plan"], code="HLT-01", title="Not ours", today=today,
                        start_date=today - timedelta(days=90), due_date=today - timedelta(days=40))
    w["bottleneck"] = factories.bottleneck(department=pwd, milestone=w["late"],
                                           title="Vendor has not deployed the patch",
                                           severity="critical",
                                           raised_on=today - timedelta(days=20))
    meeting = factories.meeting(title="Review of November", meeting_date=today - timedelta(days=30),
                                status="minutes_final")
    w["item"] = factories.action_item(meeting=meeting, department=pwd,
                                      text="Publish the road status map",
                                      due_date=today - timedelta(days=2))
    factories.action_item(meeting=meeting, department=pwd, text="Already done", status="done")
    return w


def test_nodal_officer_home_is_their_work_list(app, as_user):
    today = clock.today()
    w = _pwd_world(today)
    client = as_user(factories.user("nodal", department=w["pwd"]))
    html = client.get("/").get_data(as_text=True)
    overdue = html.split('id="overdue"')[1].split("</section>")[0]
    # Named by code and title, most overdue first, each linking to its update form.
    assert overdue.index("PWD-05 · Online building permits") < overdue.index("PWD-04 · e-Office roll-out")
    assert f'href="/milestones/{w["late"].id}#update-title"' in overdue
    assert ">19<" in overdue and "HLT-01" not in html and "Not ours" not in html
    soon = html.split('id="due-soon"')[1].split("</section>")[0]
    assert "PWD-07 · Road status map" in soon and "PWD-05" not in soon and "Far away" not in soon
    stale = html.split('id="stale"')[1].split("</section>")[0]
    assert "PWD-02 · Contractor register" in stale and "01-01-2020" in stale
    bottlenecks = html.split('id="bottlenecks"')[1].split("</section>")[0]
    assert "Vendor has not deployed the patch" in bottlenecks and ">20<" in bottlenecks
    assert "past its time limit" in bottlenecks  # critical: 3 days
    items = html.split('id="action-items"')[1].split("</section>")[0]
    assert "Publish the road status map" in items and "Already done" not in items
    assert "2 days overdue" in items and f'href="/meetings/action-items/{w["item"].id}"' in items
    plan = html.split('id="plan-title"')[1].split("</section>")[0]
    assert "Returned on 12-11-2026" in plan and "Add the dates of the e-Office roll-out" in plan
    assert "edit the plan and resubmit it" in plan and 'href="/departments/pwd/plan"' in plan


def test_nodal_home_lists_the_milestones_forecast_to_finish_late(app, as_user):
    from models import MilestoneForecast

    today = clock.today()
    w = _pwd_world(today)
    for m, days in ((w["soon"], 30), (w["far"], 5), (w["quiet"], 60), (w["late"], 90)):
        db.session.add(MilestoneForecast(milestone_id=m.id, computed_on=today,
                                         forecast_on=m.due_date + timedelta(days=days)))
    db.session.commit()
    client = as_user(factories.user("nodal", department=w["pwd"]))
    html = client.get("/").get_data(as_text=True)
    assert '<span class="work-number">2</span> forecast to finish late' in html
    to_slip = html.split('id="to-slip"')[1].split("</section>")[0]
    # Latest first; within the margin (7 days: PWD-09) and overdue ones (PWD-05) are not here.
    assert to_slip.index("PWD-02 · Contractor register") < to_slip.index("PWD-07 · Road status map")
    assert "PWD-09" not in to_slip and "PWD-05" not in to_slip
    assert (w["quiet"].due_date + timedelta(days=60)).strftime("%d-%m-%Y") in to_slip
    assert ">60<" in to_slip and ">30<" in to_slip
    assert 'href="/flags/?department=pwd&amp;kind=forecast_to_slip"' in to_slip


def test_empty_lists_say_so(app, as_user, auth):
    dept = factories.department("idle", name="Idle Dept")
    factories.plan(department=dept, status="submitted", submitted_at=datetime(2026, 11, 1, 6))
    client = as_user(factories.user("nodal", department=dept))
    html = client.get("/").get_data(as_text=True)
    assert "Nothing overdue — well done." in html
    assert "Nothing due in the next 30 days." in html
    assert "No milestone is forecast to finish more than 7 days after its due date." in html
    assert "No open bottlenecks." in html and "No open action items." in html
    assert "awaiting the Secretary" in html and "01-11-2026" in html
    auth.sign_out()
    secretary = as_user(factories.user("secretary"))
    html = secretary.get("/").get_data(as_text=True)
    assert "Nothing is escalated to you." in html
    assert "No bottleneck is past its time limit." in html
    assert "No review meeting is planned." in html


def test_a_long_list_shows_the_first_ten_and_links_to_all(app, as_user):
    today = clock.today()
    dept = factories.department("pwd")
    plan = factories.plan(department=dept, status="approved")
    for i in range(12):
        factories.milestone(plan=plan, code=f"L-{i:02d}", today=today, commit=False,
                            start_date=today - timedelta(days=90),
                            due_date=today - timedelta(days=30 - i))
    db.session.commit()
    client = as_user(factories.user("nodal", department=dept))
    html = client.get("/").get_data(as_text=True)
    overdue = html.split('id="overdue"')[1].split("</section>")[0]
    assert overdue.count("<tr>") == 10 + 1  # heading row + ten
    assert "L-00 ·" in overdue and "L-09 ·" in overdue and "L-10" not in overdue
    assert "The first 10 of 12." in overdue and "All 12" in overdue
    assert 'href="/dashboard/records?health=overdue"' in overdue


def test_nic_home_lists_plans_to_resubmit_missing_plans_and_escalations(app, as_user):
    today = clock.today()
    w = _pwd_world(today)
    factories.department("agri", name="Agriculture")
    draft = factories.department("tour", name="Tourism")
    factories.plan(department=draft, status="draft")
    factories.flag("milestone_overdue", "milestone", w["late"].id, department=w["pwd"],
                   escalation="nic", details={"label": "PWD-05 · Online building permits"})
    factories.flag("milestone_overdue", "milestone", w["later"].id, department=w["pwd"],
                   escalation="department", details={"label": "PWD-04 · e-Office roll-out"})
    client = as_user(factories.user("nic"))
    html = client.get("/").get_data(as_text=True)
    resubmit = html.split('id="to-resubmit"')[1].split("</section>")[0]
    assert "Public Works" in resubmit and "Returned on 12-11-2026" in resubmit
    no_plan = html.split('id="no-plan"')[1].split("</section>")[0]
    assert "Agriculture" in no_plan and "Tourism" in no_plan and "Health" not in no_plan
    assert "Public Works" not in no_plan
    escalated = html.split('id="escalated"')[1].split("</section>")[0]
    assert "PWD-05 · Online building permits" in escalated and "PWD-04" not in escalated
    assert f'href="/milestones/{w["late"].id}#update-title"' in escalated


def test_secretary_home_lists_reviews_escalations_sla_and_the_next_meeting(app, as_user):
    today = clock.today()
    w = _pwd_world(today)
    health_plan = w["health_plan"]
    health_plan.status, health_plan.submitted_at = "submitted", datetime(2026, 11, 30, 6, 0)
    db.session.commit()
    factories.flag("bottleneck_past_sla", "bottleneck", w["bottleneck"].id, department=w["pwd"],
                   escalation="secretary", severity="critical",
                   details={"label": "Vendor has not deployed the patch"})
    meeting = factories.meeting(title="December review", meeting_date=today + timedelta(days=5))
    client = as_user(factories.user("secretary"))
    html = client.get("/").get_data(as_text=True)
    awaiting = html.split('id="awaiting"')[1].split("</section>")[0]
    assert "Health" in awaiting and "30-11-2026" in awaiting
    assert 'action="/work/plans/health/approve"' in awaiting
    assert 'action="/work/plans/health/return"' in awaiting and "required" in awaiting
    assert f'value="{health_plan.lock_version}"' in awaiting
    escalated = html.split('id="escalated"')[1].split("</section>")[0]
    assert "Vendor has not deployed the patch" in escalated
    assert f'href="/bottlenecks/{w["bottleneck"].id}"' in escalated
    past = html.split('id="past-sla"')[1].split("</section>")[0]
    assert "Vendor has not deployed the patch" in past and ">17<" in past  # 20 days, limit 3
    box = html.split('id="meeting-title"')[1].split("</section>")[0]
    assert "December review" in box and "The agenda is not prepared yet." in box
    from models import AgendaItem

    db.session.add(AgendaItem(meeting=meeting, title="Public Works", position=1))
    db.session.commit()
    assert "Agenda ready: 1 item." in client.get("/").get_data(as_text=True)


def submitted_plan(code, name, nic=None):
    """A department with a plan submitted for review the way NIC does it (one milestone)."""
    from tracker.operations import plans as ops

    plan = factories.plan(department=factories.department(code, name=name))
    factories.milestone(plan=plan, today=clock.today())
    ops.submit_plan(plan, nic or factories.user("nic"))
    db.session.commit()
    return plan


def test_secretary_approves_and_returns_from_the_home_page(app, as_user):
    p1 = submitted_plan("health", "Health")
    p2 = submitted_plan("pwd", "Public Works")
    client = as_user(factories.user("secretary"))
    response = client.post("/work/plans/health/approve", data={"lock_version": p1.lock_version})
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert db.session.get(ActionPlan, p1.id).status == "approved"
    assert "The action plan of Health was approved" in client.get("/").get_data(as_text=True)
    # Returning needs a comment: the list again, with the message beside that plan.
    response = client.post("/work/plans/pwd/return", data={"lock_version": p2.lock_version,
                                                           "comment": "  "})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Say what must change" in html and "<details open>" in html
    db.session.expire_all()
    assert db.session.get(ActionPlan, p2.id).status == "submitted"
    response = client.post("/work/plans/pwd/return", data={"lock_version": p2.lock_version,
                                                           "comment": "Add the dates"})
    assert response.status_code == 303
    db.session.expire_all()
    plan = db.session.get(ActionPlan, p2.id)
    assert plan.status == "returned" and plan.review_comment == "Add the dates"
    # A stale page: the plan was reviewed meanwhile.
    response = client.post("/work/plans/health/approve", data={"lock_version": p1.lock_version})
    assert response.status_code in (303, 422)
    db.session.expire_all()
    assert db.session.get(ActionPlan, p1.id).status == "approved"


@pytest.mark.parametrize("role", ["nic", "viewer", "admin"])
def test_only_the_secretary_reviews_from_the_home_page(app, as_user, role):
    dept = factories.department("pwd")
    plan = factories.plan(department=dept, status="submitted")
    client = as_user(factories.user(role))
    assert client.post("/work/plans/pwd/approve",
                       data={"lock_version": plan.lock_version}).status_code == 403
    assert client.post("/work/plans/pwd/return", data={"comment": "No"}).status_code == 403
    assert db.session.get(ActionPlan, plan.id).status == "submitted"


def test_viewer_and_admin_see_the_overview_without_actions(app, as_user, auth):
    dept = factories.department("pwd", name="Public Works")
    factories.plan(department=dept, status="submitted")
    for role in ("viewer", "admin"):
        auth.sign_out()
        html = as_user(factories.user(role)).get("/").get_data(as_text=True)
        assert "Roadmap overview" in html and "Public Works" in html
        assert "Approve" not in html and "<form method=\"post\" action=\"/work" not in html


def test_plan_list_by_state(app, as_user):
    for code, status in (("a", "submitted"), ("b", "returned"), ("c", "approved")):
        factories.plan(department=factories.department(code, name=f"Dept {code.upper()}"),
                       status=status)
    factories.department("d", name="Dept D")
    client = as_user(factories.user("nic"))
    html = client.get("/work/plans?state=submitted").get_data(as_text=True)
    assert "Dept A" in html and "Dept B" not in html and "1 department" in html
    html = client.get("/work/plans?state=no_plan").get_data(as_text=True)
    assert "Dept D" in html and "Dept A" not in html
    html = client.get("/work/plans?state=to_resubmit").get_data(as_text=True)
    assert "Dept B" in html and "Dept C" not in html
    assert "4 departments" in client.get("/work/plans").get_data(as_text=True)
    assert client.get("/work/plans?state=nonsense").status_code == 404
    client.post("/sign-out")
    nodal = as_user(factories.user("nodal", department=factories.department("e", name="Dept E")))
    html = nodal.get("/work/plans").get_data(as_text=True)
    assert "Dept E" in html and "Dept A" not in html


@pytest.mark.parametrize("role", ["nodal", "nic", "secretary"])
def test_work_list_query_count_does_not_grow(app, as_user, count_queries, role):
    today = clock.today()
    w = _pwd_world(today)
    user = factories.user(role, department=w["pwd"] if role == "nodal" else None)
    client = as_user(user)

    def queries():
        client.get("/")  # warm-up: the signed-in user and settings are loaded once
        with count_queries() as statements:
            assert client.get("/").status_code == 200
        return len(statements)

    few = queries()
    assert few <= 10
    for i in range(25):
        dept = factories.department(f"x{i}", commit=False)
        plan = factories.plan(department=dept, status="submitted" if i % 2 else "returned",
                              commit=False)
        m = factories.milestone(plan=plan, today=today, due_date=today - timedelta(days=i + 1),
                                commit=False)
        factories.milestone(plan=w["plan"], today=today, due_date=today - timedelta(days=i + 1),
                            commit=False)
        factories.bottleneck(department=w["pwd"], severity="high",
                             raised_on=today - timedelta(days=30), commit=False)
        factories.action_item(department=w["pwd"], commit=False)
        db.session.flush()
        for kind, level in (("milestone_overdue", "nic"), ("milestone_stale", "secretary")):
            factories.flag(kind, "milestone", m.id, department=dept, escalation=level,
                           details={"label": f"{m.code} · {m.title}"}, commit=False)
    db.session.commit()
    assert queries() == few
