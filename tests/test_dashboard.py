"""The dashboard's aggregate queries and charts against known data (tracker.queries.overview,
views.charts), and the rules added for them (Python and SQL forms agree)."""
from collections import Counter
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from models import ActionPlan, Department, DigitalAsset, Milestone
from tests import dashboard_data, factories
from tracker import clock, rules
from views import charts
from tracker.queries import overview as dash
from tracker.extensions import db
from tracker.settings import thresholds


@pytest.fixture
def known(app):
    today = clock.today()
    with app.test_request_context():  # the charts' labels are translated per request
        yield today, dashboard_data.build(today)


def _link(**kw):
    return "/records?" + "&".join(f"{k}={v}" for k, v in sorted(kw.items()))


def test_milestone_stats_by_department(known):
    today, k = known
    stats = dash.milestone_stats(dash.Filters(), today, thresholds())
    h = stats[k.health.id]
    assert h.counts == {"overdue": 2, "at_risk": 1, "on_track": 1, "done": 2, "dropped": 1}
    assert (h.stale, h.on_time, h.due_so_far) == (1, 1, 4)
    assert h.on_time_rate == 25.0
    assert (h.slip_days, h.slip_count, h.average_slippage) == (47, 6, 7.8)
    p = stats[k.pwd.id]
    assert p.counts == {"overdue": 0, "at_risk": 1, "on_track": 1, "done": 0, "dropped": 0}
    assert p.on_time_rate is None
    assert k.rural.id not in stats


def test_stats_agree_with_the_python_rules(known):
    today, k = known
    t = thresholds()
    stats = dash.milestone_stats(dash.Filters(), today, t)
    for dept in (k.health, k.pwd):
        ms = db.session.execute(sa.select(Milestone).filter_by(department_id=dept.id)).scalars().all()
        expected = Counter(rules.health(m, today, t) for m in ms)
        assert {h: n for h, n in stats[dept.id].counts.items() if n} == dict(expected)
        assert stats[dept.id].stale == sum(rules.is_stale(m, today, t) for m in ms)
        assert stats[dept.id].on_time == sum(rules.completed_on_time(m) for m in ms)
        assert stats[dept.id].due_so_far == sum(rules.is_due_so_far(m, today) for m in ms)
        assert stats[dept.id].slip_days == sum(
            rules.slipped_days(m) for m in ms if rules.counts_for_slippage(m))


def test_filters_narrow_milestones(known):
    today, k = known
    t = thresholds()
    by_dept = dash.milestone_stats(
        dash.Filters(department=None, department_ids=frozenset({k.pwd.id})), today, t)
    assert set(by_dept) == {k.pwd.id}
    by_category = dash.milestone_stats(dash.Filters(category="website_update"), today, t)
    assert by_category[k.health.id].counts["on_track"] == 1
    assert by_category[k.health.id].total == 1 and k.pwd.id not in by_category
    # Period: milestones due in it (the overdue ones and m2, due in the last week).
    week = dash.Filters(period="custom", start=today - timedelta(days=7), end=today)
    counts = dash.milestone_stats(week, today, t)[k.health.id].counts
    assert counts == {"overdue": 2, "at_risk": 0, "on_track": 0, "done": 2, "dropped": 0}


def test_departments_plans_and_worst_first(known):
    today, k = known
    depts = dash.departments_with_plans()
    assert [(d.code, d.plan_state) for d in depts] == [
        ("health", "approved"), ("pwd", "submitted"), ("rural", "missing")]
    assert dash.plan_counts(depts) == {"approved": 1, "submitted": 1, "returned": 0,
                                       "draft": 0, "missing": 1}
    stats = dash.milestone_stats(dash.Filters(), today, thresholds())
    assert [d.code for d in dash.health_order(depts, stats)] == ["health", "pwd", "rural"]


def test_bottleneck_buckets_and_medians(known):
    today, k = known
    b = dash.bottleneck_stats(dash.Filters(), today)
    assert b.by_severity == {"low": 1, "medium": 1, "high": 1, "critical": 1}
    assert b.buckets["0-15"]["high"] == 1
    assert b.buckets["16-30"]["medium"] == 1
    assert b.buckets["31-60"]["low"] == 1
    assert b.buckets["60+"]["critical"] == 1
    assert b.median_age == {"low": 45, "medium": 20, "high": 3, "critical": 70}
    assert b.overall_median_age == 32.5
    assert dash.open_bottlenecks_over_30(dash.Filters(), today) == {k.health.id: 2}
    # Category: only bottlenecks holding up a milestone of that category.
    only = dash.bottleneck_stats(dash.Filters(category="service_integration"), today)
    assert only.by_severity == {"low": 0, "medium": 1, "high": 1, "critical": 0}


def test_median_of_a_histogram():
    assert dash._median({}) is None
    assert dash._median({5: 1}) == 5
    assert dash._median({1: 1, 3: 1}) == 2
    assert dash._median({1: 2, 10: 1}) == 1
    assert dash._median({2: 1, 4: 2, 9: 1}) == 4


def test_services_and_certificates(known):
    today, k = known
    services = dash.psga_services(dash.Filters())
    assert services[k.health.id] == {"offline": 1, "online_standalone": 1, "integrated": 1}
    totals = dash.service_totals(services, dash.departments_with_plans())
    assert (totals["notified"], totals["online"], totals["integrated"]) == (4, 3, 2)
    assert (totals["online_pct"], totals["integrated_pct"]) == (75.0, 50.0)
    certs = dash.certificates(dash.Filters(), today, thresholds())
    assert certs == {k.health.id: {"expired": 1, "expiring": 1}}


def test_progress_by_month_from_the_update_history(known):
    today, k = known
    months = dash.progress(dash.Filters(), today, thresholds())
    assert len(months) == dash.PROGRESS_MONTHS_BACK + dash.PROGRESS_MONTHS_AHEAD + 1
    done = {m.key: m.done for m in months if m.done}
    expected = Counter((today - timedelta(days=n)).strftime("%Y-%m") for n in (10, 3))
    assert done == dict(expected)
    planned_dates = [today + timedelta(days=n) for n in (-5, -20, -4, -30, 40, 60, 20, 90)]
    assert {m.key: m.planned for m in months if m.planned} == dict(
        Counter(day.strftime("%Y-%m") for day in planned_dates))
    assert months[-1].planned_cumulative == 8 and months[-1].done_cumulative == 2


def test_timeline_is_bounded_and_counts_all_open(known):
    today, k = known
    rows, total = dash.timeline(dash.Filters(), today, thresholds(), limit=3)
    assert total == 6  # m3, m4, m5, m6, m8, m9
    assert [r.code for r in rows] == ["M3", "M4", "M8"]
    assert rows[1].slipped == 29 and rows[1].health == "overdue"


def test_scorecard_is_ranked_worst_first(known):
    today, k = known
    t = thresholds()
    depts = dash.departments_with_plans()
    card = dash.scorecard(depts, dash.milestone_stats(dash.Filters(), today, t),
                          dash.open_bottlenecks_over_30(dash.Filters(), today),
                          dash.certificates(dash.Filters(), today, t))
    assert [(r.rank, r.department.code) for r in card] == [(1, "health"), (2, "pwd"), (3, "rural")]
    top = card[0]
    assert (top.on_time_rate, top.average_slippage, top.stale, top.bottlenecks_over_30,
            top.certificates_expired, top.certificates_expiring) == (25.0, 7.8, 1, 2, 1, 1)


def test_health_chart_figure_and_table(known):
    today, k = known
    ov = dash.overview(dash.departments_with_plans(), dash.Filters(), today, thresholds())
    chart = charts.health_chart(ov, _link)
    overdue = dashboard_data.trace(chart.figure, "Overdue")
    assert overdue["y"] == ["Health", "Public Works", "Rural Development"]
    assert overdue["x"] == [2, 0, 0]
    assert overdue["customdata"][0] == _link(department="health", health="overdue")
    assert overdue["marker"]["pattern"]["shape"] == "x"
    assert dashboard_data.trace(chart.figure, "At risk")["x"] == [1, 1, 0]
    assert chart.figure["layout"]["barmode"] == "stack"
    assert chart.figure["layout"]["xaxis"]["title"]["text"] == "Milestones"
    assert chart.figure["layout"]["title"]["text"].startswith("Milestone health")
    patterns = {t["marker"]["pattern"]["shape"] for t in chart.figure["data"]}
    assert len(patterns) == len(chart.figure["data"])  # a pattern of its own for each health
    first = [c.shown for c in chart.table.rows[0]]
    assert first == ["Health", 2, 1, 1, 2, 1, 7]


def test_timeline_chart_has_baseline_current_and_today(known):
    today, k = known
    ov = dash.overview(dash.departments_with_plans(), dash.Filters(), today, thresholds())
    chart = charts.build("timeline", ov, _link, {k.health.id: "Health", k.pwd.id: "Public Works"})
    names = [t["name"] for t in chart.figure["data"]]
    assert names[0] == "Baseline (approved) due date"
    assert "Current due date: Overdue" in names
    baseline = chart.figure["data"][0]
    assert "M4 · Health" in baseline["y"]
    shape = chart.figure["layout"]["shapes"][0]
    assert shape["x0"] == today.isoformat() and shape["type"] == "line"
    assert "Showing 6 of 6" in chart.note


def test_figure_json_cannot_close_its_script_block():
    chart = charts.Chart("x", "t", {"data": [{"name": "</script><script>alert(1)</script>"}]},
                         charts.Table("c", []))
    assert "</script>" not in chart.figure_json
    assert "\\u003c/script\\u003e" in chart.figure_json


def test_period_ranges():
    today = date(2026, 11, 29)
    assert dash.period_range("", today) == (None, None)
    assert dash.period_range("this_month", today) == (date(2026, 11, 1), date(2026, 11, 30))
    assert dash.period_range("this_quarter", today) == (date(2026, 10, 1), date(2026, 12, 31))
    assert dash.period_range("this_fy", today) == (date(2026, 4, 1), date(2027, 3, 31))
    assert dash.period_range("last_fy", date(2026, 2, 1)) == (date(2024, 4, 1), date(2025, 3, 31))
    assert dash.period_range("last_12_months", today) == (date(2025, 12, 1), date(2026, 11, 30))
    assert dash.period_range("next_90_days", today) == (today, today + timedelta(days=89))
    with pytest.raises(ValueError):
        dash.period_range("someday", today)


# --- The rules added for the dashboards: the Python and SQL forms agree -----------------------


def test_new_milestone_rules_agree_in_python_and_sql(app):
    today = date(2026, 6, 15)
    t = thresholds()
    plan = factories.plan(status="approved")
    d = timedelta
    cases = [
        dict(status="completed", completed_on=today - d(5), baseline_due=today - d(5), due_date=today),
        dict(status="completed", completed_on=today - d(4), baseline_due=today - d(5), due_date=today),
        dict(status="completed", completed_on=today - d(4), baseline_due=None, due_date=today - d(5)),
        dict(status="in_progress", due_date=today - d(1)),
        dict(status="in_progress", due_date=today),
        dict(status="not_started", due_date=today + d(30)),
        dict(status="not_started", due_date=today + d(31)),
        dict(status="dropped", due_date=today + d(3)),
        dict(status="dropped", due_date=today - d(3), baseline_due=today - d(9)),
    ]
    for kw in cases:
        factories.milestone(plan=plan, today=today, start_date=today - d(60), commit=False, **kw)
    db.session.commit()
    rows = db.session.execute(sa.select(
        Milestone,
        rules.completed_on_time_sql(),
        rules.due_so_far_sql(today),
        rules.due_soon_sql(today, 30),
        rules.counts_for_slippage_sql(),
    ).order_by(Milestone.id)).all()
    assert len(rows) == len(cases)
    for m, on_time, due_so_far, due_soon, counted in rows:
        assert bool(on_time) == rules.completed_on_time(m), m.code
        assert bool(due_so_far) == rules.is_due_so_far(m, today), m.code
        assert bool(due_soon) == rules.is_due_soon(m, today, 30), m.code
        assert bool(counted) == rules.counts_for_slippage(m), m.code
    assert [bool(r[1]) for r in rows][:3] == [True, False, False]
    assert [bool(r[3]) for r in rows][3:8] == [False, True, True, False, False]


def test_certificate_and_plan_state_sql_agree(app):
    today = date(2026, 6, 15)
    t = thresholds()
    dept = factories.department("cert")
    for until in (None, today - timedelta(days=1), today, today + timedelta(days=30),
                  today + timedelta(days=31)):
        factories.asset(department=dept, audit_valid_until=until, commit=False)
    factories.plan(department=factories.department("planned", commit=False), status="returned",
                   commit=False)
    db.session.commit()
    for asset, state in db.session.execute(
            sa.select(DigitalAsset, rules.certificate_state_sql(DigitalAsset.audit_valid_until, today, t))).all():
        assert state == rules.certificate_state(asset.audit_valid_until, today, t)
    states = dict(db.session.execute(
        sa.select(Department.code, rules.plan_state_sql())
        .outerjoin(ActionPlan, ActionPlan.department_id == Department.id)).all())
    assert states == {"cert": "missing", "planned": "returned"}


def test_every_figure_is_valid_plotly(known):
    """The charts are built unvalidated for speed; here Plotly checks every property."""
    import plotly.graph_objects as go

    today, k = known
    ov = dash.overview(dash.departments_with_plans(), dash.Filters(), today, thresholds())
    names = {d.id: d.name for d in ov.departments}
    for name in dash.SECTIONS:
        chart = charts.build(name, ov, _link, names)
        go.Figure(chart.figure)  # raises ValueError on an unknown or invalid property
        assert chart.figure["layout"]["title"]["text"] == chart.title
