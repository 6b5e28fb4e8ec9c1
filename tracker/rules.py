"""The rules of the roadmap, written once for Python and once for SQL.

Every function takes ``today`` (a local calendar date) and, where a threshold applies,
the ``Thresholds`` in force; none reads the clock or the configuration. The ``*_sql``
functions return SQLAlchemy expressions that decide the same thing inside a query, so
lists, dashboards, scans and exports stay set-based; ``tests/test_rules.py`` proves the
two versions agree on generated data.
"""
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from models import ActionItem, ActionPlan, Bottleneck, Department, DigitalAsset, Milestone
from models.bottleneck import OPEN_BOTTLENECK_STATUSES
from models.milestone import CLOSED_STATUSES
from tracker.clock import local_midnight_utc
from tracker.settings import Thresholds

SEVERE = ("high", "critical")
HEALTHS = ("overdue", "at_risk", "on_track", "done", "dropped")
HEALTH_LABELS = {
    "overdue": "Overdue",
    "at_risk": "At risk",
    "on_track": "On track",
    "done": "Done",
    "dropped": "Dropped",
}
AGE_BUCKETS = ("0-15", "16-30", "31-60", "60+")
AGE_BUCKET_LABELS = {
    "0-15": "0–15 days",
    "16-30": "16–30 days",
    "31-60": "31–60 days",
    "60+": "Over 60 days",
}
_AGE_BUCKET_UPPER = (("0-15", 15), ("16-30", 30), ("31-60", 60))


class days_between(FunctionElement):
    """``days_between(a, b)``: whole days from date ``a`` to date ``b`` (b - a), in SQL."""

    type = sa.Integer()
    name = "days_between"
    inherit_cache = True


@compiles(days_between)
def _days_between_default(element, compiler, **kw):
    a, b = list(element.clauses)
    return f"({compiler.process(b, **kw)} - {compiler.process(a, **kw)})"


@compiles(days_between, "sqlite")
def _days_between_sqlite(element, compiler, **kw):
    a, b = list(element.clauses)
    return (
        f"CAST(julianday({compiler.process(b, **kw)}) - "
        f"julianday({compiler.process(a, **kw)}) AS INTEGER)"
    )


def _d(day):
    """A date as a typed bound parameter."""
    return sa.literal(day, sa.Date)


# --- Milestones -------------------------------------------------------------------------


def is_overdue(m, today: date) -> bool:
    return m.status not in CLOSED_STATUSES and m.due_date < today


def overdue_sql(today: date):
    return sa.and_(Milestone.status.notin_(CLOSED_STATUSES), Milestone.due_date < _d(today))


def is_behind_schedule(m, today: date, t: Thresholds) -> bool:
    """Due within the window and below the straight line from start to due.

    Applies only when a start date is set and lies before the due date; compared in
    integers (percent × span < 100 × elapsed) so Python and SQL cannot round apart.
    """
    if m.start_date is None or m.due_date <= m.start_date:
        return False
    if (m.due_date - today).days > t.at_risk_window_days:
        return False
    span = (m.due_date - m.start_date).days
    elapsed = (today - m.start_date).days
    return m.percent_complete * span < 100 * elapsed


def _behind_schedule_sql(today: date, t: Thresholds):
    return sa.and_(
        Milestone.start_date.is_not(None),
        Milestone.due_date > Milestone.start_date,
        Milestone.due_date <= _d(today + timedelta(days=t.at_risk_window_days)),
        Milestone.percent_complete * days_between(Milestone.start_date, Milestone.due_date)
        < 100 * days_between(Milestone.start_date, _d(today)),
    )


def has_severe_bottleneck(m) -> bool:
    return any(
        b.status in OPEN_BOTTLENECK_STATUSES and b.severity in SEVERE for b in m.bottlenecks
    )


def _severe_bottleneck_sql():
    return (
        sa.select(Bottleneck.id)
        .where(
            Bottleneck.milestone_id == Milestone.id,
            Bottleneck.status.in_(OPEN_BOTTLENECK_STATUSES),
            Bottleneck.severity.in_(SEVERE),
        )
        .exists()
    )


def is_at_risk(m, today: date, t: Thresholds, severe_bottleneck: bool | None = None) -> bool:
    """Not overdue, still open, and blocked, or held by a high/critical bottleneck, or behind
    the straight line when due within the window. ``severe_bottleneck`` may be passed in
    when the caller already knows it (saves loading ``m.bottlenecks``)."""
    if m.status in CLOSED_STATUSES or is_overdue(m, today):
        return False
    if m.status == "blocked":
        return True
    if severe_bottleneck is None:
        severe_bottleneck = has_severe_bottleneck(m)
    return severe_bottleneck or is_behind_schedule(m, today, t)


def at_risk_sql(today: date, t: Thresholds):
    return sa.and_(
        Milestone.status.notin_(CLOSED_STATUSES),
        Milestone.due_date >= _d(today),
        sa.or_(
            Milestone.status == "blocked",
            _severe_bottleneck_sql(),
            _behind_schedule_sql(today, t),
        ),
    )


def stale_cutoff(today: date, t: Thresholds) -> datetime:
    """Updates before this naive-UTC instant are 'stale_days' or more local days old."""
    from zoneinfo import ZoneInfo

    return local_midnight_utc(today - timedelta(days=t.stale_days - 1), ZoneInfo(t.timezone))


def is_stale(m, today: date, t: Thresholds) -> bool:
    return m.status == "in_progress" and m.updated_at < stale_cutoff(today, t)


def stale_sql(today: date, t: Thresholds):
    return sa.and_(
        Milestone.status == "in_progress", Milestone.updated_at < stale_cutoff(today, t)
    )


def slipped_days(m) -> int:
    """Days the current due date lies after the baseline (0 when not slipped or no baseline)."""
    if m.baseline_due is None:
        return 0
    return max(0, (m.due_date - m.baseline_due).days)


def slipped_days_sql():
    diff = days_between(Milestone.baseline_due, Milestone.due_date)
    return sa.case((sa.and_(Milestone.baseline_due.is_not(None), diff > 0), diff), else_=0)


def slipped_sql():
    return sa.and_(Milestone.baseline_due.is_not(None), Milestone.due_date > Milestone.baseline_due)


def health(m, today: date, t: Thresholds, severe_bottleneck: bool | None = None) -> str:
    if m.status == "completed":
        return "done"
    if m.status == "dropped":
        return "dropped"
    if is_overdue(m, today):
        return "overdue"
    if is_at_risk(m, today, t, severe_bottleneck):
        return "at_risk"
    return "on_track"


def health_sql(today: date, t: Thresholds):
    return sa.case(
        (Milestone.status == "completed", "done"),
        (Milestone.status == "dropped", "dropped"),
        (overdue_sql(today), "overdue"),
        (at_risk_sql(today, t), "at_risk"),
        else_="on_track",
    )


def health_filter_sql(name: str, today: date, t: Thresholds):
    """A WHERE clause selecting milestones of one health (faster than comparing the CASE)."""
    if name == "done":
        return Milestone.status == "completed"
    if name == "dropped":
        return Milestone.status == "dropped"
    if name == "overdue":
        return overdue_sql(today)
    if name == "at_risk":
        return at_risk_sql(today, t)
    if name == "on_track":
        return sa.and_(
            Milestone.status.notin_(CLOSED_STATUSES),
            sa.not_(overdue_sql(today)),
            sa.not_(at_risk_sql(today, t)),
        )
    raise ValueError(f"unknown health {name!r}")


# --- Bottlenecks ------------------------------------------------------------------------


def bottleneck_is_open(b) -> bool:
    return b.status in OPEN_BOTTLENECK_STATUSES


def bottleneck_age_days(b, today: date) -> int:
    """Days open so far (or until it was resolved)."""
    end = b.resolved_on if b.resolved_on is not None else today
    return (end - b.raised_on).days


def bottleneck_age_sql(today: date):
    return days_between(Bottleneck.raised_on, sa.func.coalesce(Bottleneck.resolved_on, _d(today)))


def is_past_sla(b, today: date, t: Thresholds) -> bool:
    return bottleneck_is_open(b) and bottleneck_age_days(b, today) > t.sla_days(b.severity)


def past_sla_sql(today: date, t: Thresholds):
    return sa.and_(
        Bottleneck.status.in_(OPEN_BOTTLENECK_STATUSES),
        sa.or_(
            *(
                sa.and_(
                    Bottleneck.severity == severity,
                    Bottleneck.raised_on < _d(today - timedelta(days=days)),
                )
                for severity, days in t.sla_by_severity.items()
            )
        ),
    )


def age_bucket(age_days: int) -> str:
    for name, upper in _AGE_BUCKET_UPPER:
        if age_days <= upper:
            return name
    return AGE_BUCKETS[-1]


def age_bucket_sql(today: date):
    age = bottleneck_age_sql(today)
    return sa.case(*((age <= upper, name) for name, upper in _AGE_BUCKET_UPPER), else_="60+")


# --- Action items, websites, plans --------------------------------------------------------


def action_item_is_overdue(a, today: date) -> bool:
    return a.status == "open" and a.due_date < today


def action_item_overdue_sql(today: date):
    return sa.and_(ActionItem.status == "open", ActionItem.due_date < _d(today))


def action_item_days_overdue(a, today: date) -> int:
    """Days an open action item is past its due date (0 when not overdue or closed)."""
    if a.status != "open":
        return 0
    return max(0, (today - a.due_date).days)


def action_item_days_overdue_sql(today: date):
    return sa.case(
        (action_item_overdue_sql(today), days_between(ActionItem.due_date, _d(today))), else_=0
    )


def certificate_state(valid_until: date | None, today: date, t: Thresholds) -> str:
    """'missing', 'expired', 'expiring' (within the warning window) or 'ok'."""
    if valid_until is None:
        return "missing"
    if valid_until < today:
        return "expired"
    if valid_until <= today + timedelta(days=t.certificate_warning_days):
        return "expiring"
    return "ok"


def certificate_expired_sql(today: date):
    return DigitalAsset.audit_valid_until < _d(today)


def certificate_expiring_sql(today: date, t: Thresholds):
    return DigitalAsset.audit_valid_until.between(
        _d(today), _d(today + timedelta(days=t.certificate_warning_days))
    )


def website_is_stale(a, today: date, t: Thresholds) -> bool:
    return a.last_content_update is None or (
        a.last_content_update < today - timedelta(days=t.website_stale_days)
    )


def website_stale_sql(today: date, t: Thresholds):
    return sa.or_(
        DigitalAsset.last_content_update.is_(None),
        DigitalAsset.last_content_update < _d(today - timedelta(days=t.website_stale_days)),
    )


def plan_state(plan) -> str:
    """'approved', 'submitted', 'returned', 'draft' or 'missing' for a department's plan."""
    if plan is None:
        return "missing"
    return plan.status


def has_no_submitted_plan(plan) -> bool:
    """No plan, or a draft that has never been submitted."""
    return plan is None or (plan.status == "draft" and plan.current_version == 0)


def no_submitted_plan_sql():
    """Over Department: true when the department has no plan ever submitted."""
    submitted = (
        sa.select(ActionPlan.id)
        .where(
            ActionPlan.department_id == Department.id,
            sa.or_(ActionPlan.status != "draft", ActionPlan.current_version > 0),
        )
        .exists()
    )
    return sa.and_(Department.active.is_(True), sa.not_(submitted))


def escalation_level(days_open: int, t: Thresholds) -> str:
    """Who an overdue item has reached: the department on day 0, NIC after
    ``escalate_to_nic_days``, the Secretary after ``escalate_to_secretary_days``."""
    if days_open >= t.escalate_to_secretary_days:
        return "secretary"
    if days_open >= t.escalate_to_nic_days:
        return "nic"
    return "department"
