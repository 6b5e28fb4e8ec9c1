import sqlalchemy as sa
from flask import Blueprint, abort, render_template, request, url_for
from flask_login import login_required
from sqlalchemy.orm import joinedload

from models import ActionPlan, Bottleneck, Department, Milestone
from models.bottleneck import OPEN_BOTTLENECK_STATUSES
from tracker import clock, rules
from tracker.extensions import db
from tracker.operations.milestones import revision_count_sql
from views.sorting import Sort, column
from tracker.permissions import authorize
from tracker.settings import thresholds
from views.flags import department_flags

bp = Blueprint("departments", __name__, url_prefix="/departments")
PAGE_SIZE = 50  # milestones per page: a department can have a thousand


def milestone_sort_columns(today, t):
    """The columns a department's milestones may be sorted by; 'plan' is the plan's order."""
    health_rank = sa.case({h: i for i, h in enumerate(rules.HEALTHS)},
                          value=rules.health_sql(today, t), else_=len(rules.HEALTHS))
    return {
        "plan": column(Milestone.position, Milestone.due_date),
        "code": column(Milestone.code),
        "title": column(Milestone.title),
        "status": column(Milestone.status),
        "done": column(Milestone.percent_complete, descending_first=True),
        "due": column(Milestone.due_date),
        "slipped": column(rules.slipped_days_sql(), descending_first=True),
        "revisions": column(revision_count_sql(), descending_first=True),
        "health": column(health_rank),
    }


def milestone_url(m):
    return url_for("milestones.show", milestone_id=m.id)


@bp.route("/<code>")
@login_required
def show(code):
    open_count = (
        sa.select(sa.func.count(Bottleneck.id))
        .where(Bottleneck.department_id == Department.id,
               Bottleneck.status.in_(OPEN_BOTTLENECK_STATUSES))
        .scalar_subquery()
    )
    found = db.session.execute(
        sa.select(Department, open_count).where(Department.code == code)
    ).first()
    if found is None:
        abort(404)
    department, open_bottlenecks = found
    authorize("read", department)
    today = clock.today()
    t = thresholds()
    plan = db.session.execute(
        db.select(ActionPlan)
        .options(joinedload(ActionPlan.submitted_by), joinedload(ActionPlan.reviewed_by))
        .filter_by(department_id=department.id)
    ).scalar()
    total = db.session.execute(
        sa.select(sa.func.count(Milestone.id)).where(Milestone.department_id == department.id)
    ).scalar_one()
    pages = max(1, -(-total // PAGE_SIZE))
    page = request.args.get("page", 1, type=int)
    if not 1 <= page <= pages:
        abort(404)
    filters = {k: v for k, v in request.args.to_dict(flat=False).items()
               if k not in ("page", "code", "sort")}
    sort = Sort.from_args(
        request.args, milestone_sort_columns(today, t), "plan",
        lambda value: url_for("departments.show", code=department.code, **filters,
                              **({} if value == "plan" else {"sort": value})),
        tiebreak=(Milestone.id,))
    rows = db.session.execute(
        sa.select(
            Milestone,
            rules.health_sql(today, t).label("health"),
            rules.slipped_days_sql().label("slipped"),
            revision_count_sql().label("revisions"),
        )
        .where(Milestone.department_id == department.id)
        .order_by(*sort.order_by())
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    args = {**filters, **({} if sort.is_default else {"sort": sort.value})}

    def page_url(n):
        return url_for("departments.show", code=department.code, **args, page=n)

    flag_counts, flags_total, worst_flags = department_flags(department)
    return render_template(
        "departments/show.html", department=department, plan=plan, rows=rows, today=today,
        flag_counts=flag_counts, flags_total=flags_total, worst_flags=worst_flags,
        url_for_milestone=milestone_url, open_bottlenecks=open_bottlenecks,
        page=page, pages=pages, page_url=page_url, sort=sort,
    )
