"""Aggregate queries shared by the home page, dashboards and exports. Each is one or two
set-based statements whatever the number of milestones."""
from dataclasses import dataclass, field

import sqlalchemy as sa

from models import ActionPlan, Bottleneck, Department, Milestone
from models.bottleneck import OPEN_BOTTLENECK_STATUSES
from tracker import rules
from tracker.extensions import db


@dataclass
class DepartmentSummary:
    department: Department
    plan_status: str
    counts: dict = field(default_factory=dict)
    open_bottlenecks: int = 0

    @property
    def total(self):
        return sum(self.counts.values())


def health_counts_by_department(today, t, department_ids=None):
    """``{department_id: {health: count}}`` in one grouped query."""
    health = rules.health_sql(today, t).label("health")
    inner = sa.select(Milestone.department_id, health)
    if department_ids is not None:
        inner = inner.where(Milestone.department_id.in_(department_ids))
    inner = inner.subquery()
    rows = db.session.execute(
        sa.select(inner.c.department_id, inner.c.health, sa.func.count())
        .group_by(inner.c.department_id, inner.c.health)
    )
    result = {}
    for dept_id, name, count in rows:
        result.setdefault(dept_id, dict.fromkeys(rules.HEALTHS, 0))[name] = count
    return result


def department_summaries(today, t, department_ids=None):
    """Every (or the given) active department with its plan status, milestone counts by
    health and open bottlenecks: three queries."""
    q = (
        sa.select(Department, ActionPlan.status)
        .outerjoin(ActionPlan, ActionPlan.department_id == Department.id)
        .where(Department.active.is_(True))
        .order_by(Department.name)
    )
    if department_ids is not None:
        q = q.where(Department.id.in_(department_ids))
    rows = db.session.execute(q).all()
    counts = health_counts_by_department(today, t, department_ids)
    open_q = (
        sa.select(Bottleneck.department_id, sa.func.count())
        .where(Bottleneck.status.in_(OPEN_BOTTLENECK_STATUSES))
        .group_by(Bottleneck.department_id)
    )
    open_counts = dict(db.session.execute(open_q).all())
    return [
        DepartmentSummary(
            department=dept,
            plan_status=plan_status or "missing",
            counts=counts.get(dept.id, dict.fromkeys(rules.HEALTHS, 0)),
            open_bottlenecks=open_counts.get(dept.id, 0),
        )
        for dept, plan_status in rows
    ]


# --- The service register ---------------------------------------------------------------


@dataclass
class ServiceSummary:
    department: Department
    total: int = 0
    notified: int = 0
    online: int = 0
    integrated: int = 0

    @staticmethod
    def _share(n, of):
        return round(100 * n / of) if of else None

    @property
    def notified_share(self):
        return self._share(self.notified, self.total)

    @property
    def online_share(self):
        return self._share(self.online, self.total)

    @property
    def integrated_share(self):
        return self._share(self.integrated, self.total)


def service_summaries(department_ids=None):
    """Per active department: services, PSGA-notified, online, integrated (one query).
    Shares are percentages of the department's services, rounded; None when it has none."""
    from models import Service

    def count_if(condition):
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    q = (
        sa.select(
            Department,
            sa.func.count(Service.id),
            count_if(Service.psga_notified.is_(True)),
            count_if(rules.service_online_sql()),
            count_if(rules.service_integrated_sql()),
        )
        .outerjoin(Service, Service.department_id == Department.id)
        .where(Department.active.is_(True))
        .group_by(Department.id)
        .order_by(Department.name)
    )
    if department_ids is not None:
        q = q.where(Department.id.in_(department_ids))
    return [
        ServiceSummary(dept, int(total), int(notified), int(online), int(integrated))
        for dept, total, notified, online, integrated in db.session.execute(q).all()
    ]
