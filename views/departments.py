import sqlalchemy as sa
from flask import Blueprint, abort, render_template, url_for
from flask_login import login_required
from sqlalchemy.orm import joinedload

from models import ActionPlan, Bottleneck, Department, Milestone
from models.bottleneck import OPEN_BOTTLENECK_STATUSES
from tracker import clock, rules
from tracker.extensions import db
from tracker.operations.milestones import revision_count_sql
from tracker.permissions import authorize
from tracker.settings import thresholds

bp = Blueprint("departments", __name__, url_prefix="/departments")


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
    rows = db.session.execute(
        sa.select(
            Milestone,
            rules.health_sql(today, t).label("health"),
            rules.slipped_days_sql().label("slipped"),
            revision_count_sql().label("revisions"),
        )
        .where(Milestone.department_id == department.id)
        .order_by(Milestone.position, Milestone.due_date, Milestone.id)
    ).all()
    return render_template(
        "departments/show.html", department=department, plan=plan, rows=rows, today=today,
        url_for_milestone=milestone_url, open_bottlenecks=open_bottlenecks,
    )
