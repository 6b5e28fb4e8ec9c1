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
from tracker.permissions import authorize, can
from tracker.settings import thresholds
from views.unit_of_work import form_errors, unit_of_work
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


def on_plan_page(department, review_form=None):
    """The unit of work's answers on the plan page: the operation's messages (422) or the
    conflict (409), with the plan as it is now."""

    def invalid(exc):
        general = (apply_errors(review_form, exc.errors) if review_form is not None
                   else exc.messages)
        return render_plan(department, load_plan(department), review_form=review_form,
                           general_errors=general, status=422)

    def conflict(exc):
        return render_plan(department, load_plan(department), general_errors=[
            _("Someone else changed this plan since you opened it. Here it is as it is now: "
              "please check it and try again.")], status=409)

    return {"invalid": invalid, "conflict": conflict}


def done(department, message):
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
    with unit_of_work(**on_plan_page(department)):
        ops.create_plan(department, current_user, title=request.form.get("title"))
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
        with unit_of_work(invalid=form_errors(form, lambda general: render_milestone_form(
                department, require_plan(department), form, general_errors=general,
                status=422))):
            ops.add_milestone(plan, current_user, **milestone_values(form))
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

        def conflict(exc):
            saved = load_milestone(department, milestone_id)
            form.version.data = str(saved.version)
            return render_milestone_form(department, saved.plan, form, saved, general_errors=[
                _("Someone else changed this milestone since you opened it. Your input is kept "
                  "below; the milestone now reads: %(code)s, %(title)s, due %(due)s. Save again "
                  "to apply your input.", code=saved.code, title=saved.title,
                  due=saved.due_date.strftime("%d-%m-%Y"))], status=409)

        def invalid(general):
            saved = load_milestone(department, milestone_id)
            return render_milestone_form(department, saved.plan, form, saved,
                                         general_errors=general, status=422)

        with unit_of_work(invalid=form_errors(form, invalid), conflict=conflict):
            ops.edit_milestone(milestone, current_user, expected_version=form.version.data,
                               **milestone_values(form))
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
    with unit_of_work(**on_plan_page(department)):
        ops.move_milestone(milestone, current_user, offset=offset)
    return done(department, _("The order of the milestones was changed."))


@bp.route("/milestones/<int:milestone_id>/remove", methods=["POST"])
@login_required
def remove_milestone(code, milestone_id):
    department = load_department(code)
    milestone = authorize("edit_plan", load_milestone(department, milestone_id))
    with unit_of_work(**on_plan_page(department)):
        ops.remove_milestone(milestone, current_user)
    return done(department, _("The milestone was removed."))


# --- Lifecycle -----------------------------------------------------------------------------


def lifecycle(code, permission, operation, message, review=False):
    """One step of the plan's lifecycle from its page: the plan version that was read (and,
    for a review, the comment) from the form, the operation in the unit of work, back to the
    plan."""
    department = load_department(code)
    plan = authorize(permission, require_plan(department))
    form = ReviewForm() if review else PlanActionForm()
    comment = {"comment": form.comment.data} if review else {}
    with unit_of_work(**on_plan_page(department, review_form=form if review else None)):
        operation(plan, current_user, expected_version=form.lock_version.data or None, **comment)
    return done(department, message)


@bp.route("/submit", methods=["POST"])
@login_required
def submit(code):
    return lifecycle(code, "submit_plan", ops.submit_plan,
                     _("The plan was submitted for review."))


@bp.route("/approve", methods=["POST"])
@login_required
def approve(code):
    return lifecycle(code, "review_plan", ops.approve_plan,
                     _("The plan was approved; the baseline due dates are frozen."), review=True)


@bp.route("/return", methods=["POST"])
@login_required
def return_(code):
    return lifecycle(code, "review_plan", ops.return_plan,
                     _("The plan was returned to the department with your comment."), review=True)


@bp.route("/revise", methods=["POST"])
@login_required
def revise(code):
    return lifecycle(code, "edit_plan", ops.revise_plan,
                     _("The plan is open for changes as a new draft; the approved "
                       "version and the baselines stay."))
