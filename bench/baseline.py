"""The limit an Excel export is held against: a bare openpyxl write-only loop over rows of
the roadmap's shape (one row per milestone, 12 cells), read with one streamed statement.

No styles, widths, filters or formula neutralising: this is the least any export of the same
rows and cells must do, so ``export time / baseline time`` is the export's own overhead.
"""
import io

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
