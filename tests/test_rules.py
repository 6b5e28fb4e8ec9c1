"""The rules in Python and in SQL agree, on generated milestones, bottlenecks and dates.

Each example writes a few rows (flushed, never committed), asks the database for every
rule's SQL form and compares it with the Python form on the same objects; then rolls back.
Runs on whichever backend the suite runs on.
"""
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import Bottleneck, Milestone
from models.bottleneck import BOTTLENECK_STATUSES, SEVERITIES
from models.milestone import MILESTONE_STATUSES
from tests import factories
from tracker import rules
from tracker.extensions import db
from tracker.settings import Thresholds

TODAY = date(2026, 6, 15)
RULE_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

days = st.integers(min_value=-120, max_value=120)
thresholds = st.builds(
    Thresholds,
    at_risk_window_days=st.integers(0, 30),
    stale_days=st.integers(1, 60),
    sla_critical_days=st.integers(0, 10),
    sla_high_days=st.integers(0, 20),
    sla_medium_days=st.integers(0, 40),
    sla_low_days=st.integers(0, 90),
    timezone=st.sampled_from(["Asia/Kolkata", "UTC", "America/New_York"]),
)


@st.composite
def bottleneck_data(draw):
    status = draw(st.sampled_from(BOTTLENECK_STATUSES))
    raised = draw(days)
    resolved = raised + draw(st.integers(0, 90)) if status == "resolved" else None
    return dict(status=status, severity=draw(st.sampled_from(SEVERITIES)), raised=raised,
                resolved=resolved)


@st.composite
def milestone_data(draw):
    status = draw(st.sampled_from(MILESTONE_STATUSES))
    due = draw(days)
    start = draw(st.one_of(st.none(), st.integers(due - 200, due)))
    percent = 100 if status == "completed" else draw(st.integers(0, 100))
    baseline = draw(st.one_of(st.none(), st.integers(due - 90, due + 30)))
    updated_minutes = draw(st.integers(-90 * 24 * 60, 2 * 24 * 60))
    return dict(status=status, due=due, start=start, percent=percent, baseline=baseline,
                updated_minutes=updated_minutes,
                bottlenecks=draw(st.lists(bottleneck_data(), max_size=3)))


@pytest.fixture
def plan(app):
    return factories.plan(department=factories.department("rules"))


def _day(offset):
    return None if offset is None else TODAY + timedelta(days=offset)


def _add_milestones(plan, data):
    milestones = []
    for n, item in enumerate(data):
        m = Milestone(
            plan_id=plan.id, department_id=plan.department_id, code=f"R-{n}", title="r",
            category="other", status=item["status"], percent_complete=item["percent"],
            start_date=_day(item["start"]), due_date=_day(item["due"]),
            baseline_due=_day(item["baseline"]),
            completed_on=TODAY if item["status"] == "completed" else None,
            updated_at=datetime(2026, 6, 15, 12, 0) + timedelta(minutes=item["updated_minutes"]),
        )
        db.session.add(m)
        for b in item["bottlenecks"]:
            db.session.add(_bottleneck(plan.department_id, b, m))
        milestones.append(m)
    db.session.flush()
    return milestones


def _bottleneck(department_id, b, milestone=None):
    resolved = _day(b["resolved"])
    return Bottleneck(
        department_id=department_id, milestone=milestone, title="b", category="technical",
        severity=b["severity"], status=b["status"], raised_on=_day(b["raised"]),
        resolved_on=resolved,
        resolved_at=datetime(2026, 1, 1) if resolved else None,
    )


@RULE_SETTINGS
@given(data=st.lists(milestone_data(), min_size=1, max_size=4), today_offset=days, t=thresholds)
def test_milestone_rules_agree(plan, data, today_offset, t):
    today = TODAY + timedelta(days=today_offset)
    try:
        milestones = _add_milestones(plan, data)
        rows = {
            row.id: row
            for row in db.session.execute(
                sa.select(
                    Milestone.id,
                    rules.overdue_sql(today).label("overdue"),
                    rules.at_risk_sql(today, t).label("at_risk"),
                    rules.stale_sql(today, t).label("stale"),
                    rules.slipped_sql().label("slipped"),
                    rules.slipped_days_sql().label("slipped_days"),
                    rules.health_sql(today, t).label("health"),
                    *(rules.health_filter_sql(name, today, t).label(f"is_{name}")
                      for name in rules.HEALTHS),
                ).where(Milestone.plan_id == plan.id)
            )
        }
        for m in milestones:
            row = rows[m.id]
            assert bool(row.overdue) is rules.is_overdue(m, today)
            assert bool(row.at_risk) is rules.is_at_risk(m, today, t)
            assert bool(row.stale) is rules.is_stale(m, today, t)
            assert bool(row.slipped) is (rules.slipped_days(m) > 0)
            assert row.slipped_days == rules.slipped_days(m)
            assert row.health == rules.health(m, today, t)
            for name in rules.HEALTHS:
                selected = bool(getattr(row, f"is_{name}"))
                assert selected is (rules.health(m, today, t) == name), name
    finally:
        db.session.rollback()


@RULE_SETTINGS
@given(data=st.lists(bottleneck_data(), min_size=1, max_size=6), today_offset=days, t=thresholds)
def test_bottleneck_rules_agree(plan, data, today_offset, t):
    today = TODAY + timedelta(days=today_offset)
    # A bottleneck cannot be resolved after today: keep resolution dates in the past.
    data = [{**b, "resolved": min(b["resolved"], max(today_offset, b["raised"]))}
            if b["resolved"] is not None else b for b in data]
    try:
        items = [_bottleneck(plan.department_id, b) for b in data]
        db.session.add_all(items)
        db.session.flush()
        rows = {
            row.id: row
            for row in db.session.execute(
                sa.select(
                    Bottleneck.id,
                    rules.bottleneck_age_sql(today).label("age"),
                    rules.past_sla_sql(today, t).label("past_sla"),
                    rules.age_bucket_sql(today).label("bucket"),
                ).where(Bottleneck.department_id == plan.department_id)
            )
        }
        for b in items:
            row = rows[b.id]
            age = rules.bottleneck_age_days(b, today)
            assert row.age == age
            assert bool(row.past_sla) is rules.is_past_sla(b, today, t)
            assert row.bucket == rules.age_bucket(age)
    finally:
        db.session.rollback()


def test_age_buckets_have_the_documented_edges():
    assert [rules.age_bucket(n) for n in (0, 15, 16, 30, 31, 60, 61)] == [
        "0-15", "0-15", "16-30", "16-30", "31-60", "31-60", "60+"]
