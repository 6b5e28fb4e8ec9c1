"""The forecasts' backtest (``tracker.forecast``): every milestone completed in the last 180
days is forecast from the data as it stood when it was 50 % through its planned duration
(its percent complete and due date then, read back from its history; the department's
milestones completed before that day), and held against the naive forecast "it finishes on
its due date (as it stood then)".

Two data sets:

- **generated**: 30 departments, each with a known slip habit (its milestones take 0.9 to
  1.8 times their planned duration, give or take 15 %), 60 milestones each over three
  years, progress reported as the true share done rounded to 5 % and often a little behind;
- **demo**: the demo roadmap (``tracker.demo``, seeded in a scratch SQLite database), whose
  departments have their own slip habits too.

Figures per set: the median absolute error in days of each forecast, and the share of late
milestones (finished after their due date) flagged before their due date (forecast later
than the due date by more than the margin, 7 days by default), with the share of on-time
milestones wrongly flagged. The naive forecast never flags anything.

    python -m bench.forecast_backtest
"""
import random
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from statistics import median

from bench.harness import Figure

WINDOW_DAYS = 180
MARGIN_DAYS = 7


@dataclass
class Record:
    """A milestone as the forecast reads it (completed, or as it stood on a day)."""

    id: int
    department_id: int
    category: str
    status: str
    start_date: date
    baseline_due: date | None
    due_date: date
    completed_on: date | None
    percent_complete: int
    department: str = ""


def as_it_stood(m, day, updates):
    """``m`` on ``day``: open, its percent complete and due date then. ``updates``:
    ``[(on, percent_to, due_from, due_to)]`` in order."""
    percent, due = 0, m.due_date
    later_due = [u for u in updates if u[0] > day and u[3] is not None and u[2] is not None]
    if later_due:
        due = later_due[0][2]
    for on, percent_to, _f, _t in updates:
        if on <= day and percent_to is not None:
            percent = min(99, percent_to)
    return Record(m.id, m.department_id, m.category, "in_progress", m.start_date,
                  m.baseline_due, due, None, percent, m.department)


def backtest(milestones, updates, today, margin=MARGIN_DAYS, window=WINDOW_DAYS):
    """Forecast and naive errors over the milestones completed in the last ``window`` days.
    Returns a dict of figures (see the module's docstring)."""
    from tracker import forecast as fc

    by_department = {}
    for m in milestones:
        by_department.setdefault(m.department_id, []).append(m)
    errors, naive_errors = [], []
    late = flagged_late = on_time = flagged_on_time = fallback = skipped = 0
    for m in milestones:
        if m.status != "completed" or m.completed_on is None:
            continue
        if not today - timedelta(days=window) <= m.completed_on <= today:
            continue
        planned = fc.planned_days(m)
        if planned is None:
            skipped += 1
            continue
        day = m.start_date + timedelta(days=planned // 2)
        if m.completed_on <= day:
            skipped += 1  # done before half its planned time: nothing to forecast then
            continue
        then = as_it_stood(m, day, updates.get(m.id, []))
        history = [x for x in by_department[m.department_id]
                   if x.status == "completed" and x.completed_on is not None
                   and x.completed_on < day]
        f = fc.forecast(then, day, fc.history_from(fc.ratios_of(history), m.category),
                        department=m.department)
        fallback += f.history.ratio is None
        errors.append(abs((f.on - m.completed_on).days))
        naive_errors.append(abs((then.due_date - m.completed_on).days))
        flagged = (f.on - then.due_date).days > margin
        if m.completed_on > then.due_date:
            late += 1
            flagged_late += flagged
        else:
            on_time += 1
            flagged_on_time += flagged
    n = len(errors)
    return {
        "milestones": n,
        "skipped": skipped,
        "too_little_history": fallback,
        "forecast_mae_days": median(errors) if n else 0,
        "naive_mae_days": median(naive_errors) if n else 0,
        "late": late,
        "late_flagged_share": flagged_late / late if late else 0,
        "on_time_flagged_share": flagged_on_time / on_time if on_time else 0,
    }


# --- The generated set ---------------------------------------------------------------------

CATEGORIES = ("service_integration", "website_update", "infrastructure", "capacity_building",
              "security_compliance", "accessibility", "other")


def generated(today, departments=30, per_department=60, seed=2026):
    """Milestones of departments with known slip habits, and their progress updates."""
    rng = random.Random(seed)
    milestones, updates = [], {}
    n = 0
    for d in range(departments):
        habit = 0.9 + 0.9 * d / max(1, departments - 1)  # 0.9× … 1.8×
        for _ in range(per_department):
            n += 1
            start = today - timedelta(days=rng.randint(30, 1100))
            span = rng.randint(30, 240)
            due = start + timedelta(days=span)
            actual = max(1, round(span * habit * rng.lognormvariate(0, 0.15)))
            finish = start + timedelta(days=actual)
            steps = sorted(rng.sample(range(1, actual + 1), k=min(actual, 6)))
            ups = []
            for day in steps:
                on = start + timedelta(days=day)
                if on > today:
                    break
                true = 100 * day / actual
                reported = max(0, min(95, 5 * round(true / 5) - 5 * rng.randint(0, 2)))
                ups.append((on, reported, None, None))
            done = finish <= today
            last_percent = ups[-1][1] if ups else 0
            m = Record(n, d, CATEGORIES[n % len(CATEGORIES)],
                       "completed" if done else "in_progress", start, due, due,
                       finish if done else None, 100 if done else last_percent,
                       f"Department {d + 1}")
            milestones.append(m)
            updates[n] = ups
    return milestones, updates


# --- The demo set --------------------------------------------------------------------------


def demo_history(today):
    """The demo roadmap's milestones and their recorded updates, seeded afresh in a scratch
    SQLite database."""
    import sqlalchemy as sa

    from models import Department, Milestone, MilestoneUpdate
    from tracker import create_app, demo
    from tracker.extensions import db

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'demo.db'}"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": False},
                         config_name="development")
        with app.app_context():
            db.create_all()
            demo.seed(today, "backtest-demo")
            db.session.commit()
            names = dict(db.session.execute(sa.select(Department.id, Department.name)).all())
            milestones = [
                Record(m.id, m.department_id, m.category, m.status, m.start_date, m.baseline_due,
                       m.due_date, m.completed_on, m.percent_complete, names[m.department_id])
                for m in db.session.execute(
                    sa.select(Milestone).where(Milestone.start_date.is_not(None))).scalars()]
            updates = {}
            for u in db.session.execute(
                    sa.select(MilestoneUpdate).order_by(MilestoneUpdate.at, MilestoneUpdate.id)
            ).scalars():
                updates.setdefault(u.milestone_id, []).append(
                    (u.at.date(), u.percent_to, u.due_from, u.due_to))
            db.session.remove()
            db.engine.dispose()
    return milestones, updates


def figures(today, margin=MARGIN_DAYS):
    """``[Figure]`` of both sets."""
    result = []
    for name, (milestones, updates) in (("generated", generated(today)),
                                        ("demo", demo_history(today))):
        r = backtest(milestones, updates, today, margin)
        result += [
            Figure(f"forecast_{name}_milestones", r["milestones"], "count"),
            Figure(f"forecast_{name}_too_little_history", r["too_little_history"], "count"),
            Figure(f"forecast_{name}_mae_days", r["forecast_mae_days"], "days"),
            Figure(f"forecast_{name}_naive_mae_days", r["naive_mae_days"], "days"),
            Figure(f"forecast_{name}_late", r["late"], "count"),
            Figure(f"forecast_{name}_late_flagged_share", 100 * r["late_flagged_share"], "%"),
            Figure(f"forecast_{name}_on_time_flagged_share", 100 * r["on_time_flagged_share"],
                   "%"),
            Figure(f"forecast_{name}_naive_late_flagged_share", 0, "%"),
        ]
    return result


if __name__ == "__main__":
    for figure in figures(date.today()):
        print(figure.line())
