"""When will an open milestone finish? A forecast from the department's own record.

Three things go into it, each stated in words on the milestone page:

1. **The department's record** (``History``): of its completed milestones with a start date,
   the median of *actual duration ÷ planned duration* (planned: start to the baseline due
   date, or the due date when there is no baseline). By the milestone's category when the
   department has completed at least ``MIN_HISTORY`` of that category, else over all its
   categories when it has that many, else there is too little history: the forecast falls
   back to the due date (the plan stands in for the record).
2. **Progress against time**: at ``p`` % done after ``e`` days, the straight line finishes
   after ``e × 100 / p`` days. The two are blended, trusting progress more as it grows:
   ``record + (p/100)² × (progress − record)`` (reported progress early on is noisy and
   usually behind: the backtest in ``bench/forecast_backtest.py`` chose the square over a
   straight p/100 or none). Nothing done yet: the record (or the due date) alone.
3. **Predecessors** (finish-to-start): a milestone cannot finish before each open
   predecessor's forecast plus its own remaining work (its expected duration × the share
   not yet done).

An open milestone never finishes before today: when its forecast has passed, it still has its
remaining work to do (its expected duration × the share not done), counted from today (a
milestone with nothing done 200 days after its expected finish is not forecast to finish
today; its successors wait for that work too). ``forecast`` answers for one milestone from
plain inputs and ``today``; ``forecast_all`` is the set-based form (three queries, then
Python over the rows, in dependency order) for the scan, the scorecard and the pages;
``tests/test_forecast.py`` proves they agree.
"""
import math
from collections import namedtuple
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import median

import sqlalchemy as sa

from models.milestone import CLOSED_STATUSES

# Fewest completed milestones whose record is trusted (by category, then department).
MIN_HISTORY = 5


def planned_days(m):
    """Days from start to the date first committed to (baseline, else due); None without a
    start date or when that is not after the start."""
    if m.start_date is None:
        return None
    committed = m.baseline_due if m.baseline_due is not None else m.due_date
    days = (committed - m.start_date).days
    return days if days > 0 else None


def slip_ratio(m):
    """Actual ÷ planned duration of a completed milestone (None when it cannot be told)."""
    if m.status != "completed" or m.completed_on is None:
        return None
    planned = planned_days(m)
    if planned is None:
        return None
    return max(1, (m.completed_on - m.start_date).days) / planned


@dataclass(frozen=True)
class History:
    """The record a forecast rests on: ``ratio`` (None: too little history), how many
    completed milestones it comes from, and whether it is of the category or the whole
    department."""

    ratio: float | None
    count: int
    scope: str  # "category" | "department" | "none"
    category: str | None = None


def history_from(ratios_by_category, category):
    """``History`` for a milestone of ``category`` from the department's ratios
    (``{category: [ratio, …]}``)."""
    own = ratios_by_category.get(category, [])
    if len(own) >= MIN_HISTORY:
        return History(median(own), len(own), "category", category)
    every = [r for values in ratios_by_category.values() for r in values]
    if len(every) >= MIN_HISTORY:
        return History(median(every), len(every), "department")
    return History(None, len(every), "none")


def ratios_of(completed):
    """``{category: [ratio, …]}`` of a department's milestones (the closed ones count)."""
    result = {}
    for m in completed:
        ratio = slip_ratio(m)
        if ratio is not None:
            result.setdefault(m.category, []).append(ratio)
    return result


@dataclass(slots=True)
class Forecast:
    on: date
    due_date: date
    history: History
    department: str = ""
    percent: int = 0
    time_percent: int | None = None  # share of the planned time elapsed
    no_start: bool = False
    waits_for: tuple | None = None  # (code, forecast of the predecessor)
    not_before_today: bool = False
    left_days: int = 0  # the work left counted from today, when the forecast had passed
    expected_days: float = 0.0  # the whole duration expected, for successors' remaining work
    start_date: date | None = None

    @property
    def slip_days(self):
        return (self.on - self.due_date).days


def _days(x):
    return timedelta(days=int(math.ceil(x - 1e-9)))


def forecast(m, today: date, history: History, predecessors=(), department=""):
    """The forecast finish of the open milestone ``m`` as of ``today``.

    ``history``: the department's record for ``m``'s category (``history_from``);
    ``predecessors``: ``(code, Forecast)`` of each open milestone ``m`` waits for."""
    planned = planned_days(m)
    percent = m.percent_complete or 0
    time_percent = None
    if planned is None:
        on, expected = m.due_date, 0.0
    else:
        elapsed = (today - m.start_date).days
        time_percent = max(0, round(100 * elapsed / planned))
        # Too little history: the plan (start to due date) stands in for the record.
        if history.ratio is not None:
            expected = planned * history.ratio
            on = m.start_date + _days(expected)
        else:
            expected = float(max(1, (m.due_date - m.start_date).days))
            on = m.due_date
        if elapsed > 0 and percent > 0:
            by_progress = elapsed * 100 / percent
            blended = expected + (percent / 100) ** 2 * (by_progress - expected)
            on = m.start_date + _days(blended)
            expected = blended
    waits_for = None
    remaining = expected * (100 - percent) / 100
    for code, before in sorted(predecessors, key=lambda p: (p[1].on, p[0])):
        earliest = before.on + _days(remaining)
        if earliest > on:
            on, waits_for = earliest, (code, before.on)
    not_before_today, left = on < today, timedelta(0)
    if not_before_today:
        left = _days(remaining)
        on = today + left
    return Forecast(on=on, due_date=m.due_date, history=history, department=department,
                    percent=percent, time_percent=time_percent, no_start=planned is None,
                    waits_for=waits_for, not_before_today=not_before_today,
                    left_days=left.days, expected_days=expected, start_date=m.start_date)


# --- The set-based form -------------------------------------------------------------------

# A row as the forecast reads it (plain attribute access: cheaper than a result row's).
_Open = namedtuple("_Open", "id code department_id category status start_date baseline_due "
                            "due_date percent_complete completed_on department")
_Done = namedtuple("_Done", "department_id category status start_date baseline_due due_date "
                            "completed_on")


def forecast_all(today: date, milestone_ids=None, department_ids=None, connection=None):
    """``{milestone id: Forecast}`` of the open milestones (all, or those of
    ``milestone_ids`` / ``department_ids``), each with its predecessors' forecasts taken
    into account. Queries: the dependencies, the open milestones they need, the
    completed milestones of their departments."""
    from models import Department, Milestone, MilestoneDependency
    from tracker.extensions import db

    run = (connection if connection is not None else db.session).execute
    edges = run(sa.select(MilestoneDependency.predecessor_id,
                                         MilestoneDependency.successor_id)).all()
    preds_of = {}
    for p, s in edges:
        preds_of.setdefault(s, []).append(p)
    open_ = Milestone.status.notin_(CLOSED_STATUSES)
    base = (sa.select(Milestone.id, Milestone.code, Milestone.department_id,
                      Milestone.category, Milestone.status, Milestone.start_date,
                      Milestone.baseline_due, Milestone.due_date, Milestone.percent_complete,
                      Milestone.completed_on, Department.name.label("department"))
            .join(Department, Department.id == Milestone.department_id).where(open_))

    def ancestors(ids, known):
        found, todo = set(), list(ids)
        while todo:
            for p in preds_of.get(todo.pop(), ()):
                if p not in known and p not in found:
                    found.add(p)
                    todo.append(p)
        return found

    if milestone_ids is None and department_ids is None:
        rows = {r[0]: _Open._make(r) for r in run(base).tuples()}
    else:
        conditions = []
        if milestone_ids:
            conditions.append(Milestone.id.in_(sorted(set(milestone_ids))))
        if department_ids is not None:
            conditions.append(Milestone.department_id.in_(sorted(department_ids)))
        rows = ({r[0]: _Open._make(r) for r in run(base.where(sa.or_(*conditions))).tuples()}
                if conditions else {})
        # Their ancestors too, wherever they are: a predecessor's forecast moves its
        # successors'.
        extra = ancestors(rows, rows)
        if extra:
            rows.update({r[0]: _Open._make(r) for r in run(
                base.where(Milestone.id.in_(sorted(extra)))).tuples()})
    departments = {r.department_id for r in rows.values()}
    ratios = {}
    if departments:
        for r in run(
                sa.select(Milestone.department_id, Milestone.category, Milestone.status,
                          Milestone.start_date, Milestone.baseline_due, Milestone.due_date,
                          Milestone.completed_on)
                .where(Milestone.status == "completed", Milestone.start_date.is_not(None),
                       Milestone.department_id.in_(sorted(departments)))).tuples():
            r = _Done._make(r)
            ratio = slip_ratio(r)
            if ratio is not None:
                ratios.setdefault(r.department_id, {}).setdefault(r.category, []).append(ratio)
    return forecast_rows(rows, preds_of, ratios, today)


def forecast_rows(rows, preds_of, ratios, today):
    """Forecasts of ``rows`` (open milestones by id) in dependency order."""
    result = {}
    histories = {}

    def visit(i, path=()):
        if i in result:
            return result[i]
        r = rows[i]
        befores = []
        for p in preds_of.get(i, ()):
            if p in rows and p not in path:
                befores.append((rows[p].code, visit(p, path + (i,))))
        key = (r.department_id, r.category)
        if key not in histories:
            histories[key] = history_from(ratios.get(r.department_id, {}), r.category)
        result[i] = forecast(r, today, histories[key], befores, department=r.department)
        return result[i]

    for i in sorted(rows):
        visit(i)
    return result


def forecast_for(milestone, today: date):
    """The forecast of one milestone for its page (None when it is closed)."""
    if milestone.status in CLOSED_STATUSES:
        return None
    return forecast_all(today, milestone_ids=[milestone.id]).get(milestone.id)


# --- In words -------------------------------------------------------------------------------


def _times(ratio):
    from flask_babel import format_decimal

    return format_decimal(round(ratio, 1), format="0.0")


def describe(f):
    """The basis of a forecast in sentences, for people: its record, its progress, what it
    waits for. Empty for no forecast."""
    from flask_babel import gettext as _
    from flask_babel import ngettext

    from tracker.labels import label
    from tracker.templating import format_date

    if f is None:
        return []
    words = []
    h = f.history
    if h.ratio is None:
        words.append(_("Too little history: %(department)s has %(count)d completed milestones "
                       "with dates (%(needed)d needed), so the due date stands in for its "
                       "record.",
                       department=f.department, count=h.count, needed=MIN_HISTORY))
    elif h.scope == "category":
        words.append(_("%(department)s finishes its %(category)s milestones in %(times)s× "
                       "their planned time (%(count)d milestones).",
                       department=f.department, category=label("milestone_category", h.category).lower(),
                       times=_times(h.ratio), count=h.count))
    else:
        words.append(_("%(department)s finishes %(times)s× its planned time "
                       "(%(count)d milestones).", department=f.department,
                       times=_times(h.ratio), count=h.count))
    if f.no_start:
        words.append(_("No start date: progress cannot be set against time, so the forecast "
                       "is the due date."))
    elif f.time_percent is not None:
        words.append(_("%(percent)d %% done at %(time)d %% of the planned time.",
                       percent=f.percent, time=f.time_percent))
    if f.waits_for:
        code, on = f.waits_for
        words.append(_("Waits for %(code)s, forecast to finish on %(date)s, and then needs "
                       "its own remaining work.", code=code, date=format_date(on)))
    if f.not_before_today and f.left_days:
        words.append(ngettext(
            "Not finished and past its expected finish: the work left (%(num)d day at its "
            "pace) is counted from today.",
            "Not finished and past its expected finish: the work left (%(num)d days at its "
            "pace) is counted from today.", f.left_days))
    elif f.not_before_today:
        words.append(_("Not finished yet, so not before today."))
    return words
