"""The flags page, a flag's page and each department's open flags."""
from datetime import datetime

from tests import factories

NOW = datetime(2026, 11, 20, 3, 0)


def make_flags():
    health = factories.department("health", name="Health")
    pwd = factories.department("pwd", name="Public Works")
    f = {}
    f["late"] = factories.flag("milestone_overdue", "milestone", 1, department=health,
                               severity="critical", escalation="secretary",
                               details={"label": "H-01 Integrate birth certificates"})
    f["risk"] = factories.flag("milestone_at_risk", "milestone", 2, department=health,
                               severity="warning", details={"label": "H-02 Hospital portal"})
    f["down"] = factories.flag("website_down", "digital_asset", 3, department=pwd,
                               severity="critical", details={"label": "PWD website"})
    f["old"] = factories.flag("milestone_overdue", "milestone", 4, department=pwd,
                              cleared_at=NOW, details={"label": "P-09 Old and done"})
    return health, pwd, f


def test_flags_page_lists_open_flags_with_filters(app, as_user):
    health, pwd, _ = make_flags()
    client = as_user(factories.user("secretary"))
    html = client.get("/flags/").get_data(as_text=True)
    assert "H-01 Integrate birth certificates" in html and "PWD website" in html
    assert "P-09 Old and done" not in html  # cleared
    assert "3 flags" in html
    html = client.get("/flags/?department=pwd").get_data(as_text=True)
    assert "PWD website" in html and "H-01" not in html
    html = client.get("/flags/?kind=milestone_at_risk").get_data(as_text=True)
    assert "H-02 Hospital portal" in html and "H-01" not in html
    html = client.get("/flags/?severity=critical&escalation=secretary").get_data(as_text=True)
    assert "H-01" in html and "PWD website" not in html and "H-02" not in html
    html = client.get("/flags/?status=cleared").get_data(as_text=True)
    assert "P-09 Old and done" in html and "H-01" not in html
    # Severity as words, not colour alone; an unknown filter value is ignored.
    assert 'class="badge severity-critical">Critical</span>' in client.get("/flags/").get_data(as_text=True)
    assert "3 flags" in client.get("/flags/?severity=nonsense").get_data(as_text=True)


def test_a_nodal_officer_sees_only_their_departments_flags(app, as_user):
    health, pwd, f = make_flags()
    client = as_user(factories.user("nodal", department=health))
    html = client.get("/flags/").get_data(as_text=True)
    assert "H-01" in html and "PWD website" not in html
    assert "PWD website" not in client.get("/flags/?department=pwd").get_data(as_text=True)
    assert client.get(f"/flags/{f['down'].id}").status_code == 404
    assert client.get(f"/flags/{f['late'].id}").status_code == 200


def test_flag_page_shows_who_it_has_reached(app, as_user):
    _, _, f = make_flags()
    client = as_user(factories.user("viewer"))
    html = client.get(f"/flags/{f['late'].id}").get_data(as_text=True)
    assert "Milestone overdue" in html and "H-01 Integrate birth certificates" in html
    assert "Secretary" in html and "next review meeting agenda" in html
    assert 'href="/departments/health"' in html
    assert client.get("/flags/999999").status_code == 404


def test_department_page_shows_its_open_flags(app, as_user):
    make_flags()
    factories.department("idle")
    client = as_user(factories.user("viewer"))
    assert "No open flags." in client.get("/departments/idle").get_data(as_text=True)
    html = client.get("/departments/health").get_data(as_text=True)
    assert "Open flags" in html
    assert "H-01 Integrate birth certificates" in html and "H-02 Hospital portal" in html
    assert "PWD website" not in html
    html = client.get("/departments/pwd").get_data(as_text=True)
    assert "PWD website" in html and "P-09 Old and done" not in html


def test_flags_page_query_count_does_not_grow(app, as_user, count_queries):
    health, _, _ = make_flags()
    client = as_user(factories.user("secretary"))

    def page_queries():
        with count_queries() as statements:
            assert client.get("/flags/").status_code == 200
        return len(statements)

    page_queries()
    few = page_queries()
    for i in range(30):
        factories.flag("milestone_stale", "milestone", 100 + i, department=health,
                       severity="info", commit=False)
    from tracker.extensions import db

    db.session.commit()
    page_queries()
    assert page_queries() == few


def test_flags_page_needs_sign_in(client):
    assert client.get("/flags/").status_code == 302
