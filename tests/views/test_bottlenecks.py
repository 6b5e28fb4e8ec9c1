from datetime import timedelta

import pytest

from tests import factories
from tracker import clock


@pytest.fixture
def data(app):
    today = clock.today()
    health = factories.department("health", name="Health Dept")
    pwd = factories.department("pwd", name="Works Dept")
    factories.bottleneck(department=health, title="Fresh funds", category="funds",
                         severity="low", raised_on=today - timedelta(days=2))
    factories.bottleneck(department=health, title="Old vendor", category="vendor",
                         severity="critical", raised_on=today - timedelta(days=70))
    factories.bottleneck(department=pwd, title="Middle approval", category="approval",
                         severity="high", raised_on=today - timedelta(days=20), status="escalated")
    factories.bottleneck(department=pwd, title="Closed manpower", category="manpower",
                         severity="medium", raised_on=today - timedelta(days=40),
                         status="resolved", resolved_on=today - timedelta(days=35))
    return health, pwd


def titles(html):
    order = ["Fresh funds", "Old vendor", "Middle approval", "Closed manpower"]
    return sorted((t for t in order if t in html), key=html.index)


def test_list_defaults_to_open_ones_and_filters_and_sorts_by_age(data, as_user):
    client = as_user(factories.user("secretary"))
    html = client.get("/bottlenecks").get_data(as_text=True)
    # Open and escalated ones by default, oldest first.
    assert titles(html) == ["Old vendor", "Middle approval", "Fresh funds"]
    assert 'aria-sort="descending"' in html
    # Age of a resolved bottleneck stops at its resolution: 5 days for "Closed manpower".
    assert titles(client.get("/bottlenecks?status=all").get_data(as_text=True)) == [
        "Old vendor", "Middle approval", "Closed manpower", "Fresh funds"]
    html = client.get("/bottlenecks?status=all&sort=newest").get_data(as_text=True)
    assert titles(html) == ["Fresh funds", "Closed manpower", "Middle approval", "Old vendor"]
    assert titles(client.get("/bottlenecks?status=all&sort=age").get_data(as_text=True)) == [
        "Fresh funds", "Closed manpower", "Middle approval", "Old vendor"]
    assert titles(client.get("/bottlenecks?department=pwd&status=all").get_data(as_text=True)) == [
        "Middle approval", "Closed manpower"]
    assert titles(client.get("/bottlenecks?severity=critical").get_data(as_text=True)) == [
        "Old vendor"]
    assert titles(client.get("/bottlenecks?category=approval").get_data(as_text=True)) == [
        "Middle approval"]
    assert titles(client.get("/bottlenecks?status=unresolved").get_data(as_text=True)) == [
        "Old vendor", "Middle approval", "Fresh funds"]
    assert titles(client.get("/bottlenecks?status=resolved").get_data(as_text=True)) == [
        "Closed manpower"]
    assert titles(client.get("/bottlenecks?age=60%2B").get_data(as_text=True)) == ["Old vendor"]
    assert titles(client.get("/bottlenecks?age=16-30").get_data(as_text=True)) == [
        "Middle approval"]
    # Past its time limit: critical 70 days, high 20 days; the low one (2 days) is within.
    assert titles(client.get("/bottlenecks?sla=past").get_data(as_text=True)) == [
        "Old vendor", "Middle approval"]
    assert titles(client.get("/bottlenecks?sla=within").get_data(as_text=True)) == [
        "Fresh funds"]
    # Age and SLA from the rules: 70 days, critical → past SLA; 2 days, low → within.
    html = client.get("/bottlenecks?department=health").get_data(as_text=True)
    old_row = html.split("Old vendor")[1].split("</tr>")[0]
    assert ">70<" in old_row and "Over 60 days" in old_row and "Past its time limit" in old_row
    fresh_row = html.split("Fresh funds")[1].split("</tr>")[0]
    assert "Within its time limit" in fresh_row and "0–15 days" in fresh_row


def test_column_headers_sort_and_keep_the_filters(data, as_user):
    client = as_user(factories.user("secretary"))
    html = client.get("/bottlenecks?department=health&sla=past").get_data(as_text=True)
    # The Severity header links to the same filters, sorted by severity (most severe first).
    assert 'href="/bottlenecks?department=health&amp;sla=past&amp;sort=-severity"' in html
    # The current column (age, oldest first) links to the other direction.
    assert 'href="/bottlenecks?department=health&amp;sla=past&amp;sort=age"' in html
    html = client.get("/bottlenecks?status=all&sort=title").get_data(as_text=True)
    assert titles(html) == ["Closed manpower", "Fresh funds", "Middle approval", "Old vendor"]
    assert html.count('aria-sort="ascending"') == 1
    assert '<input type="hidden" name="sort" value="title">' in html
    html = client.get("/bottlenecks?status=all&sort=-severity").get_data(as_text=True)
    assert titles(html)[:2] == ["Old vendor", "Middle approval"]
    # A sort that is not a column falls back quietly to the default.
    for bad in ("password", "-", "age;drop", "--age"):
        response = client.get(f"/bottlenecks?sort={bad}")
        assert response.status_code == 200
        assert titles(response.get_data(as_text=True)) == ["Old vendor", "Middle approval",
                                                           "Fresh funds"]


def test_pager_keeps_filters_and_sort(app, as_user):
    from views import bottlenecks

    today = clock.today()
    dept = factories.department("health")
    for i in range(bottlenecks.PAGE_SIZE + 5):
        factories.bottleneck(department=dept, title=f"B{i:03}", severity="low",
                             raised_on=today - timedelta(days=1), commit=False)
    from tracker.extensions import db
    db.session.commit()
    client = as_user(factories.user("secretary"))
    html = client.get("/bottlenecks?severity=low&sort=title").get_data(as_text=True)
    assert 'href="/bottlenecks?page=2&amp;severity=low&amp;sort=title"' in html
    page2 = client.get("/bottlenecks?page=2&severity=low&sort=title").get_data(as_text=True)
    assert "B104" in page2 and "B000" not in page2


def test_nodal_officer_sees_only_their_department(data, as_user):
    health, pwd = data
    client = as_user(factories.user("nodal", department=health))
    html = client.get("/bottlenecks").get_data(as_text=True)
    assert titles(html) == ["Old vendor", "Fresh funds"]
    assert titles(client.get("/bottlenecks?department=pwd").get_data(as_text=True)) == []


def test_list_runs_a_fixed_number_of_queries(data, as_user, count_queries):
    health, _ = data
    client = as_user(factories.user("secretary"))

    def count():
        client.get("/bottlenecks")
        with count_queries() as statements:
            assert client.get("/bottlenecks").status_code == 200
        return len(statements)

    few = count()
    plan = factories.plan(department=health, commit=False)
    for n in range(20):
        factories.bottleneck(department=health, milestone=factories.milestone(
            plan=plan, commit=False) if n % 2 else None, commit=False)
    from tracker.extensions import db
    db.session.commit()
    assert count() == few


def test_raise_form_keeps_input_and_shows_errors(data, as_user):
    health, _ = data
    client = as_user(factories.user("nodal", department=health))
    r = client.post("/departments/health/bottlenecks/new", data={
        "title": "", "description": "Server not delivered", "category": "technical",
        "severity": "high", "milestone_id": "None"})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "Server not delivered" in html and 'id="title-error"' in html


def test_raising_on_a_milestone_takes_the_milestone_from_the_address(data, as_user):
    """The milestone's own raise page has no milestone field: the form as the page sends it
    is accepted and the bottleneck is tied to that milestone."""
    from models import Bottleneck
    from tracker.extensions import db

    health, _ = data
    m = factories.milestone(plan=factories.plan(department=health), title="Birth records")
    client = as_user(factories.user("nodal", department=health))
    page = client.get(f"/milestones/{m.id}/bottlenecks/new").get_data(as_text=True)
    assert 'name="milestone_id"' not in page
    r = client.post(f"/milestones/{m.id}/bottlenecks/new", data={
        "title": "Contract unsigned", "category": "vendor", "severity": "high"})
    assert r.status_code == 303
    made = db.session.execute(db.select(Bottleneck).filter_by(title="Contract unsigned")).scalar()
    assert made.milestone_id == m.id and made.department_id == health.id
