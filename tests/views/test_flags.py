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


def test_flag_subject_names_the_subject_and_links_where_it_is_acted_on(app):
    from views.flags import flag_subject

    dept = factories.department("fish", name="Fisheries")
    cases = [
        (factories.flag("milestone_overdue", "milestone", 7, department=dept,
                        details={"label": "FISH-08 · Online fishing licence"}),
         "FISH-08 · Online fishing licence", "/milestones/7#update-title"),
        (factories.flag("bottleneck_past_sla", "bottleneck", 8, department=dept,
                        details={"label": "Funds not released"}),
         "Funds not released", "/bottlenecks/8"),
        (factories.flag("action_item_overdue", "action_item", 9, department=dept,
                        details={"label": "Publish the licence form"}),
         "Publish the licence form", "/meetings/action-items/9"),
        (factories.flag("no_submitted_plan", "department", dept.id, department=dept,
                        details={"label": "Fisheries"}),
         "Fisheries", "/departments/fish/plan"),
        (factories.flag("milestone_stale", "milestone", 10, department=dept, details={}),
         "Milestone not updated", "/milestones/10#update-title"),
    ]
    with app.test_request_context():
        for flag, name, url in cases:
            assert flag_subject(flag) == (name, url)
        name, url = flag_subject(cases[0][0], external=True)
        assert url.startswith("http") and url.endswith("/milestones/7#update-title")


def test_flag_page_shows_its_details_in_words_without_ids(app, as_user):
    dept = factories.department("fish", name="Fisheries")
    flag = factories.flag("action_item_overdue", "action_item", 9, department=dept,
                          details={"label": "Publish the licence form", "due_date": "2026-11-02",
                                   "meeting_id": 4242})
    html = as_user(factories.user("viewer")).get(f"/flags/{flag.id}").get_data(as_text=True)
    assert "Action item overdue: Publish the licence form" in html
    assert "02-11-2026" in html and "2026-11-02" not in html
    assert "4242" not in html and "Meeting id" not in html


def test_department_page_counts_flags_by_kind_and_shows_the_most_severe_five(app, as_user):
    dept = factories.department("pwd", name="Public Works")
    for i in range(8):
        factories.flag("milestone_stale", "milestone", 100 + i, department=dept, severity="info",
                       details={"label": f"PWD-{i:02d} · Quiet one"}, commit=False)
    factories.flag("milestone_overdue", "milestone", 1, department=dept, severity="critical",
                   details={"label": "PWD-05 · Online building permits"}, commit=False)
    from tracker.extensions import db

    db.session.commit()
    html = as_user(factories.user("viewer")).get("/departments/pwd").get_data(as_text=True)
    flags = html.split('id="department-flags-title"')[1].split("</section>")[0]
    assert "Milestone not updated: 8" in flags and "Milestone overdue: 1" in flags
    assert 'href="/flags/?department=pwd&amp;kind=milestone_stale"' in flags
    assert flags.count("<tr>") == 5 + 1
    assert flags.index("PWD-05 · Online building permits") < flags.index("Quiet one")
    assert 'href="/milestones/1#update-title"' in flags
    assert "All 9 open flags of the department" in flags
