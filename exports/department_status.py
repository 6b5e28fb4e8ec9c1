"""The department status report: per department, plan status, milestones by health,
slippage and open bottlenecks by age bucket."""
import sqlalchemy as sa

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from exports.workbook import Column, Table, generated_label, new_workbook, to_bytes
from models import Bottleneck, Milestone
from models.bottleneck import OPEN_BOTTLENECK_STATUSES
from tracker import rules
from tracker.queries import summaries as summary_queries
from tracker.extensions import db
from tracker.labels import label, lazy_label

COLUMNS = [
    Column(_l("Department")),
    Column(_l("Action plan")),
    Column(_l("Milestones"), "number"),
    *(Column(lazy_label("health", h), "number") for h in rules.HEALTHS),
    Column(_l("Slipped milestones"), "number"),
    Column(_l("Days slipped (total)"), "number"),
    Column(_l("Days slipped (most)"), "number"),
    Column(_l("Open bottlenecks"), "number"),
    *(Column(_l("Open bottlenecks, %(age)s", age=lazy_label("age_bucket", b)), "number")
      for b in rules.AGE_BUCKETS),
]


def status_rows(today, t, department_ids=None):
    summaries = summary_queries.department_summaries(today, t, department_ids)
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
        rows.append((d.name, label("plan_status", s.plan_status), s.total,
                     *(s.counts.get(h, 0) for h in rules.HEALTHS), n, int(total or 0),
                     int(most or 0), s.open_bottlenecks,
                     *(buckets.get(d.id, {}).get(b, 0) for b in rules.AGE_BUCKETS)))
    return rows


def department_status_workbook(today, t, generated_at, department_ids=None) -> bytes:
    wb = new_workbook()
    Table(wb, _("Department status"), _("Department status report"), COLUMNS,
          generated_label(generated_at), facts=[(_("As of"), today)]
          ).write(status_rows(today, t, department_ids))
    return to_bytes(wb)
