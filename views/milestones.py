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
from tracker.operations import milestones as ops
from tracker.operations.errors import ConflictError, ValidationError
from tracker.permissions import authorize, can
from tracker.settings import thresholds
from views.workflow_forms import MilestoneUpdateForm, apply_errors

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


def render_page(milestone, form=None, general_errors=(), status=200):
    today = clock.today()
    t = thresholds()
    history = ops.history(milestone.id)
    bottlenecks = db.session.execute(
        sa.select(Bottleneck, rules.bottleneck_age_sql(today).label("age"))
        .where(Bottleneck.milestone_id == milestone.id)
        .order_by(Bottleneck.raised_on.desc(), Bottleneck.id.desc())
    ).all()
    if form is None and can(current_user, "update_milestone", milestone):
        form = update_form_for(milestone)
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
    try:
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
    except ValidationError as exc:
        db.session.rollback()
        milestone = load(milestone_id)
        general = apply_errors(form, exc.errors)
        if files:
            general.append(_("The files you chose were not attached: choose them again."))
        return render_page(milestone, form, general, status=422)
    except ConflictError:
        db.session.rollback()
        return render_conflict(milestone_id, form, expected, files_dropped=bool(files))
    if files:
        attachment_ops.attach_to_update(update, files, current_user)
    db.session.commit()
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
