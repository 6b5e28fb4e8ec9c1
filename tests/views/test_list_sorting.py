"""Every paged list sorts by its column headers (links, aria-sort) and keeps its filters."""
from datetime import datetime, timedelta

from models import AuditLog
from tests import factories
from tracker import clock
from tracker.extensions import db


def test_flags_sort_by_a_column_and_keep_the_filters(app, as_user):
    dept = factories.department("health", name="Health")
    old = factories.flag(subject_id=1, department=dept, raised_at=datetime(2026, 1, 1),
                         severity="critical", details={"label": "H-01 Old one"})
    new = factories.flag(subject_id=2, department=dept, raised_at=datetime(2026, 6, 1),
                         severity="warning", details={"label": "H-02 New one"})
    client = as_user(factories.user("secretary"))
    html = client.get("/flags/?kind=milestone_overdue").get_data(as_text=True)
    assert html.index("H-01 Old one") < html.index("H-02 New one")  # most severe first
    assert 'href="/flags/?kind=milestone_overdue&amp;sort=-raised"' in html
    html = client.get("/flags/?kind=milestone_overdue&sort=-raised").get_data(as_text=True)
    assert html.index("H-02 New one") < html.index("H-01 Old one")
    assert 'aria-sort="descending"' in html
    assert '<input type="hidden" name="sort" value="-raised">' in html
    html = client.get("/flags/?sort=bogus").get_data(as_text=True)
    assert html.index("H-01 Old one") < html.index("H-02 New one")
    assert old.id and new.id


def test_audit_log_sorts_by_action(app, as_user):
    secretary = factories.user("secretary")
    for action, day in (("update", 1), ("approve", 2)):  # shown "Changed", "Approved"
        db.session.add(AuditLog(at=datetime(2026, 1, day), action=action, entity="milestone",
                                entity_id=day, user_id=secretary.id))
    db.session.commit()
    client = as_user(secretary)
    html = client.get("/audit?entity=milestone").get_data(as_text=True)
    assert html.index(">Approved<") < html.index(">Changed<")  # newest first
    html = client.get("/audit?entity=milestone&sort=action").get_data(as_text=True)
    assert html.index(">Approved<") < html.index(">Changed<")
    html = client.get("/audit?entity=milestone&sort=-action").get_data(as_text=True)
    assert html.index(">Changed<") < html.index(">Approved<")
    assert 'href="/audit?entity=milestone&amp;sort=action"' in html
    assert client.get("/audit?sort=password").status_code == 200


def test_a_departments_milestones_sort_by_due_date_across_pages(app, as_user):
    from views.departments import PAGE_SIZE

    today = clock.today()
    dept = factories.department("health")
    plan = factories.plan(department=dept, status="approved")
    for i in range(PAGE_SIZE + 2):
        factories.milestone(plan=plan, code=f"H-{i:03}", title=f"Step {i}", today=today,
                            due_date=today + timedelta(days=300 - i), start_date=None,
                            commit=False)
    db.session.commit()
    client = as_user(factories.user("secretary"))
    html = client.get("/departments/health?sort=due").get_data(as_text=True)
    assert html.index("H-051") < html.index("H-050")  # earliest due first
    assert 'aria-sort="ascending"' in html
    assert "/departments/health?sort=due&amp;page=2" in html
    assert "/departments/health?sort=-due" in html
    page2 = client.get("/departments/health?sort=due&page=2").get_data(as_text=True)
    assert "H-000" in page2 and "H-051" not in page2
    assert client.get("/departments/health?sort=nope").status_code == 200


def test_the_records_behind_a_chart_sort_and_keep_their_filters(app, as_user):
    today = clock.today()
    dept = factories.department("health", name="Health")
    plan = factories.plan(department=dept, status="approved")
    factories.milestone(plan=plan, code="H-01", title="Zebra crossing", today=today,
                        due_date=today + timedelta(days=10), start_date=None)
    factories.milestone(plan=plan, code="H-02", title="Apple orchard", today=today,
                        due_date=today + timedelta(days=20), start_date=None)
    client = as_user(factories.user("secretary"))
    html = client.get("/dashboard/records?kind=milestones&department=health").get_data(as_text=True)
    assert html.index("Zebra crossing") < html.index("Apple orchard")  # earliest due first
    assert "/dashboard/records?kind=milestones&amp;department=health&amp;sort=title" in html
    html = client.get("/dashboard/records?kind=milestones&department=health&sort=title"
                      ).get_data(as_text=True)
    assert html.index("Apple orchard") < html.index("Zebra crossing")
    assert 'aria-sort="ascending"' in html
    assert client.get("/dashboard/records?kind=milestones&sort=1;drop").status_code == 200
