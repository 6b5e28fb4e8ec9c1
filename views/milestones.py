"""A milestone's page: its dates, health, history (newest first, never editable) and the
form that records progress or a due-date revision; a stale save gets the conflict page."""
import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from models import Bottleneck, Milestone
from tracker import attachments as store
from tracker import clock, rules
from tracker.extensions import db
from tracker.operations import attachments as attachment_ops
from tracker.operations import dependencies as dependency_ops
from tracker.operations import milestones as ops
from tracker.permissions import authorize, can
from tracker.settings import thresholds
from views.unit_of_work import form_errors, unit_of_work
from views.workflow_forms import DependencyForm, MilestoneUpdateForm, RemoveForm

bp = Blueprint("milestones", __name__, url_prefix="/milestones")


def load(milestone_id):
    milestone = db.session.execute(
        sa.select(Milestone)
        .options(joinedload(Milestone.department), joinedload(Milestone.plan),
                 joinedload(Milestone.updated_by), joinedload(Milestone.service))
        .where(Milestone.id == milestone_id)
    ).scalar()
    if milestone is None:
        abort(404)
    return milestone


def update_form_for(milestone, formdata=None):
    form = MilestoneUpdateForm(formdata=formdata)
    if formdata is None:
        form.version.data = str(milestone.version)
        form.status.data = milestone.status
        form.percent_complete.data = milestone.percent_complete
        form.due_date.data = milestone.due_date
        form.completed_on.data = milestone.completed_on
    return form


# The code picker offers at most this many codes (of the milestone's own department).
PICKER_CODES = 200


def picker_codes(milestone):
    """Codes to pick a predecessor from: the department's other milestones, by code."""
    return db.session.execute(
        sa.select(Milestone.code, Milestone.title)
        .where(Milestone.department_id == milestone.department_id, Milestone.id != milestone.id)
        .order_by(Milestone.code).limit(PICKER_CODES)).all()


def render_page(milestone, form=None, general_errors=(), status=200, dependency_form=None):
    from tracker import forecast as forecasting

    today = clock.today()
    t = thresholds()
    history = ops.history(milestone.id)
    bottlenecks = db.session.execute(
        sa.select(Bottleneck, rules.bottleneck_age_sql(today).label("age"))
        .where(Bottleneck.milestone_id == milestone.id)
        .order_by(Bottleneck.raised_on.desc(), Bottleneck.id.desc())
    ).all()
    may_edit = can(current_user, "update_milestone", milestone)
    if form is None and may_edit:
        form = update_form_for(milestone)
    if dependency_form is None and may_edit:
        dependency_form = DependencyForm(formdata=None)
    predecessors, successors, dependencies_left_off = dependency_ops.neighbours(milestone.id)
    forecast = forecasting.forecast_for(milestone, today)
    return render_template(
        "milestones/show.html",
        milestone=milestone,
        history=history,
        evidence=attachment_ops.by_update([u.id for u in history]),
        revisions=sum(1 for u in history if ops.is_revision(u)),
        slipped=rules.slipped_days(milestone),
        health=rules.health(milestone, today, t),
        stale=rules.is_stale(milestone, today, t),
        bottlenecks=bottlenecks,
        form=form,
        general_errors=list(general_errors),
        today=today,
        predecessors=predecessors,
        successors=successors,
        dependencies_left_off=dependencies_left_off,
        dependency_form=dependency_form,
        remove_form=RemoveForm(formdata=None) if may_edit else None,
        picker=picker_codes(milestone) if may_edit else [],
        forecast=forecast,
        forecast_words=forecasting.describe(forecast),
    ), status


@bp.route("/<int:milestone_id>")
@login_required
def show(milestone_id):
    milestone = authorize("read", load(milestone_id))
    return render_page(milestone)


@bp.route("/<int:milestone_id>/update", methods=["POST"])
@login_required
def update(milestone_id):
    milestone = authorize("update_milestone", load(milestone_id))
    form = MilestoneUpdateForm()
    if not form.validate():
        return render_page(milestone, form, status=422)
    try:
        expected = int(form.version.data)
    except (TypeError, ValueError):
        abort(400)
    # Files are checked before anything is written: a refused one changes nothing.
    try:
        files = store.check_uploads(form.attachments.data or [])
    except store.UploadRefused as exc:
        form.attachments.errors = [str(exc)]
        return render_page(milestone, form, status=422)

    def invalid(general):
        if files:
            general.append(_("The files you chose were not attached: choose them again."))
        return render_page(load(milestone_id), form, general, status=422)

    with unit_of_work(invalid=form_errors(form, invalid), conflict=lambda exc: render_conflict(
            milestone_id, form, expected, files_dropped=bool(files))):
        update = ops.record_milestone_update(
            milestone, current_user,
            expected_version=expected,
            status=form.status.data,
            percent_complete=form.percent_complete.data,
            note=form.note.data,
            due_date=form.due_date.data,
            reason=form.reason.data or None,
            completed_on=form.completed_on.data,
            today=clock.today(),
        )
        if files:
            attachment_ops.attach_to_update(update, current_user, files=files)
    flash(_("The update was saved."), "success")
    return redirect(url_for("milestones.show", milestone_id=milestone_id), 303)


def render_conflict(milestone_id, form, expected, files_dropped=False):
    """409: what the other officer changed since ``expected``, and the second officer's input
    in a form carrying the current version, ready to re-apply."""
    milestone = load(milestone_id)
    changes = ops.changes_since(milestone.id, expected)
    form.version.data = str(milestone.version)
    return render_template("milestones/conflict.html", milestone=milestone, changes=changes,
                           form=form, expected=expected, files_dropped=files_dropped), 409


@bp.route("/<int:milestone_id>/dependencies", methods=["POST"])
@login_required
def add_dependency(milestone_id):
    """This milestone waits for another (finish-to-start), named by its code."""
    milestone = authorize("update_milestone", load(milestone_id))
    form = DependencyForm()
    if not form.validate():
        return render_page(milestone, dependency_form=form, status=422)
    with unit_of_work(invalid=form_errors(form, lambda general: render_page(
            load(milestone_id), general_errors=general, dependency_form=form, status=422))):
        predecessor = dependency_ops.resolve_code(form.predecessor.data, milestone)
        dependency_ops.add_dependency(milestone, current_user, predecessor=predecessor)
    flash(_("%(code)s now waits for %(other)s.", code=milestone.code, other=predecessor.code),
          "success")
    return redirect(url_for("milestones.show", milestone_id=milestone_id,
                            _anchor="dependencies-title"), 303)


@bp.route("/<int:milestone_id>/dependencies/<int:predecessor_id>/remove", methods=["POST"])
@login_required
def remove_dependency(milestone_id, predecessor_id):
    milestone = authorize("update_milestone", load(milestone_id))
    if not RemoveForm().validate():
        abort(400)
    with unit_of_work():
        predecessor = dependency_ops.remove_dependency(milestone, current_user,
                                                       predecessor_id=predecessor_id)
        if predecessor is None:
            abort(404)
    flash(_("%(code)s no longer waits for %(other)s.", code=milestone.code,
            other=predecessor.code), "success")
    return redirect(url_for("milestones.show", milestone_id=milestone_id,
                            _anchor="dependencies-title"), 303)
