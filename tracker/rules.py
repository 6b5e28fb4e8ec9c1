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
AGE_BUCKETS = ("0-15", "16-30", "31-60", "60+")
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


def open_sql():
    """Not completed and not dropped. The closed statuses are written into the SQL as
    literals (not bound parameters), so the planner can match the partial index
    ``ix_milestones_open_due`` (SQLite uses a partial index only when the query's WHERE
    implies the index's, which it cannot prove of a parameter)."""
    return Milestone.status.notin_(
        sa.bindparam("closed_statuses", list(CLOSED_STATUSES), expanding=True, unique=True,
                     literal_execute=True))


def overdue_sql(today: date):
    return sa.and_(open_sql(), Milestone.due_date < _d(today))


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
        open_sql(),
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
            open_sql(),
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


def action_item_overdue_sql(today: date):
    return sa.and_(ActionItem.status == "open", ActionItem.due_date < _d(today))


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


# --- The website and app register: plain-language compliance states ---------------------
#
# Each column of the compliance table has a state among ``COMPLIANCE_STATES``; the Python
# functions answer for one asset, the ``*_sql`` ones give the same CASE inside a query.

COMPLIANCE_STATES = ("ok", "expiring", "expired", "missing")


def certificate_state_sql(column, today: date, t: Thresholds):
    """SQL twin of ``certificate_state`` over any date column holding a 'valid until'."""
    return sa.case(
        (column.is_(None), "missing"),
        (column < _d(today), "expired"),
        (column <= _d(today + timedelta(days=t.certificate_warning_days)), "expiring"),
        else_="ok",
    )


def accessibility_valid_until(audited_on: date | None, t: Thresholds) -> date | None:
    """An accessibility audit holds for ``accessibility_audit_valid_days`` after it was made."""
    if audited_on is None:
        return None
    return audited_on + timedelta(days=t.accessibility_audit_valid_days)


def accessibility_state(audited_on: date | None, today: date, t: Thresholds) -> str:
    """'missing' (never audited), 'expired', 'expiring' or 'ok', like a certificate."""
    return certificate_state(accessibility_valid_until(audited_on, t), today, t)


def accessibility_state_sql(today: date, t: Thresholds):
    """SQL twin of ``accessibility_state``: the audit date compared with shifted bounds."""
    col = DigitalAsset.accessibility_audit_on
    valid = t.accessibility_audit_valid_days
    return sa.case(
        (col.is_(None), "missing"),
        (col < _d(today - timedelta(days=valid)), "expired"),
        (col <= _d(today + timedelta(days=t.certificate_warning_days - valid)), "expiring"),
        else_="ok",
    )


def content_state(a, today: date, t: Thresholds) -> str:
    """'missing' (no content update recorded), 'expired' (stale, see ``website_is_stale``)
    or 'ok'."""
    if a.last_content_update is None:
        return "missing"
    return "expired" if website_is_stale(a, today, t) else "ok"


def content_state_sql(today: date, t: Thresholds):
    return sa.case(
        (DigitalAsset.last_content_update.is_(None), "missing"),
        (website_stale_sql(today, t), "expired"),
        else_="ok",
    )


def flag_state(value: bool) -> str:
    """A yes/no requirement (HTTPS, portal integration): 'ok' or 'missing'."""
    return "ok" if value else "missing"


def flag_state_sql(column):
    return sa.case((column.is_(True), "ok"), else_="missing")


def check_state(a) -> str:
    """The latest health check: 'ok', 'down' or 'not_checked'."""
    if a.last_check_at is None or a.last_check_ok is None:
        return "not_checked"
    return "ok" if a.last_check_ok else "down"


def check_state_sql():
    return sa.case(
        (sa.or_(DigitalAsset.last_check_at.is_(None), DigitalAsset.last_check_ok.is_(None)),
         "not_checked"),
        (DigitalAsset.last_check_ok.is_(True), "ok"),
        else_="down",
    )


def website_is_down(latest_checks) -> bool:
    """Down: the two latest health checks (newest first) both failed."""
    latest = list(latest_checks)[:2]
    return len(latest) == 2 and not any(c.ok for c in latest)


def website_down_sql():
    """Over DigitalAsset: true when its two latest health checks both failed."""
    from models import HealthCheck

    def nth_latest_ok(n):
        return (
            sa.select(HealthCheck.ok)
            .where(HealthCheck.asset_id == DigitalAsset.id)
            .order_by(HealthCheck.checked_at.desc(), HealthCheck.id.desc())
            .offset(n)
            .limit(1)
            .correlate(DigitalAsset)
            .scalar_subquery()
        )

    return sa.and_(nth_latest_ok(0).is_(False), nth_latest_ok(1).is_(False))


# --- The service register ---------------------------------------------------------------

ONLINE_MODES = ("online_standalone", "integrated")


def service_is_online(s) -> bool:
    """Online: delivered online, standalone or integrated into the portal."""
    return s.delivery_mode in ONLINE_MODES


def service_online_sql():
    from models import Service

    return Service.delivery_mode.in_(ONLINE_MODES)


def service_is_integrated(s) -> bool:
    return s.delivery_mode == "integrated"


def service_integrated_sql():
    from models import Service

    return Service.delivery_mode == "integrated"

# --- Dashboard measures (added for the dashboards) --------------------------------------


def plan_state_sql():
    """Over Department outer-joined to ActionPlan: the plan's status, or 'missing'."""
    return sa.func.coalesce(sa.cast(ActionPlan.status, sa.String), "missing", type_=sa.String)


def is_due_soon(m, today: date, days: int) -> bool:
    """Still open and due between today and ``days`` days from now (inclusive)."""
    return m.status not in CLOSED_STATUSES and today <= m.due_date <= today + timedelta(days=days)


def due_soon_sql(today: date, days: int):
    return sa.and_(
        open_sql(),
        Milestone.due_date.between(_d(today), _d(today + timedelta(days=days))),
    )


def is_due_so_far(m, today: date) -> bool:
    """Counts towards the on-time rate: completed, or open and overdue."""
    return m.status == "completed" or is_overdue(m, today)


def due_so_far_sql(today: date):
    return sa.or_(Milestone.status == "completed", overdue_sql(today))


def completed_on_time(m) -> bool:
    """Completed on or before the date first committed to (the baseline, else the due date)."""
    if m.status != "completed" or m.completed_on is None:
        return False
    committed = m.baseline_due if m.baseline_due is not None else m.due_date
    return m.completed_on <= committed


def completed_on_time_sql():
    return sa.and_(
        Milestone.status == "completed",
        Milestone.completed_on.is_not(None),
        Milestone.completed_on <= sa.func.coalesce(Milestone.baseline_due, Milestone.due_date),
    )


def counts_for_slippage(m) -> bool:
    """Slippage is averaged over milestones with a baseline that are not dropped."""
    return m.baseline_due is not None and m.status != "dropped"


def counts_for_slippage_sql():
    return sa.and_(Milestone.baseline_due.is_not(None), Milestone.status != "dropped")


def escalation_level_sql(days_open, t: Thresholds):
    """``escalation_level`` in SQL over an integer expression of days open."""
    return sa.case(
        (days_open >= t.escalate_to_secretary_days, "secretary"),
        (days_open >= t.escalate_to_nic_days, "nic"),
        else_="department",
    )


# --- Overdue days and the escalation ladder ---------------------------------------------


def overdue_day(due_date: date, today: date) -> int:
    """Day N of being overdue: 0 on the first day after the due date, 7 a week later.
    Negative while not yet overdue. The escalation ladder counts these days."""
    return (today - due_date).days - 1


def overdue_day_sql(due_date_column, today: date):
    return days_between(due_date_column, _d(today)) - 1


def overdue_escalation(due_date: date, today: date, t: Thresholds) -> str:
    """Who an overdue milestone or action item has reached: the department (nodal officer)
    from day 0, NIC from day ``escalate_to_nic_days``, the Secretary from day
    ``escalate_to_secretary_days`` (and from then on the next review meeting's agenda)."""
    return escalation_level(overdue_day(due_date, today), t)


def overdue_escalation_sql(due_date_column, today: date, t: Thresholds):
    return escalation_level_sql(overdue_day_sql(due_date_column, today), t)


# A bottleneck past its SLA goes straight to the Secretary's next review agenda.
PAST_SLA_ESCALATION = "secretary"


# --- Flag severity --------------------------------------------------------------------------

# The severity of a flag of each kind whose severity does not depend on its subject.
FLAG_SEVERITY = {
    "milestone_at_risk": "warning",
    "milestone_stale": "info",
    "certificate_expiring": "warning",
    "certificate_expired": "critical",
    "website_stale": "info",
    "website_down": "critical",
    "website_no_https": "warning",
    "no_submitted_plan": "warning",
    "predecessor_at_risk": "warning",
    "forecast_to_slip": "warning",
}


def overdue_flag_severity_sql(escalation_expr):
    return sa.case((escalation_expr == "secretary", "critical"), else_="warning")


def past_sla_flag_severity_sql():
    return sa.case((Bottleneck.severity.in_(SEVERE), "critical"), else_="warning")


# --- Website health (from the health checks) -------------------------------------------------

# The assets whose pages the website flags (stale, down, no HTTPS) look at; mobile apps are
# judged by their store listing, not a page of ours.
WEBSITE_KINDS = ("website", "web_app")


def website_no_https_sql():
    from models import HealthCheck

    latest_final_url = (
        sa.select(HealthCheck.final_url)
        .where(HealthCheck.asset_id == DigitalAsset.id)
        .order_by(HealthCheck.checked_at.desc(), HealthCheck.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return sa.or_(
        DigitalAsset.https.is_(False),
        sa.func.lower(sa.func.coalesce(latest_final_url, "https://")).not_like("https://%"),
    )


# --- Who a flag reaches (the daily digest) -------------------------------------------------

# Reported weekly by the plan reminder instead of every day in the digest.
WEEKLY_FLAG_KINDS = ("no_submitted_plan",)


def flag_reaches(user, flag) -> bool:
    """The nodal officer gets every open flag of their department; NIC the flags escalated
    to NIC (and beyond); the Secretary the flags escalated to the Secretary."""
    if not user.active or flag.cleared_at is not None:
        return False
    if user.role == "nodal":
        return flag.department_id == user.department_id
    if user.role == "nic":
        return flag.escalation in ("nic", "secretary")
    if user.role == "secretary":
        return flag.escalation == "secretary"
    return False


def flag_reaches_sql():
    """``flag_reaches`` over User and Flag, for a join."""
    from models import Flag, User

    return sa.and_(
        User.active.is_(True),
        Flag.cleared_at.is_(None),
        sa.or_(
            sa.and_(User.role == "nodal", User.department_id == Flag.department_id),
            sa.and_(User.role == "nic", Flag.escalation.in_(("nic", "secretary"))),
            sa.and_(User.role == "secretary", Flag.escalation == "secretary"),
        ),
    )


# --- Dependencies and forecasts ---------------------------------------------------------------
#
# Finish-to-start: a successor should not start before its predecessors have finished. A
# milestone's "start" is its start date; a milestone without one is judged against its due
# date (the latest its predecessors may finish for it to finish on time).


def dependency_start(m) -> date:
    """The date by which the predecessors of ``m`` must have finished."""
    return m.start_date if m.start_date is not None else m.due_date


def holds_up(p, m, today: date, p_forecast: date | None = None) -> bool:
    """The predecessor ``p`` puts its successor ``m`` at risk: ``p`` is still open and is
    overdue, or is due (or forecast, ``p_forecast``) to finish after ``m``'s start."""
    start = dependency_start(m)
    return p.status not in CLOSED_STATUSES and (
        p.due_date < today or p.due_date > start
        or (p_forecast is not None and p_forecast > start))


def predecessor_at_risk(m, predecessors, today: date, forecasts=None):
    """The predecessor that puts the open milestone ``m`` at risk (the earliest due, then by
    code), or None. ``predecessors``: the milestones ``m`` waits for; ``forecasts``: their
    forecast finish by id (as the scan stored them), where known."""
    if m.status in CLOSED_STATUSES:
        return None
    forecasts = forecasts or {}
    risky = sorted((p for p in predecessors if holds_up(p, m, today, forecasts.get(p.id))),
                   key=lambda p: (p.due_date, p.code, p.id))
    return risky[0] if risky else None


def _risky_predecessors(today: date):
    from sqlalchemy.orm import aliased

    from models import MilestoneDependency, MilestoneForecast

    p = aliased(Milestone, name="predecessor")
    start = sa.func.coalesce(Milestone.start_date, Milestone.due_date)
    forecast_after = (sa.select(MilestoneForecast.milestone_id)
                      .where(MilestoneForecast.milestone_id == p.id,
                             MilestoneForecast.forecast_on > start)
                      .correlate(p, Milestone).exists())
    q = (sa.select(p)
         .join(MilestoneDependency, MilestoneDependency.predecessor_id == p.id)
         .where(MilestoneDependency.successor_id == Milestone.id,
                p.status.notin_(CLOSED_STATUSES),
                sa.or_(p.due_date < _d(today), p.due_date > start, forecast_after))
         .correlate(Milestone))
    return p, q


def predecessor_at_risk_sql(today: date):
    """Over Milestone: ``predecessor_at_risk`` is not None."""
    _p, q = _risky_predecessors(today)
    return sa.and_(open_sql(), q.with_only_columns(sa.literal(1)).exists())


def predecessor_at_risk_id_sql(today: date):
    """Over Milestone: the id of the predecessor ``predecessor_at_risk`` names."""
    p, q = _risky_predecessors(today)
    return (q.with_only_columns(p.id).order_by(p.due_date, p.code, p.id).limit(1)
            .scalar_subquery())


def predecessor_at_risk_label_sql(today: date):
    """Over Milestone: "CODE · Title" of the predecessor ``predecessor_at_risk`` names."""
    p, q = _risky_predecessors(today)
    return (q.with_only_columns(p.code + " · " + p.title).order_by(p.due_date, p.code, p.id)
            .limit(1).scalar_subquery())


def is_forecast_to_slip(m, forecast_on: date | None, today: date, t: Thresholds) -> bool:
    """Open, not yet due (the flag warns before the due date), and forecast to finish more
    than ``forecast_margin_days`` after it."""
    return (m.status not in CLOSED_STATUSES and forecast_on is not None
            and m.due_date >= today
            and (forecast_on - m.due_date).days > t.forecast_margin_days)


def forecast_on_sql():
    """Over Milestone: its forecast as the latest scan stored it (None when there is none)."""
    from models import MilestoneForecast

    return (sa.select(MilestoneForecast.forecast_on)
            .where(MilestoneForecast.milestone_id == Milestone.id)
            .correlate(Milestone).scalar_subquery())


def forecast_to_slip_sql(today: date, t: Thresholds):
    from models import MilestoneForecast

    slips = (sa.select(MilestoneForecast.milestone_id)
             .where(MilestoneForecast.milestone_id == Milestone.id,
                    days_between(Milestone.due_date, MilestoneForecast.forecast_on)
                    > t.forecast_margin_days)
             .correlate(Milestone).exists())
    return sa.and_(open_sql(), Milestone.due_date >= _d(today), slips)
