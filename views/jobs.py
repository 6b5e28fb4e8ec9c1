"""The scheduled jobs' history, for the administrator: the last runs of every job, who ran
them (host and process), when, how they ended and what they did. Read only."""
import sqlalchemy as sa
from flask import Blueprint, current_app, render_template
from flask_login import login_required

from models import JobRun
from models.job_run import describe_holder, format_summary
from tracker.extensions import db
from tracker.permissions import require

bp = Blueprint("jobs", __name__, url_prefix="/jobs")

SHOWN = 100
OUTCOME_STATES = {"running": "expiring", "ok": "ok", "failed": "down", "abandoned": "down"}


@bp.route("/")
@login_required
@require("view_jobs")
def index():
    total = db.session.execute(sa.select(sa.func.count(JobRun.id))).scalar()
    runs = db.session.execute(
        sa.select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(SHOWN)
    ).scalars().all()
    return render_template(
        "jobs/index.html", runs=runs, total=total, shown=len(runs),
        outcome_states=OUTCOME_STATES,
        describe_holder=describe_holder, format_summary=format_summary,
        history_days=current_app.config["JOB_RUN_HISTORY_DAYS"],
    )
