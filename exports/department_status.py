"""The department status report: per department, plan status, milestones by health,
slippage and open bottlenecks by age bucket."""
import sqlalchemy as sa

from exports.workbook import Column, Table, generated_label, new_workbook, to_bytes
from models import Bottleneck, Milestone
from models.bottleneck import OPEN_BOTTLENECK_STATUSES
from tracker import reports, rules
from tracker.extensions import db

COLUMNS = [
    Column("Department"),
    Column("Action plan"),
    Column("Milestones", "number"),
    *(Column(rules.HEALTH_LABELS[h], "number") for h in rules.HEALTHS),
    Column("Slipped milestones", "number"),
    Column("Days slipped (total)", "number"),
    Column("Days slipped (most)", "number"),
    Column("Open bottlenecks", "number"),
    *(Column(f"Open {rules.AGE_BUCKET_LABELS[b]}", "number") for b in rules.AGE_BUCKETS),
]


def status_rows(today, t, department_ids=None):
    summaries = reports.department_summaries(today, t, department_ids)
    slipped = rules.slipped_days_sql()
    slip = {d: (n, total, most) for d, n, total, most in db.session.execute(
        sa.select(Milestone.department_id, sa.func.count(), sa.func.sum(slipped),
                  sa.func.max(slipped))
        .where(rules.slipped_sql()).group_by(Milestone.department_id))}
    bucket = rules.age_bucket_sql(today).label("bucket")
    inner = (sa.select(Bottleneck.department_id, bucket)
             .where(Bottleneck.status.in_(OPEN_BOTTLENECK_STATUSES)).subquery())
    buckets = {}
    for d, b, n in db.session.execute(
        sa.select(inner.c.department_id, inner.c.bucket, sa.func.count())
        .group_by(inner.c.department_id, inner.c.bucket)
    ):
        buckets.setdefault(d, {})[b] = n
    rows = []
    for s in summaries:
        d = s.department
        n, total, most = slip.get(d.id, (0, 0, 0))
        rows.append((d.name, s.plan_status.capitalize(), s.total,
                     *(s.counts.get(h, 0) for h in rules.HEALTHS), n, int(total or 0),
                     int(most or 0), s.open_bottlenecks,
                     *(buckets.get(d.id, {}).get(b, 0) for b in rules.AGE_BUCKETS)))
    return rows


def department_status_workbook(today, t, generated_at, department_ids=None) -> bytes:
    wb = new_workbook()
    Table(wb, "Department status", "Department status report", COLUMNS,
          generated_label(generated_at), facts=[("As of", today)]
          ).write(status_rows(today, t, department_ids))
    return to_bytes(wb)
