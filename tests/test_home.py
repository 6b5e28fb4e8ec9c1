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
    html = client.get("/").get_data(as_text=True)
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
