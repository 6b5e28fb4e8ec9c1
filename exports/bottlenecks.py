"""The bottleneck report: every bottleneck (or the open ones) with age, SLA and severity."""
import sqlalchemy as sa

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from exports.workbook import Column, Table, generated_label, new_workbook, to_bytes
from models import Bottleneck, Department, Milestone
from models.bottleneck import OPEN_BOTTLENECK_STATUSES
from tracker import rules
from tracker.extensions import db
from tracker.labels import label

COLUMNS = [
    Column(_l("Department")),
    Column(_l("Bottleneck"), "wrap"),
    Column(_l("Category")),
    Column(_l("Severity"), "severity"),
    Column(_l("Status")),
    Column(_l("Milestone")),
    Column(_l("Raised on"), "date"),
    Column(_l("Age (days)"), "number"),
    Column(_l("Past SLA")),
    Column(_l("Action by")),
    Column(_l("Target date"), "date"),
    Column(_l("Resolution note"), "wrap"),
]


def bottleneck_rows(today, t, open_only=False, department_ids=None):
    q = (
        sa.select(
            Department.name, Bottleneck.title, Bottleneck.category, Bottleneck.severity,
            Bottleneck.status, Milestone.code, Bottleneck.raised_on,
            rules.bottleneck_age_sql(today),
            sa.case((rules.past_sla_sql(today, t), True), else_=False),
            Bottleneck.action_by, Bottleneck.target_date, Bottleneck.resolution_note,
        )
        .join(Department, Bottleneck.department_id == Department.id)
        .outerjoin(Milestone, Bottleneck.milestone_id == Milestone.id)
        .order_by(Department.name, Bottleneck.raised_on, Bottleneck.id)
    )
    if open_only:
        q = q.where(Bottleneck.status.in_(OPEN_BOTTLENECK_STATUSES))
    if department_ids is not None:
        q = q.where(Bottleneck.department_id.in_(department_ids))
    return [
        (d, title, label("bottleneck_category", cat), sev, label("bottleneck_status", status),
         code, raised, age, _("Yes") if past else _("No"), action_by, target, note)
        for d, title, cat, sev, status, code, raised, age, past, action_by, target, note
        in db.session.execute(q)
    ]


def write_sheet(wb, rows, generated, sheet=None, title=None):
    Table(wb, sheet or _("Bottlenecks"), title or _("Bottleneck report"), COLUMNS,
          generated).write(rows)


def bottleneck_workbook(today, t, generated_at, open_only=False) -> bytes:
    wb = new_workbook()
    write_sheet(wb, bottleneck_rows(today, t, open_only), generated_label(generated_at),
                title=_("Open bottlenecks") if open_only else _("Bottleneck report"))
    return to_bytes(wb)
