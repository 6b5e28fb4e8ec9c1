"""Review meetings: plan, agenda, minutes, decisions, finalising; action items and the ATR."""
from datetime import datetime

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice
from wtforms import DateField, FieldList, FormField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from models import ActionItem, AgendaItem, Department, ReviewMeeting
from models.meeting import ACTION_ITEM_STATUSES
from tracker import clock
from tracker.extensions import db
from views.list_export import ListColumn, export_format, export_list
from tracker.labels import label, lazy_label
from tracker.operations import meetings as ops
from tracker.permissions import authorize, can, state_allows, visible_department_ids
from views.attachments import signed_minutes_context
from tracker.settings import thresholds
from views.downloads import dated, generated_at, xlsx_response
from views.unit_of_work import flash_refusal, unit_of_work

bp = Blueprint("meetings", __name__, url_prefix="/meetings")


class AttendeeForm(FlaskForm):
    class Meta:
        csrf = False

    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    designation = StringField(_l("Designation"), validators=[Optional(), Length(max=200)])
    department_id = SelectField(_l("Department"), coerce=int, default=0, validate_choice=False)


class MeetingForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    meeting_date = DateField(_l("Date"), validators=[DataRequired()])
    venue = StringField(_l("Venue"), validators=[Optional(), Length(max=200)])
    chair = StringField(_l("Chair"), validators=[Optional(), Length(max=200)])
    attendees = FieldList(FormField(AttendeeForm), min_entries=1)


class AgendaItemForm(FlaskForm):
    title = StringField(_l("Agenda item"), validators=[DataRequired(), Length(max=500)])
    details = TextAreaField(_l("Details"), validators=[Optional(), Length(max=5000)])
    department_id = SelectField(_l("Department"), coerce=int, default=0)


class DecisionForm(FlaskForm):
    text = TextAreaField(_l("Decision"), validators=[DataRequired(), Length(max=5000)])
    department_id = SelectField(_l("Department"), coerce=int, validators=[DataRequired()])
    responsible_officer = StringField(_l("Responsible officer"), validators=[Optional(), Length(max=200)])
    due_date = DateField(_l("Due date"), validators=[DataRequired()])


class AmendmentForm(FlaskForm):
    minutes = TextAreaField(_l("Corrected minutes"), validators=[DataRequired(), Length(max=20000)])
    reason = TextAreaField(_l("Reason for the correction"), validators=[DataRequired(), Length(max=2000)])


class ActionItemForm(FlaskForm):
    status = SelectField(_l("Status"), choices=[SelectChoice(s, lazy_label("action_item_status", s))
                                            for s in ACTION_ITEM_STATUSES])
    closing_note = TextAreaField(_l("Action taken (closing note)"), validators=[Optional(), Length(max=5000)])
    version = HiddenField()


class ButtonForm(FlaskForm):
    """A POST button: only the CSRF token."""


def _departments():
    return db.session.execute(
        sa.select(Department.id, Department.name).where(Department.active.is_(True))
        .order_by(Department.name)).all()


def _choices():
    return [SelectChoice(0, _("(none)"))] + [SelectChoice(d.id, d.name) for d in _departments()]


def _meeting(meeting_id):
    meeting = db.session.get(ReviewMeeting, meeting_id)
    if meeting is None:
        abort(404)
    return meeting


def _item(meeting, item_id):
    item = db.session.get(AgendaItem, item_id)
    if item is None or item.meeting_id != meeting.id:
        abort(404)
    return item


# --- Meetings ----------------------------------------------------------------------------


@bp.route("/")
@login_required
def index():
    authorize("read")
    counts = dict(db.session.execute(
        sa.select(AgendaItem.meeting_id, sa.func.count()).group_by(AgendaItem.meeting_id)).all())
    decisions = dict(db.session.execute(
        sa.select(ActionItem.meeting_id, sa.func.count()).group_by(ActionItem.meeting_id)).all())
    meetings = db.session.execute(
        sa.select(ReviewMeeting).order_by(ReviewMeeting.meeting_date.desc(), ReviewMeeting.id.desc())
    ).scalars().all()
    return render_template("meetings/index.html", meetings=meetings, counts=counts,
                           decisions=decisions)


def _meeting_form(meeting=None):
    form = MeetingForm(obj=meeting)
    if meeting is not None and request.method == "GET":
        while len(form.attendees):
            form.attendees.pop_entry()
        for a in meeting.attendees:
            form.attendees.append_entry({"name": a.name, "designation": a.designation,
                                         "department_id": a.department_id or 0})
    if request.method == "GET":
        for _ in range(3):
            form.attendees.append_entry()
    choices = _choices()
    for entry in form.attendees:
        entry.form.department_id.choices = choices
    return form


def _attendees(form):
    return [{"name": e.form.name.data, "designation": e.form.designation.data,
             "department_id": e.form.department_id.data or None} for e in form.attendees]


def _limit():
    return current_app.config.get("AGENDA_MAX_DEPARTMENTS", 12)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    authorize("manage_meetings")
    form = _meeting_form()
    today, t = clock.today(), thresholds()
    ranked = ops.candidates(today, t)
    if request.method == "GET":
        form.chair.data = current_user.name if can(current_user, "chair_meeting") else ""
        ticked = set(ops.default_choice(ranked, _limit()))
    elif "choosing" in request.form:
        ticked = {int(v) for v in request.form.getlist("department") if v.isdigit()}
    else:  # a client that does not send the choice gets the default one
        ticked = set(ops.default_choice(ranked, _limit()))
    if form.validate_on_submit():
        with unit_of_work():
            meeting = ops.plan_meeting(
                title=form.title.data, meeting_date=form.meeting_date.data, venue=form.venue.data,
                chair=form.chair.data, attendees=_attendees(form), user=current_user,
                today=today, t=t, department_ids=sorted(ticked))
        flash(ngettext("Meeting planned; its agenda holds %(num)d item.",
                       "Meeting planned; its agenda holds %(num)d items.",
                       len(meeting.agenda_items)), "success")
        return redirect(url_for(".show", meeting_id=meeting.id))
    return render_template("meetings/form.html", form=form, meeting=None, ranked=ranked,
                           ticked=ticked, limit=_limit(), ops=ops), (
        422 if form.errors else 200)


@bp.route("/<int:meeting_id>/edit", methods=["GET", "POST"])
@login_required
def edit(meeting_id):
    meeting = _meeting(meeting_id)
    authorize("manage_meetings", meeting)
    form = _meeting_form(meeting)
    if form.validate_on_submit():
        with unit_of_work(invalid=flash_refusal(url_for(".show", meeting_id=meeting.id))):
            ops.update_meeting(meeting, title=form.title.data, meeting_date=form.meeting_date.data,
                               venue=form.venue.data, chair=form.chair.data,
                               attendees=_attendees(form), user=current_user)
        flash(_("Meeting saved."), "success")
        return redirect(url_for(".show", meeting_id=meeting.id))
    return render_template("meetings/form.html", form=form, meeting=meeting), (
        422 if form.errors else 200)


# The points shown under a department on the meeting page; the rest are a link away.
POINTS_SHOWN = 5


def _load(meeting_id):
    meeting = db.session.execute(
        sa.select(ReviewMeeting).where(ReviewMeeting.id == meeting_id).options(
            selectinload(ReviewMeeting.attendees),
            selectinload(ReviewMeeting.agenda_items).selectinload(AgendaItem.amendments),
            selectinload(ReviewMeeting.action_items),
        )).scalar()
    if meeting is None:
        abort(404)
    return meeting


def _left_off(meeting):
    """What the rules find that is not on the agenda: today's for a planned meeting, as it
    was when the meeting was held otherwise."""
    if state_allows("edit_agenda", meeting):  # the agenda can still change: today's findings
        return ops.left_off(meeting, ops.candidates(clock.today(), thresholds(), meeting=meeting))
    return meeting.left_off or {"departments": 0, "findings": 0, "ids": []}


def _render_show(meeting, typed=None, errors=None, conflict=None, status=200):
    departments = dict((d.id, d.name) for d in _departments())
    by_item = {}
    for d in meeting.action_items:
        by_item.setdefault(d.agenda_item_id, []).append(d)
    item_form = AgendaItemForm()
    item_form.department_id.choices = [SelectChoice(0, _("(none)"))] + [
        SelectChoice(k, v) for k, v in departments.items()]
    return render_template(
        "meetings/show.html", meeting=meeting, departments=departments, by_item=by_item,
        item_form=item_form, button=ButtonForm(), ops=ops, points_shown=POINTS_SHOWN,
        left_off=_left_off(meeting), typed=typed or {}, errors=errors or {},
        conflict=conflict or {}, today=clock.today(), **signed_minutes_context(meeting),
    ), status


@bp.route("/<int:meeting_id>")
@login_required
def show(meeting_id):
    meeting = _load(meeting_id)
    authorize("read", meeting)
    return _render_show(meeting)


@bp.route("/<int:meeting_id>/items/<int:item_id>")
@login_required
def item_points(meeting_id, item_id):
    """Every point of one department's item (the meeting page shows the first few)."""
    meeting = _meeting(meeting_id)
    item = _item(meeting, item_id)
    authorize("read", meeting)
    return render_template("meetings/item_points.html", meeting=meeting, item=item, ops=ops)


@bp.route("/<int:meeting_id>/left-off", methods=["GET", "POST"])
@login_required
def left_off(meeting_id):
    """The departments the rules find something for that are not on the agenda, with their
    findings; for a planned meeting, ticked ones can be put on it."""
    meeting = _load(meeting_id)
    authorize("read", meeting)
    today, t = clock.today(), thresholds()
    if request.method == "POST":
        authorize("manage_meetings", meeting)
        if not ButtonForm().validate_on_submit():
            abort(400)
        ids = [int(v) for v in request.form.getlist("department") if v.isdigit()]
        with unit_of_work(invalid=flash_refusal(_url(meeting))):
            added = ops.add_departments(meeting, current_user, department_ids=ids, today=today,
                                        t=t)
        flash(ngettext("%(num)d department put on the agenda.",
                       "%(num)d departments put on the agenda.", added), "success")
        return _back(meeting, "agenda-title")
    info = _left_off(meeting)
    ids = set(info.get("ids") or [])
    ranked = [c for c in ops.candidates(today, t, meeting=meeting) if c.department_id in ids]
    return render_template("meetings/left_off.html", meeting=meeting, ranked=ranked,
                           info=info, ops=ops, button=ButtonForm(), points_shown=POINTS_SHOWN)


def _url(meeting, anchor=None):
    return url_for(".show", meeting_id=meeting.id, _anchor=anchor)


def _back(meeting, anchor=None):
    return redirect(_url(meeting, anchor))


def _post_action(meeting, action, fn, success):
    authorize(action, meeting)
    if not ButtonForm().validate_on_submit():
        abort(400)
    with unit_of_work(invalid=flash_refusal(_url(meeting))):
        fn()
    flash(success, "success")
    return _back(meeting)


@bp.route("/<int:meeting_id>/agenda/refresh", methods=["POST"])
@login_required
def refresh(meeting_id):
    meeting = _meeting(meeting_id)
    result = {}
    return _post_action(
        meeting, "manage_meetings",
        lambda: result.setdefault("n", ops.refresh_agenda(meeting, current_user,
                                                          today=clock.today(), t=thresholds())),
        _("The agenda was brought up to date."))


@bp.route("/<int:meeting_id>/agenda", methods=["POST"])
@login_required
def add_item(meeting_id):
    meeting = _meeting(meeting_id)
    authorize("manage_meetings", meeting)
    form = AgendaItemForm()
    form.department_id.choices = _choices()
    if not form.validate_on_submit():
        flash(_("The agenda item needs a title."), "error")
        return _back(meeting, "add-item")
    with unit_of_work(invalid=flash_refusal(_url(meeting))):
        ops.add_item(meeting, title=form.title.data, details=form.details.data,
                     department_id=form.department_id.data or None, user=current_user)
    flash(_("Agenda item added."), "success")
    return _back(meeting, "agenda-title")


@bp.route("/<int:meeting_id>/agenda/<int:item_id>/edit", methods=["GET", "POST"])
@login_required
def edit_item(meeting_id, item_id):
    meeting = _meeting(meeting_id)
    item = _item(meeting, item_id)
    authorize("manage_meetings", meeting)
    form = AgendaItemForm(obj=item)
    form.department_id.choices = _choices()
    del form.department_id
    if form.validate_on_submit():
        with unit_of_work(invalid=flash_refusal(_url(meeting))):
            ops.edit_item(item, title=form.title.data, details=form.details.data, user=current_user)
        flash(_("Agenda item saved."), "success")
        return _back(meeting, f"item-{item.id}")
    return render_template("meetings/item_form.html", form=form, meeting=meeting, item=item), (
        422 if form.errors else 200)


@bp.route("/<int:meeting_id>/agenda/<int:item_id>/remove", methods=["POST"])
@login_required
def remove_item(meeting_id, item_id):
    meeting = _meeting(meeting_id)
    item = _item(meeting, item_id)
    return _post_action(meeting, "manage_meetings", lambda: ops.remove_item(item, current_user),
                        _("Agenda item removed."))


@bp.route("/<int:meeting_id>/agenda/<int:item_id>/move", methods=["POST"])
@login_required
def move_item(meeting_id, item_id):
    meeting = _meeting(meeting_id)
    item = _item(meeting, item_id)
    direction = -1 if request.form.get("direction") == "up" else 1
    return _post_action(meeting, "manage_meetings",
                        lambda: ops.move_item(item, current_user, offset=direction),
                        _("Agenda reordered."))


@bp.route("/<int:meeting_id>/held", methods=["GET", "POST"])
@login_required
def mark_held(meeting_id):
    """Asks first (what will be frozen), then marks the meeting held."""
    meeting = _load(meeting_id)
    authorize("chair_meeting", meeting)
    today = clock.today()
    if request.method == "GET":
        return render_template("meetings/confirm_held.html", meeting=meeting, button=ButtonForm(),
                               refusal=ops.held_refusal(meeting, today))
    return _post_action(
        meeting, "chair_meeting",
        lambda: ops.mark_held(meeting, current_user, today=today, t=thresholds()),
        _("The meeting is marked held; its agenda is frozen as discussed."))


def _parse_minutes(meeting):
    """The one minutes form: ``(typed, minutes, decisions, errors)``. ``typed`` is every
    value as typed (to show again), ``errors`` maps field names to messages."""
    form = request.form
    typed = {k: v for k, v in form.items() if k != "csrf_token"}
    minutes, decisions, errors = {}, [], {}
    valid_departments = {d.id for d in _departments()}
    single = form.get("item", type=int)  # one item's minutes as ``item`` and ``minutes``
    for item in meeting.agenda_items:
        key = f"minutes-{item.id}"
        if single == item.id and "minutes" in form and key not in form:
            key = "minutes"
        if key in form:
            text = form.get(key, "").replace("\r\n", "\n")
            if len(text) > 20000:
                errors[f"minutes-{item.id}"] = _("The minutes of an item can be at most %(num)d characters.",
                                num=20000)
            minutes[item.id] = text
        text = (form.get(f"decision-{item.id}-text") or "").strip()
        officer = (form.get(f"decision-{item.id}-officer") or "").strip()
        due_raw = (form.get(f"decision-{item.id}-due") or "").strip()
        if not (text or officer or due_raw):
            continue
        if not text:
            errors[f"decision-{item.id}-text"] = _("Write the decision.")
        elif len(text) > 5000:
            errors[f"decision-{item.id}-text"] = _("A decision can be at most %(num)d characters.",
                                                   num=5000)
        if len(officer) > 200:
            errors[f"decision-{item.id}-officer"] = _("At most %(num)d characters.", num=200)
        due = None
        try:
            due = datetime.strptime(due_raw, "%Y-%m-%d").date() if due_raw else None
        except ValueError:
            pass
        if due is None:
            errors[f"decision-{item.id}-due"] = _("Give the due date of the decision.")
        dept = form.get(f"decision-{item.id}-department", type=int)
        if dept not in valid_departments:
            errors[f"decision-{item.id}-department"] = _("Choose the department that acts.")
        decisions.append({"item": item, "text": text, "department_id": dept,
                          "responsible_officer": officer, "due_date": due})
    return typed, minutes, decisions, errors


@bp.route("/<int:meeting_id>/minutes", methods=["POST"])
@login_required
def save_minutes(meeting_id):
    """The one save of the whole meeting's minutes and new decisions. A mistake or a conflict
    shows the page again with everything as typed."""
    meeting = _load(meeting_id)
    authorize("chair_meeting", meeting)
    if not ButtonForm().validate_on_submit():
        abort(400)
    at = request.form.get("at", type=int)
    anchor = f"item-{at}" if at and any(i.id == at for i in meeting.agenda_items) else None
    typed, minutes, decisions, errors = _parse_minutes(meeting)
    if errors:
        flash(_("Nothing was saved: correct what is marked below and save again."), "error")
        return _render_show(meeting, typed, errors, status=422)

    def invalid(exc):
        flash(_("Nothing was saved.") + " " + " ".join(exc.messages), "error")
        return _render_show(_load(meeting_id), typed, status=422)

    def conflict(exc):
        db.session.expire_all()
        saved = _load(meeting_id)
        theirs = {f"minutes-{i.id}": i.minutes for i in saved.agenda_items}
        differ = {k: v for k, v in theirs.items() if k in typed and typed[k] != v}
        typed["version"] = str(saved.version)
        flash(_("Someone else saved these minutes while you were writing. Nothing of yours was "
                "saved: your text is still in the boxes, and what they saved is shown under "
                "each box that differs. Save again to keep your text."), "error")
        return _render_show(saved, typed, conflict=differ, status=409)

    with unit_of_work(invalid=invalid, conflict=conflict):
        changed, added = ops.record_meeting_minutes(
            meeting, current_user, minutes=minutes, decisions=decisions,
            expected_version=request.form.get("version") or None)
    if added:
        flash(ngettext("Minutes saved; %(num)d decision recorded as an action item.",
                       "Minutes saved; %(num)d decisions recorded as action items.", added),
              "success")
    else:
        flash(_("Minutes saved."), "success")
    return _back(meeting, anchor or "minutes")


@bp.route("/<int:meeting_id>/agenda/<int:item_id>/decisions", methods=["GET", "POST"])
@login_required
def add_decision(meeting_id, item_id):
    meeting = _meeting(meeting_id)
    item = _item(meeting, item_id)
    authorize("chair_meeting", meeting)
    form = DecisionForm()
    form.department_id.choices = [SelectChoice(d.id, d.name) for d in _departments()]
    if request.method == "GET" and item.department_id:
        form.department_id.data = item.department_id
    if not form.validate_on_submit():
        return render_template("meetings/decision_form.html", form=form, meeting=meeting,
                               item=item), (422 if request.method == "POST" else 200)
    with unit_of_work(invalid=flash_refusal(_url(meeting, f"item-{item.id}"))):
        ops.add_decision(item, text=form.text.data, department_id=form.department_id.data,
                         responsible_officer=form.responsible_officer.data,
                         due_date=form.due_date.data, user=current_user)
    flash(_("Decision recorded as an action item."), "success")
    return _back(meeting, f"item-{item.id}")


@bp.route("/<int:meeting_id>/decisions/<int:decision_id>/remove", methods=["POST"])
@login_required
def remove_decision(meeting_id, decision_id):
    meeting = _meeting(meeting_id)
    decision = db.session.get(ActionItem, decision_id)
    if decision is None or decision.meeting_id != meeting.id:
        abort(404)
    return _post_action(meeting, "chair_meeting",
                        lambda: ops.remove_decision(decision, current_user), _("Decision removed."))


@bp.route("/<int:meeting_id>/finalise", methods=["GET", "POST"])
@login_required
def finalise(meeting_id):
    """Asks first (what will be locked), then makes the minutes final."""
    meeting = _load(meeting_id)
    authorize("finalise_minutes", meeting)
    if request.method == "GET":
        with_minutes, without, decisions = ops.finalise_summary(meeting)
        return render_template("meetings/confirm_finalise.html", meeting=meeting,
                               button=ButtonForm(), with_minutes=with_minutes, without=without,
                               decisions=decisions)
    return _post_action(meeting, "finalise_minutes",
                        lambda: ops.finalise_minutes(meeting, current_user),
                        _("The minutes are final. Corrections are now recorded as amendments."))


@bp.route("/<int:meeting_id>/agenda/<int:item_id>/amend", methods=["GET", "POST"])
@login_required
def amend(meeting_id, item_id):
    meeting = _meeting(meeting_id)
    item = _item(meeting, item_id)
    authorize("finalise_minutes", meeting)
    form = AmendmentForm()
    if request.method == "GET":
        form.minutes.data = item.minutes
    if form.validate_on_submit():

        def invalid(exc):
            form.minutes.errors = list(form.minutes.errors) + exc.messages
            return render_template("meetings/amend.html", form=form, meeting=meeting,
                                   item=item), 422

        with unit_of_work(invalid=invalid):
            ops.amend_minutes(item, text=form.minutes.data, reason=form.reason.data,
                              user=current_user)
        flash(_("The correction is recorded; the original text is kept."), "success")
        return _back(meeting, f"item-{item.id}")
    return render_template("meetings/amend.html", form=form, meeting=meeting, item=item), (
        422 if form.errors else 200)


@bp.route("/<int:meeting_id>/minutes.xlsx")
@login_required
def minutes_xlsx(meeting_id):
    from exports.minutes import minutes_workbook

    meeting = _meeting(meeting_id)
    authorize("export", meeting)
    data = minutes_workbook(meeting.id, clock.today(), thresholds(), generated_at())
    return xlsx_response(
        data, dated(f"minutes-{meeting.meeting_date:%Y-%m-%d}-meeting-{meeting.id}"))


@bp.route("/<int:meeting_id>/atr.xlsx")
@login_required
def meeting_atr_xlsx(meeting_id):
    from exports.atr import atr_workbook

    meeting = _meeting(meeting_id)
    authorize("export", meeting)
    return xlsx_response(atr_workbook(clock.today(), generated_at(), meeting=meeting),
                         dated(f"atr-meeting-{meeting.id}"))


# --- Action items and the ATR ---------------------------------------------------------------


@bp.route("/action-items")
@login_required
def action_items():
    authorize("read")
    status = request.args.get("status") or None
    if status not in (None, *ACTION_ITEM_STATUSES):
        status = None
    dept_ids = visible_department_ids(current_user)
    dept = request.args.get("department", type=int)
    if dept:
        dept_ids = {dept} if dept_ids is None or dept in dept_ids else set()
    rows = ops.atr_rows(clock.today(), department_ids=dept_ids, status=status)
    fmt = export_format()
    if fmt:
        columns = [
            ListColumn(_("Decision"), lambda r: r.item.text, "wrap", 44),
            ListColumn(_("Meeting"), lambda r: r.meeting_title, "wrap", 24),
            ListColumn(_("Meeting date"), lambda r: r.meeting_date, "date", 11),
            ListColumn(_("Department"), lambda r: r.department, width=24),
            ListColumn(_("Responsible officer"), lambda r: r.item.responsible_officer or None,
                       width=22),
            ListColumn(_("Due"), lambda r: r.item.due_date, "date", 11),
            ListColumn(_("Status at last meeting"), lambda r: label("action_item_status", r.status_then), width=12),
            ListColumn(_("Status now"), lambda r: label("action_item_status", r.status_now), width=12),
            ListColumn(_("Days overdue"), lambda r: r.days_overdue, "number", 9),
            ListColumn(_("Closing note"), lambda r: r.item.closing_note, "wrap", 34),
        ]
        return export_list(fmt, "action-items", _("Action items"), None, columns, rows)
    return render_template("meetings/action_items.html", rows=rows, status=status,
                           department=dept, departments=_departments(),
                           statuses=ACTION_ITEM_STATUSES)


@bp.route("/action-items/atr.xlsx")
@login_required
def atr_xlsx():
    from exports.atr import atr_workbook

    authorize("export")
    return xlsx_response(atr_workbook(clock.today(), generated_at()), dated("action-taken-report"))


@bp.route("/action-items/<int:item_id>", methods=["GET", "POST"])
@login_required
def action_item(item_id):
    item = db.session.get(ActionItem, item_id)
    if item is None:
        abort(404)
    authorize("read", item)
    form = ActionItemForm(obj=item)
    if request.method == "GET":
        form.version.data = item.version
    may_update = _can("update_action_item", item)
    if request.method == "POST":
        authorize("update_action_item", item)
        if form.validate_on_submit():

            def invalid(exc):
                form.closing_note.errors = list(form.closing_note.errors) + exc.messages
                return render_template("meetings/action_item.html", item=item, form=form,
                                       may_update=may_update), 422

            def conflict(exc):
                flash(_("Someone else changed this action item first. Here it is as it is now; "
                        "make your change again."), "error")
                return redirect(url_for(".action_item", item_id=item_id)), 303

            with unit_of_work(invalid=invalid, conflict=conflict):
                ops.update_action_item(item, current_user, status=form.status.data,
                                       closing_note=form.closing_note.data,
                                       expected_version=form.version.data or None)
            flash(_("Action item updated."), "success")
            return redirect(url_for(".action_items"))
    return render_template("meetings/action_item.html", item=item, form=form,
                           may_update=may_update), (422 if form.errors else 200)


def _can(action, record):
    from tracker.permissions import can

    return can(current_user, action, record)
