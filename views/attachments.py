"""Attachments: downloading a file attached to a record, removing it, evidence on a
bottleneck, and the signed copy of a meeting's minutes.

Evidence on a milestone update is uploaded with the update itself (views/milestones.py).
Whoever may read the record may download its files (404 otherwise, as for the record); whoever
may write the record may attach and remove: ``update_milestone`` for a milestone update,
``update_bottleneck`` for a bottleneck, ``finalise_minutes`` (the Secretary's office) for a
meeting's signed minutes. A refused file changes nothing and says why on the page.
"""
import sqlalchemy as sa
from flask import (Blueprint, abort, flash, redirect, render_template, send_file,
                   url_for)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy.orm import joinedload
from wtforms import FileField, MultipleFileField

from models import Attachment, MilestoneUpdate, ReviewMeeting
from tracker import attachments as store
from tracker.extensions import db
from tracker.operations import attachments as ops
from tracker.permissions import authorize, can
from views.unit_of_work import unit_of_work

bp = Blueprint("attachments", __name__)

ACCEPT_EVIDENCE = ".pdf,.png,.jpg,.jpeg,.xlsx"


class EvidenceForm(FlaskForm):
    files = MultipleFileField(_l("Attach files"), render_kw={"accept": ACCEPT_EVIDENCE})


class SignedMinutesForm(FlaskForm):
    file = FileField(_l("Signed minutes (PDF)"), render_kw={"accept": ".pdf"})


def write_action(attachment):
    """The action, and the record it is checked on, that lets a user attach or remove."""
    if attachment.milestone_update_id is not None:
        return "update_milestone", attachment.milestone_update.milestone
    if attachment.bottleneck_id is not None:
        return "update_bottleneck", attachment.bottleneck
    return "finalise_minutes", attachment.meeting


def load(attachment_id):
    attachment = db.session.execute(
        sa.select(Attachment).options(
            joinedload(Attachment.milestone_update).joinedload(MilestoneUpdate.milestone),
            joinedload(Attachment.bottleneck), joinedload(Attachment.meeting))
        .where(Attachment.id == attachment_id)).scalar()
    if attachment is None:
        abort(404)
    return attachment


def back_to(attachment):
    if attachment.milestone_update_id is not None:
        return url_for("milestones.show", milestone_id=attachment.milestone_update.milestone_id,
                       _anchor="history-title")
    if attachment.bottleneck_id is not None:
        return url_for("bottlenecks.show", bottleneck_id=attachment.bottleneck_id,
                       _anchor="evidence-title")
    return url_for("meetings.show", meeting_id=attachment.meeting_id,
                   _anchor="signed-minutes-title")


@bp.route("/attachments/<int:attachment_id>")
@login_required
def download(attachment_id):
    attachment = authorize("read", load(attachment_id))
    authorize("read", attachment.parent)
    try:
        path = store.path_of(attachment.storage_key)
    except ValueError:
        abort(404)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=attachment.content_type, as_attachment=True,
                         download_name=attachment.filename, conditional=False, etag=False,
                         max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.route("/attachments/<int:attachment_id>/remove", methods=["POST"])
@login_required
def remove(attachment_id):
    attachment = authorize("read", load(attachment_id))
    if attachment.milestone_update_id is not None:
        abort(403)  # evidence is part of the milestone's history, which is never edited
    action, record = write_action(attachment)
    authorize(action, record)
    if not FlaskForm().validate_on_submit():
        abort(400)
    target = back_to(attachment)
    name = attachment.filename
    with unit_of_work():
        ops.remove(attachment, current_user)
    flash(_("%(name)s was removed.", name=name), "success")
    return redirect(target, 303)


# --- Evidence on a bottleneck --------------------------------------------------------------


def bottleneck_context(bottleneck, form=None):
    """What the bottleneck page needs for its evidence section."""
    if form is None and can(current_user, "update_bottleneck", bottleneck):
        form = EvidenceForm(formdata=None)
    return {"evidence": ops.of_bottleneck(bottleneck.id), "evidence_form": form,
            "remove_form": FlaskForm(formdata=None)}


@bp.route("/bottlenecks/<int:bottleneck_id>/attachments", methods=["POST"])
@login_required
def attach_to_bottleneck(bottleneck_id):
    from views.bottlenecks import load as load_bottleneck
    from views.bottlenecks import render_show

    bottleneck = authorize("update_bottleneck", load_bottleneck(bottleneck_id))
    form = EvidenceForm()
    if not form.validate():
        return render_show(bottleneck, evidence_form=form, status=422)
    try:
        files = store.check_uploads(form.files.data or [], store.EVIDENCE_TYPES)
        if not files:
            raise store.UploadRefused(_("Choose a file to attach."))
    except store.UploadRefused as exc:
        form.files.errors = [str(exc)]
        return render_show(bottleneck, evidence_form=form, status=422)
    with unit_of_work():
        ops.attach_to_bottleneck(bottleneck, current_user, files=files)
    flash(_("Attached: %(names)s.", names=", ".join(f.filename for f in files)), "success")
    return redirect(url_for("bottlenecks.show", bottleneck_id=bottleneck_id,
                            _anchor="evidence-title"), 303)


# --- The signed copy of a meeting's minutes ------------------------------------------------


def signed_minutes_context(meeting, form=None):
    if form is None and can(current_user, "attach_signed_minutes", meeting):
        form = SignedMinutesForm(formdata=None)
    return {"signed_minutes": ops.of_meeting(meeting.id), "signed_minutes_form": form,
            "remove_form": FlaskForm(formdata=None)}


def render_meeting_refusal(meeting, form, message):
    form.file.errors = [message]
    return render_template("attachments/signed_minutes_refused.html", meeting=meeting,
                           **signed_minutes_context(meeting, form)), 422


@bp.route("/meetings/<int:meeting_id>/signed-minutes", methods=["POST"])
@login_required
def attach_signed_minutes(meeting_id):
    meeting = db.session.get(ReviewMeeting, meeting_id)
    if meeting is None:
        abort(404)
    authorize("finalise_minutes", meeting)
    form = SignedMinutesForm()
    if not form.validate():
        return render_meeting_refusal(meeting, form, _("The form could not be read."))
    if not can(current_user, "attach_signed_minutes", meeting):
        return render_meeting_refusal(meeting, form, _(
            "The signed copy can be attached only after the minutes are finalised."))
    try:
        files = store.check_uploads([form.file.data], store.SIGNED_MINUTES_TYPES)
        if not files:
            raise store.UploadRefused(_("Choose the PDF of the signed minutes."))
    except store.UploadRefused as exc:
        return render_meeting_refusal(meeting, form, str(exc))
    with unit_of_work(invalid=lambda exc: render_meeting_refusal(meeting, form,
                                                                 " ".join(exc.messages))):
        ops.attach_signed_minutes(meeting, current_user, files=files)
    flash(_("The signed minutes were attached."), "success")
    return redirect(url_for("meetings.show", meeting_id=meeting_id,
                            _anchor="signed-minutes-title"), 303)
