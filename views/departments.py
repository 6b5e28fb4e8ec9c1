import sqlalchemy as sa
from flask import Blueprint, abort, render_template
from flask_login import login_required

from models import ActionPlan, Department, Milestone
from tracker import clock, rules
from tracker.extensions import db
from tracker.permissions import authorize
from tracker.settings import thresholds

bp = Blueprint("departments", __name__, url_prefix="/departments")


@bp.route("/<code>")
@login_required
def show(code):
    department = db.session.execute(db.select(Department).filter_by(code=code)).scalar()
    if department is None:
        abort(404)
    authorize("read", department)
    today = clock.today()
    t = thresholds()
    plan = db.session.execute(db.select(ActionPlan).filter_by(department_id=department.id)).scalar()
    rows = db.session.execute(
        sa.select(
            Milestone,
            rules.health_sql(today, t).label("health"),
            rules.slipped_days_sql().label("slipped"),
        )
        .where(Milestone.department_id == department.id)
        .order_by(Milestone.position, Milestone.due_date, Milestone.id)
    ).all()
    return render_template(
        "departments/show.html", department=department, plan=plan, rows=rows, today=today
    )
