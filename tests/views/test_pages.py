"""The department's milestone list, the plan page and the milestone page."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests import factories
from tracker import clock
from tracker.extensions import db
from tracker.operations import milestones as m_ops


def test_department_page_queries_do_not_grow(app, as_user, count_queries):
    today = clock.today()
    dept = factories.department("health")
    plan = factories.plan(department=dept, status="approved")
    nic = factories.user("nic")
    client = as_user(factories.user("secretary"))

    def add(n):
        for _ in range(n):
            m = factories.milestone(plan=plan, today=today, baseline_due=today, commit=False,
                                    due_date=today + timedelta(days=5))
            db.session.flush()
            m_ops.record_milestone_update(m, nic, expected_version=m.version,
                                          status="in_progress", percent_complete=60,
                                          due_date=today + timedelta(days=9), reason="funds",
                                          note="moved", today=today)
            factories.bottleneck(department=dept, milestone=m, commit=False)
        db.session.commit()

    def count(url):
        client.get(url)
        with count_queries() as statements:
            response = client.get(url)
            assert response.status_code == 200
        return len(statements), response.get_data(as_text=True)

    add(1)
    few, _ = count("/departments/health")
    few_plan, _ = count("/departments/health/plan")
    add(25)
    many, html = count("/departments/health")
    assert many == few
    assert count("/departments/health/plan")[0] == few_plan
    assert html.count('<td data-label="Days slipped" class="num">9</td>') == 26  # slipped days
    assert 'href="/departments/health/plan"' in html


def test_department_page_lists_its_milestones_50_a_page_with_links_that_work_without_script(
        app, as_user, count_queries):
    from views.departments import PAGE_SIZE

    dept = factories.department("health")
    plan = factories.plan(department=dept, status="approved")
    for i in range(2 * PAGE_SIZE + 3):
        factories.milestone(plan=plan, code=f"P-{i:03d}", title=f"Paged {i:03d}", position=i,
                            commit=False)
    db.session.commit()
    client = as_user(factories.user("secretary"))

    def page(url):
        client.get(url)
        with count_queries() as statements:
            response = client.get(url)
        return response, len(statements)

    first, first_queries = page("/departments/health")
    html = first.get_data(as_text=True)
    assert first.status_code == 200
    assert "Paged 000" in html and f"Paged {PAGE_SIZE - 1:03d}" in html
    assert f"Paged {PAGE_SIZE:03d}" not in html
    assert "Page 1 of 3" in html and 'rel="prev"' not in html
    assert 'href="/departments/health?page=2" rel="next"' in html
    last, last_queries = page("/departments/health?page=3&lang=en")
    html = last.get_data(as_text=True)
    assert f"Paged {2 * PAGE_SIZE:03d}" in html and f"Paged {2 * PAGE_SIZE - 1:03d}" not in html
    assert html.count("<tr>") == 3 + 1  # three rows and the header
    # The links keep the other arguments of the address; no next link on the last page.
    assert 'href="/departments/health?lang=en&amp;page=2" rel="prev"' in html
    assert 'rel="next"' not in html
    assert last_queries == first_queries
    assert client.get("/departments/health?page=4").status_code == 404
    assert client.get("/departments/health?page=0").status_code == 404


def test_milestone_update_form_keeps_input_and_shows_errors(app, as_user):
    today = clock.today()
    m = factories.milestone(today=today, baseline_due=today + timedelta(days=10),
                            due_date=today + timedelta(days=10))
    client = as_user(factories.user("nic"))
    r = client.post(f"/milestones/{m.id}/update", data={
        "version": m.version, "status": "completed", "percent_complete": "80",
        "due_date": (today + timedelta(days=20)).isoformat(), "reason": "",
        "note": "Typed by the officer"})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "Typed by the officer" in html and 'value="80"' in html
    assert 'id="percent_complete-error"' in html and "must be at 100 percent" in html
    assert 'id="reason-error"' in html
    r = client.post(f"/milestones/{m.id}/update", data={
        "version": m.version, "status": "in_progress", "percent_complete": "500"})
    assert r.status_code == 422 and 'id="percent_complete-error"' in r.get_data(as_text=True)


@pytest.mark.parametrize("role", ["secretary", "nic", "viewer", "admin", "nodal"])
def test_pages_render_for_every_reader(app, as_user, role):
    today = clock.today()
    dept = factories.department("health")
    plan = factories.plan(department=dept, status="approved")
    m = factories.milestone(plan=plan, today=today)
    b = factories.bottleneck(department=dept, milestone=m)
    client = as_user(factories.user(role, department=dept if role == "nodal" else None))
    for url in ("/departments/health/plan", f"/milestones/{m.id}", f"/bottlenecks/{b.id}",
                "/bottlenecks", "/departments/health"):
        assert client.get(url).status_code == 200, url
    page = client.get(f"/milestones/{m.id}").get_data(as_text=True)
    assert ("Record progress" in page) is (role in ("secretary", "nic", "nodal"))


def test_nodal_officer_gets_404_for_another_departments_pages(app, as_user):
    today = clock.today()
    other = factories.department("pwd")
    plan = factories.plan(department=other)
    m = factories.milestone(plan=plan, today=today)
    b = factories.bottleneck(department=other)
    client = as_user(factories.user("nodal"))
    for url in ("/departments/pwd/plan", f"/milestones/{m.id}", f"/bottlenecks/{b.id}",
                "/departments/pwd/plan/versions/1", "/departments/pwd/bottlenecks/new"):
        assert client.get(url).status_code == 404, url
    assert db.session.execute(sa.select(sa.func.count()).select_from(
        sa.text("milestones"))).scalar() == 1
