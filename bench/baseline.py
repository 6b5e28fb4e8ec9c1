"""The limit an Excel export is held against: a bare openpyxl write-only loop over rows of
the roadmap's shape (one row per milestone, 12 cells), read with one streamed statement.

No styles, widths, filters or formula neutralising: this is the least any export of the same
rows and cells must do, so ``export time / baseline time`` is the export's own overhead.
"""
import io
from datetime import date, datetime, time
from decimal import Decimal

import sqlalchemy as sa
from openpyxl import Workbook

from models import Department, Milestone
from tracker import rules

HEADER = ("Department", "Code", "Milestone", "Category", "Owner", "Start", "Baseline due",
          "Due", "Status", "Done (%)", "Completed on", "Days slipped")


def roadmap_rows_statement():
    """Every milestone with its department, in the roadmap's order: 12 columns."""
    return (
        sa.select(
            Department.name, Milestone.code, Milestone.title, Milestone.category,
            Milestone.owner, Milestone.start_date, Milestone.baseline_due, Milestone.due_date,
            Milestone.status, Milestone.percent_complete, Milestone.completed_on,
            rules.slipped_days_sql(),
        )
        .join(Department, Department.id == Milestone.department_id)
        .order_by(Department.name, Milestone.position, Milestone.id)
    )


def write_only_workbook(rows, header=HEADER, title="Roadmap"):
    """The bare loop: a write-only workbook, one ``append`` per row; returns the bytes."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    sheet.append(header)
    for row in rows:
        sheet.append(tuple(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def roadmap_baseline(engine):
    """Stream the roadmap rows from ``engine`` into a write-only workbook; returns bytes."""
    with engine.connect() as conn:
        result = conn.execution_options(yield_per=2000).execute(roadmap_rows_statement())
        return write_only_workbook(result)


def roadmap_baseline_from_url(database_url):
    """The same, from a database URL (for a measuring child process)."""
    from bench.generate import engine_for

    engine = engine_for(database_url)
    try:
        return len(roadmap_baseline(engine))
    finally:
        engine.dispose()


# -- the exports themselves, and their own limits ---------------------------------------------


def export_baseline(engine, statement, header, title="Roadmap"):
    """The limit of one export: the export's own statement streamed (``yield_per``) into a
    bare write-only loop, the same rows and cells with no labels, styles or widths."""
    with engine.connect() as conn:
        result = conn.execution_options(yield_per=2000).execute(statement)
        return write_only_workbook(result, header=header, title=title)


# What a write-only cell takes as it is; anything else a driver returns (JSON as a dict,
# a UUID …) is written as its text.
_CELL_TYPES = (str, int, float, Decimal, date, datetime, time, bool, type(None))


def replay_workbook(engine, statements):
    """The limit of a workbook built from several statements (the minutes): the statements
    replayed bare on a DBAPI connection, every row they return appended to a write-only
    sheet of its own."""
    workbook = Workbook(write_only=True)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute("BEGIN")  # see harness.replay
        for n, (statement, parameters) in enumerate(statements, start=1):
            cursor.execute(statement, parameters)
            if cursor.description is None:
                continue
            sheet = workbook.create_sheet(f"Sheet {n}")
            sheet.append([d[0] for d in cursor.description])
            while True:
                rows = cursor.fetchmany(2000)
                if not rows:
                    break
                for row in rows:
                    sheet.append([v if isinstance(v, _CELL_TYPES) else str(v) for v in row])
        cursor.close()
        raw.rollback()
    finally:
        raw.close()
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _export_app(database_url):
    from bench.run import make_app

    return make_app(database_url)


def latest_meeting_id(engine):
    from models import ReviewMeeting

    with engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.max(ReviewMeeting.id)))


def roadmap_export(today, generated_at):
    """The roadmap export as the Reports page builds it (inside an app context)."""
    from exports.roadmap import roadmap_workbook
    from tracker.settings import thresholds

    return roadmap_workbook(today, thresholds(), generated_at)


def minutes_export(meeting_id, today, generated_at):
    """The minutes workbook of one meeting as its page builds it (inside an app context)."""
    from exports.minutes import minutes_workbook
    from tracker.settings import thresholds

    return minutes_workbook(meeting_id, today, thresholds(), generated_at)


def roadmap_export_from_url(database_url, today):
    """The roadmap export on a database URL (for a measuring child process)."""
    from datetime import datetime

    from tracker.extensions import db

    app = _export_app(database_url)
    with app.app_context():
        try:
            return len(roadmap_export(today, datetime(2026, 1, 1)))
        finally:
            db.session.remove()
            db.engine.dispose()


def minutes_export_from_url(database_url, today):
    """The minutes workbook of the latest meeting on a database URL (child process)."""
    from datetime import datetime

    from tracker.extensions import db

    app = _export_app(database_url)
    with app.app_context():
        try:
            return len(minutes_export(latest_meeting_id(db.engine), today,
                                      datetime(2026, 1, 1)))
        finally:
            db.session.remove()
            db.engine.dispose()


def roadmap_export_baseline_from_url(database_url, today, t):
    """The roadmap export's own limit on a database URL (child process)."""
    from bench.generate import engine_for
    from exports.roadmap import COLUMNS, roadmap_query

    engine = engine_for(database_url)
    try:
        return len(export_baseline(engine, roadmap_query(today, t),
                                   [c.header for c in COLUMNS]))
    finally:
        engine.dispose()


def replay_workbook_from_url(database_url, statements):
    """The minutes' limit on a database URL (child process): ``statements`` (recorded from
    the minutes export in the parent) replayed into a bare write-only loop."""
    from bench.generate import engine_for

    engine = engine_for(database_url)
    try:
        return len(replay_workbook(engine, statements))
    finally:
        engine.dispose()


def plan_workbook(engine, n_rows):
    """An action plan of ``n_rows`` milestones in the template's columns: half the rows
    (at most as many as exist) update existing milestones (a new percentage), the rest create
    new ones spread over the departments. Returns (bytes, number of rows)."""
    from datetime import date, timedelta

    from exports.plan_template import COLUMNS
    from models import Department, Milestone
    from tracker.labels import LABELS

    with engine.connect() as conn:
        existing = conn.execute(
            sa.select(Department.code, Milestone.code, Milestone.title, Milestone.category,
                      Milestone.due_date)
            .join(Department, Department.id == Milestone.department_id)
            .where(Milestone.status.in_(("not_started", "in_progress")),
                   Milestone.start_date.is_(None) | (Milestone.start_date <= Milestone.due_date))
            .order_by(Milestone.id).limit(n_rows // 2)
        ).all()
        departments = list(conn.execute(
            sa.select(Department.code).where(Department.active.is_(True))
            .order_by(Department.id)).scalars())
    status = LABELS["milestone_status"]["in_progress"]
    rows = []
    for i, (dept, code, title, category, due) in enumerate(existing):
        rows.append((dept, code, title, "", LABELS["milestone_category"][category], "", None, due,
                     status,
                     (i * 7) % 99 + 1, None))
    category = next(iter(LABELS["milestone_category"].values()))
    first_due = date(2027, 1, 1)
    for i in range(n_rows - len(rows)):
        rows.append((departments[i % len(departments)], f"IMP-{i + 1:05d}",
                     f"Imported milestone {i + 1}", "From the bench action plan", category,
                     "Bench officer", None, first_due + timedelta(days=i % 365), status,
                     i % 100, None))
    header = [c.header for c in COLUMNS]
    return write_only_workbook(rows, header=header, title="Milestones"), len(rows)
