"""A department's action plan: its milestones while drafting, submission, the Secretary's
review, revision of an approved plan, and every submitted version."""
import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from models import ActionPlan, Department, Milestone, PlanVersion, Service
from tracker import clock, rules
from tracker.extensions import db
from tracker.operations import plans as ops
from tracker.operations.errors import ConflictError, ValidationError
from tracker.permissions import authorize, can
from tracker.settings import thresholds
from views.workflow_forms import (
    MilestoneForm,
    PlanActionForm,
    ReviewForm,
    apply_errors,
    opts,
)

bp = Blueprint("plans", __name__, url_prefix="/departments/<code>/plan")


def load_department(code):
    department = db.session.execute(sa.select(Department).filter_by(code=code)).scalar()
    if department is None:
        abort(404)
    return department


def load_plan(department):
    return db.session.execute(
        sa.select(ActionPlan)
        .options(joinedload(ActionPlan.submitted_by), joinedload(ActionPlan.reviewed_by))
        .where(ActionPlan.department_id == department.id)
    ).scalar()


def require_plan(department):
    plan = load_plan(department)
    if plan is None:
        abort(404)
    return plan


def load_milestone(department, milestone_id):
    milestone = db.session.get(Milestone, milestone_id)
    if milestone is None:
        abort(404)
    authorize("read", milestone)
    if milestone.department_id != department.id:
        abort(404)
    return milestone


def render_plan(department, plan, *, review_form=None, general_errors=(), status=200):
    today = clock.today()
    rows, versions = [], []
    if plan is not None:
        rows = db.session.execute(
            sa.select(
                Milestone,
                rules.health_sql(today, thresholds()).label("health"),
                rules.slipped_days_sql().label("slipped"),
            )
            .where(Milestone.plan_id == plan.id)
            .order_by(Milestone.position, Milestone.id)
        ).all()
        versions = db.session.execute(
            sa.select(PlanVersion)
            .options(joinedload(PlanVersion.submitted_by), joinedload(PlanVersion.reviewed_by))
            .where(PlanVersion.plan_id == plan.id)
            .order_by(PlanVersion.number.desc())
        ).scalars().all()
    action_form = PlanActionForm()
    if plan is not None:
        action_form.lock_version.data = str(plan.lock_version)
        if review_form is None:
            review_form = ReviewForm()
        review_form.lock_version.data = str(plan.lock_version)
    return render_template(
        "plans/show.html",
        department=department,
        plan=plan,
        rows=rows,
        versions=versions,
        action_form=action_form,
        review_form=review_form,
        general_errors=list(general_errors),
        today=today,
    ), status


def refused(department, plan, exc, review_form=None):
    """The plan page again, with the operation's messages (422) or the conflict (409)."""
    db.session.rollback()
    plan = load_plan(department)
    if isinstance(exc, ConflictError):
        return render_plan(department, plan, general_errors=[
            _("Someone else changed this plan since you opened it. Here it is as it is now: "
              "please check it and try again.")], status=409)
    general = (apply_errors(review_form, exc.errors) if review_form is not None
               else exc.messages)
    return render_plan(department, plan, review_form=review_form, general_errors=general,
                       status=422)


def done(department, message):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("plans.show", code=department.code), 303)


@bp.route("")
@login_required
def show(code):
    department = authorize("read", load_department(code))
    return render_plan(department, load_plan(department))


@bp.route("/create", methods=["POST"])
@login_required
def create(code):
    department = authorize("edit_plan", load_department(code))
    try:
        ops.create_plan(department, current_user, title=request.form.get("title"))
    except ValidationError as exc:
        return refused(department, load_plan(department), exc)
    return done(department, _("A draft action plan was started."))


@bp.route("/versions/<int:number>")
@login_required
def version(code, number):
    department = authorize("read", load_department(code))
    plan = require_plan(department)
    version = db.session.execute(
        sa.select(PlanVersion)
        .options(joinedload(PlanVersion.submitted_by), joinedload(PlanVersion.reviewed_by))
        .where(PlanVersion.plan_id == plan.id, PlanVersion.number == number)
    ).scalar()
    if version is None:
        abort(404)
    return render_template("plans/version.html", department=department, plan=plan,
                           version=version)


# --- Milestones while drafting -------------------------------------------------------------


def milestone_form(department, milestone=None):
    form = MilestoneForm(obj=milestone if request.method == "GET" else None)
    services = db.session.execute(
        sa.select(Service.id, Service.name).where(Service.department_id == department.id)
        .order_by(Service.name)
    ).all()
    form.service_id.choices = opts([(None, _("(none)"))] + [(s.id, s.name) for s in services])
    if milestone is not None and request.method == "GET":
        form.version.data = str(milestone.version)
    return form


def milestone_values(form):
    return dict(code=form.code.data, title=form.title.data, category=form.category.data,
                due_date=form.due_date.data, start_date=form.start_date.data,
                description=form.description.data, owner=form.owner.data,
                service_id=form.service_id.data)


def render_milestone_form(department, plan, form, milestone=None, general_errors=(), status=200):
    return render_template("plans/milestone_form.html", department=department, plan=plan,
                           form=form, milestone=milestone,
                           general_errors=list(general_errors)), status


@bp.route("/milestones/new", methods=["GET", "POST"])
@login_required
def add_milestone(code):
    department = load_department(code)
    plan = authorize("edit_plan", require_plan(department))
    form = milestone_form(department)
    if request.method == "POST":
        if not form.validate():
            return render_milestone_form(department, plan, form, status=422)
        try:
            ops.add_milestone(plan, current_user, **milestone_values(form))
        except ValidationError as exc:
            db.session.rollback()
            plan = require_plan(department)
            return render_milestone_form(department, plan, form,
                                         general_errors=apply_errors(form, exc.errors), status=422)
        return done(department, _("The milestone was added."))
    if not can(current_user, "edit_plan", plan):
        return render_plan(department, plan, general_errors=[
            _("Milestones can be added only while the plan is a draft or returned.")], status=422)
    return render_milestone_form(department, plan, form)


@bp.route("/milestones/<int:milestone_id>/edit", methods=["GET", "POST"])
@login_required
def edit_milestone(code, milestone_id):
    department = load_department(code)
    milestone = authorize("edit_plan", load_milestone(department, milestone_id))
    plan = milestone.plan
    form = milestone_form(department, milestone)
    if request.method == "POST":
        if not form.validate():
            return render_milestone_form(department, plan, form, milestone, status=422)
        try:
            ops.edit_milestone(milestone, current_user, expected_version=form.version.data,
                               **milestone_values(form))
        except ConflictError:
            db.session.rollback()
            milestone = load_milestone(department, milestone_id)
            form.version.data = str(milestone.version)
            return render_milestone_form(department, milestone.plan, form, milestone, general_errors=[
                _("Someone else changed this milestone since you opened it. Your input is kept "
                  "below; the milestone now reads: %(code)s, %(title)s, due %(due)s. Save again "
                  "to apply your input.", code=milestone.code, title=milestone.title,
                  due=milestone.due_date.strftime("%d-%m-%Y"))], status=409)
        except ValidationError as exc:
            db.session.rollback()
            milestone = load_milestone(department, milestone_id)
            return render_milestone_form(department, milestone.plan, form, milestone,
                                         general_errors=apply_errors(form, exc.errors), status=422)
        return done(department, _("The milestone was saved."))
    if not can(current_user, "edit_plan", plan):
        return render_plan(department, plan, general_errors=[
            _("Milestones can be edited only while the plan is a draft or returned.")], status=422)
    return render_milestone_form(department, plan, form, milestone)


@bp.route("/milestones/<int:milestone_id>/move", methods=["POST"])
@login_required
def move_milestone(code, milestone_id):
    department = load_department(code)
    milestone = authorize("edit_plan", load_milestone(department, milestone_id))
    offset = -1 if request.form.get("direction") == "up" else 1
    try:
        ops.move_milestone(milestone, current_user, offset=offset)
    except ValidationError as exc:
        return refused(department, milestone.plan, exc)
    return done(department, _("The order of the milestones was changed."))


@bp.route("/milestones/<int:milestone_id>/remove", methods=["POST"])
@login_required
def remove_milestone(code, milestone_id):
    department = load_department(code)
    milestone = authorize("edit_plan", load_milestone(department, milestone_id))
    try:
        ops.remove_milestone(milestone, current_user)
    except ValidationError as exc:
        return refused(department, milestone.plan, exc)
    return done(department, _("The milestone was removed."))


# --- Lifecycle -----------------------------------------------------------------------------


@bp.route("/submit", methods=["POST"])
@login_required
def submit(code):
    department = load_department(code)
    plan = authorize("submit_plan", require_plan(department))
    form = PlanActionForm()
    try:
        ops.submit_plan(plan, current_user, expected_version=form.lock_version.data or None)
    except (ValidationError, ConflictError) as exc:
        return refused(department, plan, exc)
    return done(department, _("The plan was submitted for review."))


@bp.route("/approve", methods=["POST"])
@login_required
def approve(code):
    department = load_department(code)
    plan = authorize("review_plan", require_plan(department))
    form = ReviewForm()
    try:
        ops.approve_plan(plan, current_user, comment=form.comment.data,
                         expected_version=form.lock_version.data or None)
    except (ValidationError, ConflictError) as exc:
        return refused(department, plan, exc, review_form=form)
    return done(department, _("The plan was approved; the baseline due dates are frozen."))


@bp.route("/return", methods=["POST"])
@login_required
def return_(code):
    department = load_department(code)
    plan = authorize("review_plan", require_plan(department))
    form = ReviewForm()
    try:
        ops.return_plan(plan, current_user, comment=form.comment.data,
                        expected_version=form.lock_version.data or None)
    except (ValidationError, ConflictError) as exc:
        return refused(department, plan, exc, review_form=form)
    return done(department, _("The plan was returned to the department with your comment."))


@bp.route("/revise", methods=["POST"])
@login_required
def revise(code):
    department = load_department(code)
    plan = authorize("edit_plan", require_plan(department))
    form = PlanActionForm()
    try:
        ops.revise_plan(plan, current_user, expected_version=form.lock_version.data or None)
    except (ValidationError, ConflictError) as exc:
        return refused(department, plan, exc)
    return done(department, _("The plan is open for changes as a new draft; the approved "
                              "version and the baselines stay."))


@bp.app_template_filter("isodate")
def isodate(value):
    """An ISO date string (as kept in a version's snapshot) shown DD-MM-YYYY."""
    from datetime import date

    from tracker.templating import format_date

    if not value:
        return ""
    try:
        return format_date(date.fromisoformat(value))
    except (TypeError, ValueError):
        return str(value)
