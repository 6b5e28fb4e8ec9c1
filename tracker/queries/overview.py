"""The dashboards' figures: filters, and the aggregate queries behind every tile, chart and
table.

Every number comes from a grouped SQL statement whose conditions are the rules of
``tracker.rules``; Python only adds up per-department rows (at most one per department) or a
histogram of distinct ages, never a row per milestone. Each ``*`` function below runs one
statement, so a dashboard page runs the same number of queries whatever the data size.
"""
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa

from models import (
    ActionPlan,
    Bottleneck,
    Department,
    DigitalAsset,
    Flag,
    Milestone,
    MilestoneUpdate,
    Service,
)
from models.bottleneck import OPEN_BOTTLENECK_STATUSES, SEVERITIES
from models.service import DELIVERY_MODES
from tracker import rules
from tracker.clock import local_midnight_utc
from tracker.extensions import db
from tracker.i18n import N_

# The health segments of the charts, worst first.
CHART_HEALTHS = ("overdue", "at_risk", "on_track", "done")
PLAN_STATES = ("approved", "submitted", "returned", "draft", "missing")
# How many open milestones the timeline draws (earliest due first); the total is shown.
TIMELINE_LIMIT = 40
# The nodal officer's "due soon" window and list length.
DUE_SOON_DAYS = 30
DUE_SOON_LIMIT = 50
FLAGS_LIMIT = 50
# Progress over time: the default window around this month, and the longest allowed.
PROGRESS_MONTHS_BACK = 12
PROGRESS_MONTHS_AHEAD = 6
MAX_PERIOD_MONTHS = 60
# Age buckets that count as "open more than 30 days" on the scorecard.
OVER_30_BUCKETS = ("31-60", "60+")

PERIODS = (
    ("", N_("All dates")),
    ("this_month", N_("This month")),
    ("this_quarter", N_("This quarter")),
    ("this_fy", N_("This financial year")),
    ("last_fy", N_("Last financial year")),
    ("last_12_months", N_("Last 12 months")),
    ("next_90_days", N_("Next 90 days")),
    ("custom", N_("Custom dates")),
)


# --- Filters ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What the dashboard is narrowed to. ``department_ids`` is None for every department."""

    department: Department | None = None
    department_ids: frozenset | None = None
    category: str = ""
    period: str = ""
    start: date | None = None
    end: date | None = None
    date_from: date | None = None
    date_to: date | None = None

    def args(self):
        """The filters as URL query arguments (only those set), for links and downloads."""
        out = {}
        if self.department is not None:
            out["department"] = self.department.code
        if self.category:
            out["category"] = self.category
        if self.period:
            out["period"] = self.period
        if self.period == "custom":
            if self.date_from:
                out["from"] = self.date_from.isoformat()
            if self.date_to:
                out["to"] = self.date_to.isoformat()
        return out


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _add_months(day: date, n: int) -> date:
    """The first of the month ``n`` months after ``day``'s month."""
    index = day.year * 12 + day.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def _month_end(day: date) -> date:
    return _add_months(day, 1) - timedelta(days=1)


def period_range(period: str, today: date, date_from=None, date_to=None):
    """``(start, end)`` dates of a named period (inclusive; None for open-ended)."""
    if period in ("", None):
        return None, None
    if period == "this_month":
        return _month_start(today), _month_end(today)
    if period == "this_quarter":
        start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        return start, _add_months(start, 3) - timedelta(days=1)
    if period in ("this_fy", "last_fy"):
        # The Indian financial year: 1 April to 31 March.
        year = today.year if today.month >= 4 else today.year - 1
        if period == "last_fy":
            year -= 1
        return date(year, 4, 1), date(year + 1, 3, 31)
    if period == "last_12_months":
        return _add_months(today, -11), _month_end(today)
    if period == "next_90_days":
        return today, today + timedelta(days=89)
    if period == "custom":
        return date_from, date_to
    raise ValueError(f"unknown period {period!r}")


def months_between(start: date, end: date):
    """The first day of every month from ``start``'s month to ``end``'s month."""
    months = []
    month = _month_start(start)
    while month <= end:
        months.append(month)
        month = _add_months(month, 1)
    return months


def progress_months(f: Filters, today: date):
    """The months of the progress chart: the period, else a window around this month."""
    start = f.start or _add_months(today, -PROGRESS_MONTHS_BACK)
    end = f.end or _month_end(_add_months(today, PROGRESS_MONTHS_AHEAD))
    if start > end:
        start = _month_start(end)
    months = months_between(start, end)
    return months[-MAX_PERIOD_MONTHS:]


# --- Scopes: the filters as WHERE clauses ----------------------------------------------------


def milestone_scope(f: Filters, dates=True):
    conds = []
    if f.department_ids is not None:
        conds.append(Milestone.department_id.in_(sorted(f.department_ids)))
    if f.category:
        conds.append(Milestone.category == f.category)
    if dates and f.start is not None:
        conds.append(Milestone.due_date >= f.start)
    if dates and f.end is not None:
        conds.append(Milestone.due_date <= f.end)
    return conds


def bottleneck_scope(f: Filters):
    """Department; category through the milestone it holds up; period by the day raised."""
    conds = []
    if f.department_ids is not None:
        conds.append(Bottleneck.department_id.in_(sorted(f.department_ids)))
    if f.category:
        conds.append(
            Bottleneck.milestone_id.in_(
                sa.select(Milestone.id).where(Milestone.category == f.category)
            )
        )
    if f.start is not None:
        conds.append(Bottleneck.raised_on >= f.start)
    if f.end is not None:
        conds.append(Bottleneck.raised_on <= f.end)
    return conds


def register_scope(f: Filters, column):
    """Services and websites are registers: only the department filter applies."""
    if f.department_ids is None:
        return []
    return [column.in_(sorted(f.department_ids))]


def _sum_if(condition, value=1):
    return sa.func.coalesce(sa.func.sum(sa.case((condition, value), else_=0)), 0)


# --- Departments and plans ---------------------------------------------------------------------


@dataclass
class DepartmentRow:
    id: int
    code: str
    name: str
    plan_state: str


def departments_with_plans():
    """Every active department with its plan state, by name: one query."""
    rows = db.session.execute(
        sa.select(Department.id, Department.code, Department.name, rules.plan_state_sql())
        .outerjoin(ActionPlan, ActionPlan.department_id == Department.id)
        .where(Department.active.is_(True))
        .order_by(Department.name)
    )
    return [DepartmentRow(*row) for row in rows]


def in_scope(departments, f: Filters):
    if f.department_ids is None:
        return list(departments)
    return [d for d in departments if d.id in f.department_ids]


def plan_counts(departments):
    counts = dict.fromkeys(PLAN_STATES, 0)
    for d in departments:
        counts[d.plan_state] = counts.get(d.plan_state, 0) + 1
    return counts


# --- Milestones ---------------------------------------------------------------------------------


@dataclass
class MilestoneStats:
    """One department's milestones: counts by health and the scorecard measures."""

    counts: dict = field(default_factory=lambda: dict.fromkeys(rules.HEALTHS, 0))
    stale: int = 0
    slip_days: int = 0
    slip_count: int = 0
    on_time: int = 0
    due_so_far: int = 0

    @property
    def total(self):
        return sum(self.counts.values())

    @property
    def on_time_rate(self):
        """Percent of milestones due so far that were completed on time (None: none due)."""
        if not self.due_so_far:
            return None
        return round(100 * self.on_time / self.due_so_far, 1)

    @property
    def average_slippage(self):
        if not self.slip_count:
            return 0.0
        return round(self.slip_days / self.slip_count, 1)

    def add(self, other):
        for h, n in other.counts.items():
            self.counts[h] += n
        self.stale += other.stale
        self.slip_days += other.slip_days
        self.slip_count += other.slip_count
        self.on_time += other.on_time
        self.due_so_far += other.due_so_far


def milestone_stats(f: Filters, today: date, t):
    """``{department_id: MilestoneStats}`` in one query grouped by department and health
    (the health CASE is evaluated once per milestone; at most departments × 5 rows)."""
    inner = (
        sa.select(
            Milestone.department_id.label("department_id"),
            rules.health_sql(today, t).label("health"),
            sa.case((rules.stale_sql(today, t), 1), else_=0).label("stale"),
            sa.case((rules.counts_for_slippage_sql(), 1), else_=0).label("slip_counted"),
            sa.case((rules.counts_for_slippage_sql(), rules.slipped_days_sql()), else_=0)
            .label("slip"),
            sa.case((rules.completed_on_time_sql(), 1), else_=0).label("on_time"),
            sa.case((rules.due_so_far_sql(today), 1), else_=0).label("due_so_far"),
        )
        .where(*milestone_scope(f))
        .subquery()
    )
    c = inner.c
    rows = db.session.execute(
        sa.select(
            c.department_id,
            c.health,
            sa.func.count(),
            sa.func.sum(c.stale),
            sa.func.sum(c.slip),
            sa.func.sum(c.slip_counted),
            sa.func.sum(c.on_time),
            sa.func.sum(c.due_so_far),
        ).group_by(c.department_id, c.health)
    )
    result = {}
    for dept, health, count, stale, slip, slip_counted, on_time, due_so_far in rows:
        stats = result.setdefault(dept, MilestoneStats())
        stats.counts[health] += int(count)
        stats.stale += int(stale or 0)
        stats.slip_days += int(slip or 0)
        stats.slip_count += int(slip_counted or 0)
        stats.on_time += int(on_time or 0)
        stats.due_so_far += int(due_so_far or 0)
    return result


def total_stats(stats_by_department, departments):
    total = MilestoneStats()
    for d in departments:
        if d.id in stats_by_department:
            total.add(stats_by_department[d.id])
    return total


def health_order(departments, stats):
    """Departments worst first: most overdue, then most at risk, then by name."""
    empty = MilestoneStats()

    def key(d):
        s = stats.get(d.id, empty)
        return (-s.counts["overdue"], -s.counts["at_risk"], d.name)

    return sorted(departments, key=key)


# --- Timeline --------------------------------------------------------------------------------


@dataclass
class TimelineRow:
    id: int
    department_id: int
    code: str
    title: str
    start_date: date | None
    baseline_due: date | None
    due_date: date
    status: str
    percent_complete: int
    health: str
    slipped: int
    forecast: date | None = None  # as the latest scan forecast it


def _milestone_rows(where, today, t, limit):
    """The first ``limit`` milestones matching ``where`` by due date, with health and
    slippage computed for those rows only (the ids are chosen first)."""
    first = (
        sa.select(Milestone.id)
        .where(*where)
        .order_by(Milestone.due_date, Milestone.id)
        .limit(limit)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(
            Milestone.id,
            Milestone.department_id,
            Milestone.code,
            Milestone.title,
            Milestone.start_date,
            Milestone.baseline_due,
            Milestone.due_date,
            Milestone.status,
            Milestone.percent_complete,
            rules.health_sql(today, t),
            rules.slipped_days_sql(),
            rules.forecast_on_sql(),
        )
        .where(Milestone.id.in_(first))
        .order_by(Milestone.due_date, Milestone.id)
    ).all()
    return [TimelineRow(*row) for row in rows]


# The timeline lists at most this many dependencies between the milestones it shows.
DEPENDENCIES_LIMIT = 60


def dependencies_among(rows, limit=DEPENDENCIES_LIMIT):
    """``(pairs, total)``: the dependencies whose successor is among the timeline's ``rows``,
    each ``(successor row, predecessor id, code, title)``, at most ``limit``; one query and
    a count. The list the timeline shows beside its chart, which works without it."""
    from models import MilestoneDependency

    by_id = {r.id: r for r in rows}
    if not by_id:
        return [], 0
    where = MilestoneDependency.successor_id.in_(sorted(by_id))
    found = db.session.execute(
        sa.select(MilestoneDependency.successor_id, Milestone.id, Milestone.code,
                  Milestone.title)
        .join(Milestone, Milestone.id == MilestoneDependency.predecessor_id)
        .where(where)
        .order_by(MilestoneDependency.successor_id, Milestone.due_date, Milestone.code)
        .limit(limit)).all()
    total = db.session.execute(
        sa.select(sa.func.count()).select_from(MilestoneDependency).where(where)).scalar_one()
    order = {r.id: i for i, r in enumerate(rows)}
    pairs = sorted(((by_id[s], pid, code, title) for s, pid, code, title in found),
                   key=lambda p: (order[p[0].id], p[2]))
    return pairs, total


def forecast_on_time(f: Filters):
    """``{department id: (forecast on time, open milestones with a forecast)}`` from the
    forecasts the latest scan stored: one grouped query."""
    from models import MilestoneForecast

    rows = db.session.execute(
        sa.select(Milestone.department_id,
                  _sum_if(MilestoneForecast.forecast_on <= Milestone.due_date),
                  sa.func.count())
        .join(MilestoneForecast, MilestoneForecast.milestone_id == Milestone.id)
        .where(rules.open_sql(), *milestone_scope(f, dates=False))
        .group_by(Milestone.department_id)).all()
    return {d: (int(on_time or 0), n) for d, on_time, n in rows}


def _count(where):
    return db.session.execute(
        sa.select(sa.func.count()).select_from(Milestone).where(*where)
    ).scalar_one()


def timeline(f: Filters, today: date, t, limit=TIMELINE_LIMIT):
    """The open milestones due earliest (at most ``limit``) and how many are open in all:
    two queries."""
    where = [rules.open_sql(), *milestone_scope(f)]
    return _milestone_rows(where, today, t, limit), _count(where)


def due_by_sql(today: date, days: int):
    """Open and due by ``days`` days from today: the overdue ones too. (A list of what is
    due soon that leaves out what is already late read "0 of 0" to a nodal officer with two
    milestones overdue.)"""
    return sa.and_(rules.open_sql(), Milestone.due_date <= rules._d(today + timedelta(days=days)))


def due_soon(f: Filters, today: date, t, days=DUE_SOON_DAYS, limit=DUE_SOON_LIMIT):
    """Open milestones overdue or due in the next ``days`` days, earliest (most overdue)
    first, and their total."""
    where = [due_by_sql(today, days), *milestone_scope(f, dates=False)]
    return _milestone_rows(where, today, t, limit), _count(where)


# --- Progress over time --------------------------------------------------------------------------


def _month_key(month: date) -> str:
    return month.strftime("%Y-%m")


def _instant_month_sql(column, months, tz):
    """The local 'YYYY-MM' of a naive-UTC timestamp column, for the given months."""
    bounds = [local_midnight_utc(m, tz) for m in months + [_add_months(months[-1], 1)]]
    return sa.case(
        *(
            (sa.and_(column >= lo, column < hi), _month_key(m))
            for m, lo, hi in zip(months, bounds, bounds[1:])
        ),
        else_=None,
    )


@dataclass
class ProgressMonth:
    month: date
    planned: int = 0
    done: int = 0
    planned_cumulative: int = 0
    done_cumulative: int = 0

    @property
    def key(self):
        return _month_key(self.month)


def progress(f: Filters, today: date, t):
    """Per month: milestones planned to be done (baseline due, else due; not dropped) and
    milestones actually completed (from the update history). Two queries."""
    from zoneinfo import ZoneInfo

    months = progress_months(f, today)
    tz = ZoneInfo(t.timezone)
    planned_on = sa.func.coalesce(Milestone.baseline_due, Milestone.due_date).label("planned_on")
    first, after = months[0], _add_months(months[-1], 1)
    # Grouped by day (a few hundred rows at most), then by month here.
    planned = {}
    for day, n in db.session.execute(
        sa.select(planned_on, sa.func.count())
        .where(
            Milestone.status != "dropped",
            planned_on >= rules._d(first),
            planned_on < rules._d(after),
            *milestone_scope(f, dates=False),
        )
        .group_by(planned_on)
    ):
        key = _month_key(day)
        planned[key] = planned.get(key, 0) + n
    done_month = _instant_month_sql(MilestoneUpdate.at, months, tz).label("month")
    done = dict(
        db.session.execute(
            sa.select(done_month, sa.func.count(sa.distinct(MilestoneUpdate.milestone_id)))
            .join(Milestone, Milestone.id == MilestoneUpdate.milestone_id)
            .where(
                MilestoneUpdate.status_to == "completed",
                MilestoneUpdate.at >= local_midnight_utc(first, tz),
                MilestoneUpdate.at < local_midnight_utc(after, tz),
                *milestone_scope(f, dates=False),
            )
            .group_by(done_month)
        ).all()
    )
    result, planned_total, done_total = [], 0, 0
    for month in months:
        key = _month_key(month)
        planned_total += int(planned.get(key, 0))
        done_total += int(done.get(key, 0))
        result.append(
            ProgressMonth(month, int(planned.get(key, 0)), int(done.get(key, 0)),
                          planned_total, done_total)
        )
    return result


def month_range(key: str):
    """'YYYY-MM' → (first day, first day of the next month); ValueError when malformed."""
    year, month = key.split("-")
    first = date(int(year), int(month), 1)
    return first, _add_months(first, 1)


# --- Bottlenecks ---------------------------------------------------------------------------------


@dataclass
class BottleneckStats:
    """Open bottlenecks: counts by (age bucket, severity), and per severity count and median age."""

    buckets: dict = field(
        default_factory=lambda: {b: dict.fromkeys(SEVERITIES, 0) for b in rules.AGE_BUCKETS}
    )
    by_severity: dict = field(default_factory=lambda: dict.fromkeys(SEVERITIES, 0))
    median_age: dict = field(default_factory=lambda: dict.fromkeys(SEVERITIES))
    overall_median_age: float | None = None

    @property
    def total(self):
        return sum(self.by_severity.values())


def _median(histogram):
    """The median of a ``{value: count}`` histogram (None when empty)."""
    n = sum(histogram.values())
    if not n:
        return None
    wanted = ((n - 1) // 2, n // 2)
    found, seen = [], 0
    for value in sorted(histogram):
        count = histogram[value]
        for position in wanted:
            if seen <= position < seen + count:
                found.append(value)
        seen += count
    return sum(found) / 2


def bottleneck_stats(f: Filters, today: date):
    """One query: open bottlenecks grouped by severity and age (ages are whole days, so the
    rows are at most severities × distinct ages); the buckets come from the rule in SQL."""
    age = rules.bottleneck_age_sql(today).label("age")
    bucket = rules.age_bucket_sql(today).label("bucket")
    rows = db.session.execute(
        sa.select(Bottleneck.severity, age, bucket, sa.func.count())
        .where(Bottleneck.status.in_(OPEN_BOTTLENECK_STATUSES), *bottleneck_scope(f))
        .group_by(Bottleneck.severity, age, bucket)
    )
    stats = BottleneckStats()
    histograms = {s: {} for s in SEVERITIES}
    overall = {}
    for severity, days, name, count in rows:
        stats.buckets[name][severity] += count
        stats.by_severity[severity] += count
        histograms[severity][days] = histograms[severity].get(days, 0) + count
        overall[days] = overall.get(days, 0) + count
    stats.median_age = {s: _median(h) for s, h in histograms.items()}
    stats.overall_median_age = _median(overall)
    return stats


def open_bottlenecks_over_30(f: Filters, today: date):
    """``{department_id: open bottlenecks older than 30 days}``: one query."""
    rows = db.session.execute(
        sa.select(Bottleneck.department_id, sa.func.count())
        .where(
            Bottleneck.status.in_(OPEN_BOTTLENECK_STATUSES),
            rules.age_bucket_sql(today).in_(OVER_30_BUCKETS),
            *bottleneck_scope(f),
        )
        .group_by(Bottleneck.department_id)
    )
    return {dept: int(n) for dept, n in rows}


# --- Services and websites -----------------------------------------------------------------------


def psga_services(f: Filters):
    """``{department_id: {delivery_mode: count}}`` of PSGA-notified services: one query."""
    rows = db.session.execute(
        sa.select(Service.department_id, Service.delivery_mode, sa.func.count())
        .where(Service.psga_notified.is_(True), *register_scope(f, Service.department_id))
        .group_by(Service.department_id, Service.delivery_mode)
    )
    result = {}
    for dept, mode, n in rows:
        result.setdefault(dept, dict.fromkeys(DELIVERY_MODES, 0))[mode] = int(n)
    return result


def service_totals(services_by_department, departments):
    totals = dict.fromkeys(DELIVERY_MODES, 0)
    for d in departments:
        for mode, n in services_by_department.get(d.id, {}).items():
            totals[mode] += n
    notified = sum(totals.values())
    online = totals["online_standalone"] + totals["integrated"]

    def pct(n):
        return round(100 * n / notified, 1) if notified else None

    return {
        "modes": totals,
        "notified": notified,
        "online": online,
        "integrated": totals["integrated"],
        "online_pct": pct(online),
        "integrated_pct": pct(totals["integrated"]),
    }


def certificates(f: Filters, today: date, t):
    """``{department_id: {'expired': n, 'expiring': n}}`` of audit certificates: one query."""
    rows = db.session.execute(
        sa.select(
            DigitalAsset.department_id,
            _sum_if(rules.certificate_expired_sql(today)),
            _sum_if(rules.certificate_expiring_sql(today, t)),
        )
        .where(*register_scope(f, DigitalAsset.department_id))
        .group_by(DigitalAsset.department_id)
    )
    return {dept: {"expired": int(a), "expiring": int(b)} for dept, a, b in rows}


# --- Flags ---------------------------------------------------------------------------------------


def open_flags(f: Filters, limit=FLAGS_LIMIT):
    """Open flags of the departments in scope, most severe and newest first, and their total."""
    severity_rank = sa.case(
        (Flag.severity == "critical", 0), (Flag.severity == "warning", 1), else_=2
    )
    q = sa.select(Flag, sa.func.count().over()).where(Flag.cleared_at.is_(None))
    if f.department_ids is not None:
        q = q.where(Flag.department_id.in_(sorted(f.department_ids)))
    rows = db.session.execute(
        q.order_by(severity_rank, Flag.raised_at.desc(), Flag.id.desc()).limit(limit)
    ).all()
    total = rows[0][1] if rows else 0
    return [row[0] for row in rows], total


# --- Scorecard -----------------------------------------------------------------------------------


@dataclass
class ScorecardRow:
    department: DepartmentRow
    on_time_rate: float | None
    on_time: int
    due_so_far: int
    average_slippage: float
    stale: int
    bottlenecks_over_30: int
    certificates_expired: int
    certificates_expiring: int
    rank: int = 0
    forecast_on_time: int = 0
    forecast_total: int = 0

    @property
    def forecast_on_time_rate(self):
        """Open milestones forecast to finish by their due date (%), None with none."""
        if not self.forecast_total:
            return None
        return round(100 * self.forecast_on_time / self.forecast_total, 1)


def scorecard(departments, stats, over_30, certs, forecasts=None):
    """Departments ranked worst first: lowest on-time rate (none due yet: last), then most
    open bottlenecks over 30 days, most stale updates, most slippage, then by name."""
    empty = MilestoneStats()
    rows = []
    for d in departments:
        s = stats.get(d.id, empty)
        c = certs.get(d.id, {"expired": 0, "expiring": 0})
        rows.append(
            ScorecardRow(
                department=d,
                on_time_rate=s.on_time_rate,
                on_time=s.on_time,
                due_so_far=s.due_so_far,
                average_slippage=s.average_slippage,
                stale=s.stale,
                bottlenecks_over_30=over_30.get(d.id, 0),
                certificates_expired=c["expired"],
                certificates_expiring=c["expiring"],
                forecast_on_time=(forecasts or {}).get(d.id, (0, 0))[0],
                forecast_total=(forecasts or {}).get(d.id, (0, 0))[1],
            )
        )
    rows.sort(
        key=lambda r: (
            r.on_time_rate is None,
            r.on_time_rate if r.on_time_rate is not None else 0,
            -r.bottlenecks_over_30,
            -r.stale,
            -r.average_slippage,
            r.department.name,
        )
    )
    for i, row in enumerate(rows, start=1):
        row.rank = i
    return rows


# --- Everything on one page ------------------------------------------------------------------------


@dataclass
class Overview:
    today: date
    filters: Filters
    departments: list  # in scope, by name
    plans: dict
    stats: dict
    total: MilestoneStats
    health_ranked: list
    bottlenecks: BottleneckStats
    services: dict
    service_totals: dict
    progress: list
    scorecard: list
    timeline: list
    timeline_total: int
    dependencies: list = field(default_factory=list)
    dependencies_total: int = 0


SECTIONS = ("health", "timeline", "bottlenecks", "services", "progress", "scorecard")


def overview(all_departments, f: Filters, today: date, t, sections=SECTIONS):
    """The figures of the dashboard, restricted to ``sections`` (a download needs only one).
    Runs at most ten queries, whatever the number of records."""
    departments = in_scope(all_departments, f)
    need = set(sections)
    stats = milestone_stats(f, today, t) if need & {"health", "scorecard"} else {}
    bottlenecks = bottleneck_stats(f, today) if "bottlenecks" in need else BottleneckStats()
    services = psga_services(f) if "services" in need else {}
    rows, total = timeline(f, today, t) if "timeline" in need else ([], 0)
    card = []
    if "scorecard" in need:
        card = scorecard(
            departments, stats, open_bottlenecks_over_30(f, today), certificates(f, today, t),
            forecast_on_time(f),
        )
    return Overview(
        today=today,
        filters=f,
        departments=departments,
        plans=plan_counts(departments),
        stats=stats,
        total=total_stats(stats, departments),
        health_ranked=health_order(departments, stats),
        bottlenecks=bottlenecks,
        services=services,
        service_totals=service_totals(services, departments),
        progress=progress(f, today, t) if "progress" in need else [],
        scorecard=card,
        timeline=rows,
        timeline_total=total,
        **dict(zip(("dependencies", "dependencies_total"),
                   dependencies_among(rows) if "timeline" in need else ([], 0))),
    )
