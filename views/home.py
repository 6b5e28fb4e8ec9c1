"""The home page: for each role a work list of what they must do, each row naming its
subject and linking to where it is done; the overview of every department for viewers and
administrators (and for everyone at /overview); the list of departments' plans; approving
or returning a submitted plan straight from the Secretary's list."""
import sqlalchemy as sa
from flask import (Blueprint, abort, flash, redirect, render_template, request, session,
                   url_for)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from models import ActionPlan, Department
from tracker import clock
from tracker.queries import summaries as summary_queries
from tracker.queries import worklists as work
from tracker.extensions import db
from tracker.operations import plans as plan_ops
from tracker.permissions import authorize, visible_department_ids
from tracker.settings import thresholds
from views.flags import flag_due_date, flag_subject
from views.unit_of_work import unit_of_work
from views.workflow_forms import ReviewForm

bp = Blueprint("home", __name__)

PLAN_LIST_PAGE = 100
PLAN_LIST_TITLES = {
    "submitted": _l("Action plans awaiting review"),
    "to_resubmit": _l("Action plans to edit and resubmit"),
    "no_plan": _l("Departments with no submitted action plan"),
    "approved": _l("Approved action plans"),
    "": _l("Action plans of all departments"),
}


def _overview(today):
    summaries = summary_queries.department_summaries(today, thresholds(), visible_department_ids(current_user))
    totals = {}
    for s in summaries:
        for health, n in s.counts.items():
            totals[health] = totals.get(health, 0) + n
    return render_template("home/index.html", summaries=summaries, totals=totals, today=today)


def _flag_rows(listed):
    """Flag rows ``(flag, code, name)`` with their subject and due date: ``(flag, code, name,
    subject, url, due)``."""
    listed.rows = [(f, code, name, *flag_subject(f, code), flag_due_date(f))
                   for f, code, name in listed.rows]
    return listed


def _nodal(today, t):
    department = current_user.department
    if department is None:
        abort(404)
    plan, submitted_by, reviewed_by = work.department_plan(department.id)
    return dict(
        template="home/nodal.html",
        department=department,
        plan=plan, submitted_by=submitted_by, reviewed_by=reviewed_by,
        next_step=work.plan_next_step(plan),
        overdue=work.overdue_milestones(department.id, today),
        due_soon=work.due_soon_milestones(department.id, today),
        to_slip=work.forecast_to_slip_milestones(department.id, today, t),
        stale=work.stale_milestones(department.id, today, t),
        bottlenecks=work.open_bottlenecks(department.id, today, t),
        action_items=work.open_action_items(department.id, today),
        due_soon_days=work.DUE_SOON_DAYS, stale_days=t.stale_days,
        margin_days=t.forecast_margin_days,
    )


def _nic(today, t):
    return dict(
        template="home/nic.html",
        to_resubmit=work.plans_to_resubmit(),
        no_plan=work.departments_without_plan(),
        escalated=_flag_rows(work.escalated_flags("nic")),
    )


def _secretary(today, t, return_errors=None):
    meeting, agenda_items = work.next_meeting(today)
    return dict(
        template="home/secretary.html",
        awaiting=work.plans_awaiting_review(),
        escalated=_flag_rows(work.escalated_flags("secretary")),
        past_sla=work.bottlenecks_past_sla(today, t),
        meeting=meeting, agenda_items=agenda_items,
        return_errors=return_errors or {},
        review_form=ReviewForm(),
    )


WORK_LISTS = {"nodal": _nodal, "nic": _nic, "secretary": _secretary}


def _work_page(status=200, **extra):
    today = clock.today()
    context = WORK_LISTS[current_user.role](today, thresholds(), **extra)
    return render_template(context.pop("template"), today=today, **context), status


@bp.route("/")
@login_required
def index():
    if current_user.role in WORK_LISTS:
        return _work_page()
    return _overview(clock.today())


@bp.route("/overview")
@login_required
def overview():
    """Every department with its plan and milestone counts (a nodal officer: their own)."""
    authorize("read")
    return _overview(clock.today())


@bp.route("/work/plans")
@login_required
def plans():
    """The departments' action plans, by state: the whole list behind the home page's."""
    authorize("read")
    state = request.args.get("state", "")
    if state not in work.PLAN_LIST_STATES:
        abort(404)
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    visible = visible_department_ids(current_user)
    listed = work.plan_list(state, PLAN_LIST_PAGE, (page - 1) * PLAN_LIST_PAGE,
                            department_ids=visible)
    pages = max(1, -(-listed.total // PLAN_LIST_PAGE))
    if page > pages:
        abort(404)
    return render_template("home/plans.html", listed=listed, state=state,
                           title=PLAN_LIST_TITLES[state], states=PLAN_LIST_TITLES,
                           page=page, pages=pages, today=clock.today())


def _submitted_plan(code):
    department = db.session.execute(sa.select(Department).filter_by(code=code)).scalar()
    if department is None:
        abort(404)
    plan = db.session.execute(sa.select(ActionPlan).filter_by(department_id=department.id)).scalar()
    if plan is None:
        abort(404)
    return department, authorize("review_plan", plan)


@bp.route("/work/plans/<code>/approve", methods=["POST"])
@login_required
def approve_plan(code):
    """Approve a submitted plan from the Secretary's list; back to the list."""
    department, plan = _submitted_plan(code)
    form = ReviewForm()
    with unit_of_work(**_refused(department)):
        plan_ops.approve_plan(plan, current_user, comment=form.comment.data,
                              expected_version=form.lock_version.data or None)
    flash(_("The action plan of %(department)s was approved; the baseline due dates are "
            "frozen.", department=department.name), "success")
    return redirect(url_for("home.index"), 303)


@bp.route("/work/plans/<code>/return", methods=["POST"])
@login_required
def return_plan(code):
    """Return a submitted plan with a comment from the Secretary's list; back to the list,
    or the list again with the message beside that plan's comment box."""
    department, plan = _submitted_plan(code)
    form = ReviewForm()
    with unit_of_work(**_refused(department, comment=form.comment.data)):
        plan_ops.return_plan(plan, current_user, comment=form.comment.data,
                             expected_version=form.lock_version.data or None)
    flash(_("The action plan of %(department)s was returned with your comment.",
            department=department.name), "success")
    return redirect(url_for("home.index"), 303)


def _refused(department, comment=None):
    """The unit of work's answers of the Secretary's list: a conflict goes to the plan as it
    is now; a refused review shows the list again, the message beside that plan's box."""
    code, name = department.code, department.name

    def conflict(exc):
        flash(_("Someone else changed the action plan of %(department)s since you opened this "
                "page. Here it is as it is now.", department=name), "error")
        return redirect(url_for("plans.show", code=code), 303)

    def invalid(exc):
        errors = {code: {"messages": exc.messages, "comment": comment or ""}}
        return _work_page(status=422, return_errors=errors)

    return {"invalid": invalid, "conflict": conflict}


@bp.route("/language", methods=["POST"])
def set_language():
    """Switch the interface language; remembered in the session and, when signed in, the profile."""
    from flask import current_app

    from flask_babel import refresh

    code = request.form.get("language", "")
    if code in current_app.config["LANGUAGES"]:
        session["locale"] = code
        if current_user.is_authenticated and current_user.locale != code:
            from tracker import audit

            with unit_of_work():
                audit.record("set_language", "user", current_user.id,
                             {"locale": [current_user.locale, code]})
                current_user.locale = code
        refresh()  # the locale chosen for this request so far is no longer the user's
    from views.auth import safe_next

    return redirect(safe_next(request.form.get("next")) or url_for("home.index"))
