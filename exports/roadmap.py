"""The whole roadmap: every milestone with its dates and health, streamed.

The rows come from one server-side query read in batches (``yield_per``) as plain tuples,
and the sheet is written in write-only mode, so memory stays flat whatever the number of
milestones. The columns are those of the action-plan template, so a department's roadmap
can be imported back (``exports.plan_import``)."""
import sqlalchemy as sa

from exports.workbook import Column, Table, generated_label, new_workbook, to_bytes
from models import Department, Milestone
from tracker import rules
from tracker.extensions import db
from tracker.labels import LABELS

COLUMNS = [
    Column("Department code", width=12, min_width=12),
    Column("Department", width=36, min_width=18),
    Column("Milestone code", width=17, min_width=17),
    Column("Title", width=50, min_width=30),
    Column("Description", width=50, min_width=36),
    Column("Category", width=22, min_width=14),
    Column("Owner", width=24, min_width=16),
    Column("Status", width=14, min_width=12),
    Column("% complete", "number", width=9),
    Column("Start date", "date", width=11),
    Column("Baseline due", "date", width=11),
    Column("Due date", "date", width=11),
    Column("Completed on", "date", width=11),
    Column("Days slipped", "number", width=9),
    Column("Health", "health", width=10),
]
BATCH = 1000


def roadmap_query(today, t, department_ids=None):
    q = (
        sa.select(
            Department.code, Department.name, Milestone.code, Milestone.title,
            Milestone.description, Milestone.category, Milestone.owner, Milestone.status,
            Milestone.percent_complete, Milestone.start_date, Milestone.baseline_due,
            Milestone.due_date, Milestone.completed_on, rules.slipped_days_sql(),
            rules.health_sql(today, t),
        )
        .join(Department, Milestone.department_id == Department.id)
        .order_by(Department.name, Milestone.position, Milestone.due_date, Milestone.id)
    )
    if department_ids is not None:
        q = q.where(Milestone.department_id.in_(department_ids))
    return q


def _rows(today, t, department_ids):
    cat, st = LABELS["milestone_category"], LABELS["milestone_status"]
    result = db.session.execute(
        roadmap_query(today, t, department_ids).execution_options(yield_per=BATCH)
    )
    try:
        for (dcode, dname, code, title, desc, category, owner, status, pct, start, base, due,
             done, slipped, health) in result:
            yield (dcode, dname, code, title, desc, cat.get(category, category), owner,
                   st.get(status, status), pct, start, base, due, done, slipped, health)
    finally:
        result.close()


def roadmap_workbook(today, t, generated_at, department_ids=None, title=None) -> bytes:
    wb = new_workbook()
    table = Table(wb, "Roadmap", title or "Roadmap: every milestone", COLUMNS,
                  generated_label(generated_at), facts=[("As of", today)])
    table.write(_rows(today, t, department_ids))
    return to_bytes(wb)
