"""Review meetings: planning, the agenda built from the rules, minutes, decisions (action
items), finalising, amendments, and the Action Taken Report (ATR).

Every function flushes and never commits. A refusal a user can act on raises
``ValidationError`` with the message to show; a save from a stale version, ``ConflictError``.
"""
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from models import (
    ActionItem,
    ActionPlan,
    AgendaItem,
    Attendee,
    Bottleneck,
    Department,
    Flag,
    Milestone,
    MinutesAmendment,
    ReviewMeeting,
)
from models.base import utcnow
from flask_babel import gettext as _

from tracker import audit, rules
from tracker.extensions import db
from tracker.i18n import N_, label
from tracker.operations.errors import ValidationError
from tracker.operations.milestones import check_version, flush_versioned

MEETING_FIELDS = ("title", "meeting_date", "venue", "chair", "status")
ACTION_ITEM_FIELDS = ("text", "department_id", "responsible_officer", "due_date", "status",
                      "closing_note")
# A flag about the same thing as an item built from the data is not listed twice.
_FLAG_SAME_AS = {
    "bottleneck_past_sla": "bottleneck",
    "no_submitted_plan": "no_plan",
    "action_item_overdue": "atr",
}
_SEVERITY_ORDER = {"critical": 0, "high": 1, "warning": 1, "medium": 2, "info": 3, "low": 3}


def _require(meeting, *statuses, doing):
    """Refuse ``doing`` (an ``N_``-marked phrase) unless the meeting is in one of ``statuses``."""
    if meeting.status not in statuses:
        raise ValidationError({"_": [_("%(doing)s is not possible: the meeting is %(status)s.",
                                       doing=_(doing), status=label(meeting.status).lower())]})


# --- Planning -------------------------------------------------------------------------------


def plan_meeting(*, title, meeting_date, venue, chair, attendees, user, today, t):
    """A new planned meeting with its attendees and the agenda built from the rules."""
    meeting = ReviewMeeting(title=title, meeting_date=meeting_date, venue=venue or "",
                            chair=chair or "", created_by_id=user.id if user else None)
    db.session.add(meeting)
    _set_attendees(meeting, attendees)
    db.session.flush()
    added = build_agenda(meeting, today, t)
    audit.record("create", "review_meeting", meeting.id,
                 {**audit.snapshot(meeting, MEETING_FIELDS), "agenda_items": added,
                  "attendees": len(meeting.attendees)}, user=user)
    return meeting


def update_meeting(meeting, *, title, meeting_date, venue, chair, attendees, user):
    _require(meeting, "planned", "held", doing=N_("Changing the meeting"))
    before = audit.snapshot(meeting, MEETING_FIELDS)
    meeting.title, meeting.meeting_date, meeting.venue, meeting.chair = (
        title, meeting_date, venue or "", chair or "")
    _set_attendees(meeting, attendees)
    db.session.flush()
    audit.record("update", "review_meeting", meeting.id,
                 audit.diff(before, audit.snapshot(meeting, MEETING_FIELDS)), user=user)
    return meeting


def _set_attendees(meeting, attendees):
    meeting.attendees.clear()
    for a in attendees:
        name = (a.get("name") or "").strip()
        if name:
            meeting.attendees.append(Attendee(
                name=name, designation=(a.get("designation") or "").strip(),
                department_id=a.get("department_id") or None))


# --- The agenda ------------------------------------------------------------------------------


def _key(kind, subject_type, subject_id):
    return (kind, subject_type, subject_id)


def agenda_candidates(meeting, today, t):
    """What the rules put on the agenda today, as dicts (set-based: five queries)."""
    items = []
    # Bottlenecks past their SLA.
    age = rules.bottleneck_age_sql(today).label("age")
    for b, dept_name, days in db.session.execute(
        sa.select(Bottleneck, Department.name, age)
        .join(Department, Bottleneck.department_id == Department.id)
        .where(rules.past_sla_sql(today, t))
        .order_by(Bottleneck.raised_on, Bottleneck.id)
    ):
        items.append(dict(
            kind="bottleneck", subject_type="bottleneck", subject_id=b.id,
            department_id=b.department_id, sort=_SEVERITY_ORDER.get(b.severity, 3),
            title=f"Bottleneck past SLA: {b.title} ({dept_name})",
            details=(f"{dept_name}. Severity {b.severity}, open {days} days "
                     f"(SLA {t.sla_days(b.severity)} days). Action by: {b.action_by or '-'}."),
        ))
    # Departments whose milestones in progress have not been updated.
    for dept_id, dept_name, n in db.session.execute(
        sa.select(Milestone.department_id, Department.name, sa.func.count())
        .join(Department, Milestone.department_id == Department.id)
        .where(rules.stale_sql(today, t))
        .group_by(Milestone.department_id, Department.name)
        .order_by(Department.name)
    ):
        items.append(dict(
            kind="stale_department", subject_type="department", subject_id=dept_id,
            department_id=dept_id, sort=4, title=f"Updates overdue: {dept_name}",
            details=(f"{n} milestone(s) in progress have had no update for "
                     f"{t.stale_days} days or more."),
        ))
    # Departments without a submitted action plan.
    for dept in db.session.execute(
        sa.select(Department).where(rules.no_submitted_plan_sql()).order_by(Department.name)
    ).scalars():
        items.append(dict(
            kind="no_plan", subject_type="department", subject_id=dept.id,
            department_id=dept.id, sort=4, title=f"No action plan submitted: {dept.name}",
            details="The department has not submitted its action plan.",
        ))
    # The ATR: every open action item of earlier meetings.
    for ai, dept_name, m_title, m_date, overdue in db.session.execute(
        _earlier_items_query(meeting, today).where(ActionItem.status == "open")
    ):
        items.append(dict(
            kind="atr", subject_type="action_item", subject_id=ai.id,
            department_id=ai.department_id, sort=5, title=f"Action taken: {ai.text[:400]}",
            details=(f"{dept_name}. Decided at '{m_title}' on {m_date:%d-%m-%Y}; due "
                     f"{ai.due_date:%d-%m-%Y}" + (f"; {overdue} days overdue." if overdue else ".")),
        ))
    keys = {_key(i["kind"], i["subject_type"], i["subject_id"]) for i in items}
    # Flags escalated to the Secretary.
    for flag, dept_name in db.session.execute(
        sa.select(Flag, Department.name)
        .outerjoin(Department, Flag.department_id == Department.id)
        .where(Flag.cleared_at.is_(None), Flag.escalation == "secretary")
        .order_by(Flag.raised_at, Flag.id)
    ):
        same = _FLAG_SAME_AS.get(flag.kind)
        if same and _key(same, flag.subject_type, flag.subject_id) in keys:
            continue
        details = flag.details or {}
        what = details.get("title") or details.get("name") or f"{flag.subject_type} {flag.subject_id}"
        items.append(dict(
            kind="flag", subject_type=flag.subject_type, subject_id=flag.subject_id,
            department_id=flag.department_id, sort=_SEVERITY_ORDER.get(flag.severity, 3) - 1,
            title=f"{rules.FLAG_KIND_LABELS.get(flag.kind, flag.kind)}: {what}"[:500],
            details=(f"{dept_name + '. ' if dept_name else ''}Escalated to the Secretary; "
                     f"severity {flag.severity}; raised {flag.raised_at:%d-%m-%Y}."),
        ))
    items.sort(key=lambda i: i["sort"])
    return items


def build_agenda(meeting, today, t):
    """Add to a planned meeting's agenda what the rules find and it does not hold yet.
    Returns the number of items added."""
    _require(meeting, "planned", doing=N_("Building the agenda"))
    present = {_key(i.kind, i.subject_type, i.subject_id) for i in meeting.agenda_items}
    position = max((i.position for i in meeting.agenda_items), default=-1) + 1
    added = 0
    for c in agenda_candidates(meeting, today, t):
        key = _key(c["kind"], c["subject_type"], c["subject_id"])
        if key in present:
            continue
        present.add(key)
        meeting.agenda_items.append(AgendaItem(
            position=position, kind=c["kind"], title=c["title"][:500], details=c["details"],
            department_id=c["department_id"], subject_type=c["subject_type"],
            subject_id=c["subject_id"]))
        position += 1
        added += 1
    db.session.flush()
    return added


def refresh_agenda(meeting, user, today, t):
    added = build_agenda(meeting, today, t)
    audit.record("refresh_agenda", "review_meeting", meeting.id, {"added": added}, user=user)
    return added


def add_item(meeting, *, title, details, department_id, user):
    _require(meeting, "planned", doing=N_("Changing the agenda"))
    position = max((i.position for i in meeting.agenda_items), default=-1) + 1
    item = AgendaItem(position=position, kind="free", title=title, details=details or "",
                      department_id=department_id or None)
    meeting.agenda_items.append(item)
    db.session.flush()
    audit.record("add_agenda_item", "agenda_item", item.id,
                 {"meeting_id": meeting.id, "title": title}, user=user)
    return item


def edit_item(item, *, title, details, user):
    _require(item.meeting, "planned", doing=N_("Changing the agenda"))
    before = audit.snapshot(item, ("title", "details"))
    item.title, item.details = title, details or ""
    db.session.flush()
    audit.record("edit_agenda_item", "agenda_item", item.id,
                 audit.diff(before, audit.snapshot(item, ("title", "details"))), user=user)


def remove_item(item, user):
    meeting = item.meeting
    _require(meeting, "planned", doing=N_("Changing the agenda"))
    audit.record("remove_agenda_item", "agenda_item", item.id,
                 {"meeting_id": meeting.id, "title": item.title, "kind": item.kind}, user=user)
    meeting.agenda_items.remove(item)
    _renumber(meeting)
    db.session.flush()


def move_item(item, direction, user):
    """Move an item one place up (-1) or down (+1)."""
    meeting = item.meeting
    _require(meeting, "planned", doing=N_("Changing the agenda"))
    items = sorted(meeting.agenda_items, key=lambda i: (i.position, i.id))
    i = items.index(item)
    j = i + (1 if direction > 0 else -1)
    if 0 <= j < len(items):
        items[i], items[j] = items[j], items[i]
        for pos, it in enumerate(items):
            it.position = pos
        audit.record("move_agenda_item", "agenda_item", item.id,
                     {"position": [i + 1, j + 1]}, user=user)
    db.session.flush()


def _renumber(meeting):
    for pos, it in enumerate(sorted(meeting.agenda_items, key=lambda i: (i.position, i.id))):
        it.position = pos


# --- Held: the agenda frozen ----------------------------------------------------------------


def mark_held(meeting, user, today, t):
    """The meeting took place: its agenda is frozen with the state of each subject today."""
    _require(meeting, "planned", doing=N_("Marking the meeting held"))
    states = _subject_states(meeting.agenda_items, today, t)
    dept_names = dict(db.session.execute(sa.select(Department.id, Department.name)).all())
    for item in meeting.agenda_items:
        item.snapshot = {
            "title": item.title,
            "details": item.details,
            "kind": item.kind,
            "department": dept_names.get(item.department_id),
            "as_of": today.isoformat(),
            **states.get((item.subject_type, item.subject_id), {}),
        }
    meeting.status = "held"
    meeting.held_at = utcnow()
    db.session.flush()
    audit.record("mark_held", "review_meeting", meeting.id,
                 {"status": ["planned", "held"], "agenda_items": len(meeting.agenda_items)},
                 user=user)


def _subject_states(items, today, t):
    """``{(subject_type, id): {...}}``: the state of every subject, one query per type."""
    ids = {}
    for i in items:
        if i.subject_type and i.subject_id is not None:
            ids.setdefault(i.subject_type, set()).add(i.subject_id)
    states = {}
    if ids.get("bottleneck"):
        for b, age, past in db.session.execute(
            sa.select(Bottleneck, rules.bottleneck_age_sql(today),
                      sa.case((rules.past_sla_sql(today, t), True), else_=False))
            .where(Bottleneck.id.in_(ids["bottleneck"]))
        ):
            states[("bottleneck", b.id)] = {
                "subject": b.title, "status": b.status, "severity": b.severity,
                "age_days": age, "past_sla": bool(past),
                "target_date": b.target_date.isoformat() if b.target_date else None,
            }
    if ids.get("action_item"):
        for a, overdue in db.session.execute(
            sa.select(ActionItem, rules.action_item_days_overdue_sql(today))
            .where(ActionItem.id.in_(ids["action_item"]))
        ):
            states[("action_item", a.id)] = {
                "subject": a.text, "status": a.status, "due_date": a.due_date.isoformat(),
                "days_overdue": overdue, "closing_note": a.closing_note,
                "responsible_officer": a.responsible_officer,
            }
    if ids.get("milestone"):
        for m, health in db.session.execute(
            sa.select(Milestone, rules.health_sql(today, t))
            .where(Milestone.id.in_(ids["milestone"]))
        ):
            states[("milestone", m.id)] = {
                "subject": f"{m.code} {m.title}", "status": m.status, "health": health,
                "percent_complete": m.percent_complete, "due_date": m.due_date.isoformat(),
            }
    if ids.get("department"):
        stale = dict(db.session.execute(
            sa.select(Milestone.department_id, sa.func.count())
            .where(rules.stale_sql(today, t), Milestone.department_id.in_(ids["department"]))
            .group_by(Milestone.department_id)
        ).all())
        plans = dict(db.session.execute(
            sa.select(ActionPlan.department_id, ActionPlan.status)
            .where(ActionPlan.department_id.in_(ids["department"]))
        ).all())
        for dept_id in ids["department"]:
            states[("department", dept_id)] = {
                "plan_status": plans.get(dept_id, "missing"),
                "stale_milestones": stale.get(dept_id, 0),
            }
    return states


# --- Minutes and decisions -----------------------------------------------------------------


def record_minutes(item, text, user):
    meeting = item.meeting
    if meeting.status == "minutes_final":
        raise ValidationError({"minutes": [
            _("The minutes are final: record a correction as an amendment.")]})
    _require(meeting, "held", doing=N_("Recording minutes"))
    before = item.minutes
    item.minutes = text or ""
    db.session.flush()
    if before != item.minutes:
        audit.record("record_minutes", "agenda_item", item.id,
                     {"minutes": [before, item.minutes]}, user=user)


def add_decision(item, *, text, department_id, responsible_officer, due_date, user):
    """A decision taken on an agenda item becomes an action item."""
    meeting = item.meeting
    _require(meeting, "held", doing=N_("Recording a decision"))
    decision = ActionItem(
        meeting_id=meeting.id, agenda_item_id=item.id, text=text,
        department_id=department_id, responsible_officer=responsible_officer or "",
        due_date=due_date, updated_by_id=user.id if user else None)
    db.session.add(decision)
    db.session.flush()
    audit.record("create", "action_item", decision.id,
                 audit.snapshot(decision, ACTION_ITEM_FIELDS), user=user)
    return decision


def remove_decision(decision, user):
    _require(decision.meeting, "held", doing=N_("Removing a decision"))
    audit.record("delete", "action_item", decision.id,
                 audit.snapshot(decision, ACTION_ITEM_FIELDS), user=user)
    db.session.delete(decision)
    db.session.flush()


def finalise_minutes(meeting, user):
    _require(meeting, "held", doing=N_("Finalising the minutes"))
    meeting.status = "minutes_final"
    meeting.finalised_at = utcnow()
    meeting.finalised_by_id = user.id if user else None
    db.session.flush()
    audit.record("finalise_minutes", "review_meeting", meeting.id,
                 {"status": ["held", "minutes_final"]}, user=user)


def amend_minutes(item, *, text, reason, user):
    """A correction to final minutes: the text before is kept in the amendment."""
    _require(item.meeting, "minutes_final", doing=N_("Amending the minutes"))
    if (text or "") == item.minutes:
        raise ValidationError({"minutes": [_("The correction is the same as the minutes.")]})
    amendment = MinutesAmendment(agenda_item_id=item.id, user_id=user.id if user else None,
                                 previous_text=item.minutes, new_text=text or "",
                                 reason=reason or "")
    db.session.add(amendment)
    item.minutes = text or ""
    db.session.flush()
    audit.record("amend_minutes", "agenda_item", item.id,
                 {"minutes": [amendment.previous_text, amendment.new_text], "reason": reason},
                 user=user)
    return amendment


# --- Action items and the ATR -------------------------------------------------------------


def update_action_item(item, *, status, closing_note, user, version=None):
    """A department reports action taken. ``version`` is the version the user read: a stale
    one raises ``ConflictError``."""
    if status in ("done", "dropped") and not (closing_note or "").strip():
        raise ValidationError({"closing_note": [
            _("Say what was done (the closing note) before closing the action item.")]})
    check_version(item, version)
    read_version = item.version
    before = audit.snapshot(item, ACTION_ITEM_FIELDS)
    item.status = status
    item.closing_note = (closing_note or "").strip() or None
    item.closed_at = utcnow() if status != "open" else None
    item.updated_at = utcnow()
    item.updated_by_id = user.id if user else None
    flush_versioned(item, read_version)
    audit.record("update", "action_item", item.id,
                 audit.diff(before, audit.snapshot(item, ACTION_ITEM_FIELDS)), user=user)


def _earlier_items_query(meeting, today):
    """Action items of meetings before ``meeting`` (all meetings when None), with the
    department, the deciding meeting and the days overdue."""
    q = (
        sa.select(ActionItem, Department.name, ReviewMeeting.title, ReviewMeeting.meeting_date,
                  rules.action_item_days_overdue_sql(today))
        .join(Department, ActionItem.department_id == Department.id)
        .join(ReviewMeeting, ActionItem.meeting_id == ReviewMeeting.id)
    )
    if meeting is not None:
        q = q.where(ActionItem.meeting_id != meeting.id, _before(meeting))
    return q.order_by(ReviewMeeting.meeting_date, ActionItem.id)


def _before(meeting):
    return sa.or_(
        ReviewMeeting.meeting_date < meeting.meeting_date,
        sa.and_(ReviewMeeting.meeting_date == meeting.meeting_date,
                ReviewMeeting.id < (meeting.id or 0)),
    )


@dataclass
class AtrRow:
    item: ActionItem
    department: str
    meeting_title: str
    meeting_date: date
    status_then: str
    status_now: str
    days_overdue: int


def atr_rows(today, *, meeting=None, department_ids=None, status=None):
    """The Action Taken Report: three queries, whatever the number of items.

    For a meeting: the action items of earlier meetings that were open at the last meeting
    before it, or were decided there, or are open now. Without one: every action item.
    ``status_then`` is the status recorded when the last meeting (before ``meeting``) was
    held, or 'open' for an item not reviewed since it was decided."""
    q = _earlier_items_query(meeting, today)
    last = None
    if meeting is not None:
        last = db.session.execute(
            sa.select(ReviewMeeting)
            .where(ReviewMeeting.id != meeting.id, _before(meeting),
                   ReviewMeeting.status.in_(("held", "minutes_final")))
            .order_by(ReviewMeeting.meeting_date.desc(), ReviewMeeting.id.desc()).limit(1)
        ).scalar()
        since = last.held_at if last is not None and last.held_at else None
        conditions = [ActionItem.status == "open"]
        if last is not None:
            conditions.append(ActionItem.meeting_id == last.id)
        if since is not None:
            conditions.append(ActionItem.closed_at >= since)
        q = q.where(sa.or_(*conditions))
    if department_ids is not None:
        q = q.where(ActionItem.department_id.in_(department_ids))
    if status:
        q = q.where(ActionItem.status == status)
    rows = db.session.execute(q).all()
    if not rows:
        return []
    ids = [r[0].id for r in rows]
    snaps = (
        sa.select(AgendaItem.subject_id, AgendaItem.snapshot)
        .join(ReviewMeeting, AgendaItem.meeting_id == ReviewMeeting.id)
        .where(AgendaItem.kind == "atr", AgendaItem.subject_type == "action_item",
               AgendaItem.subject_id.in_(ids),
               ReviewMeeting.status.in_(("held", "minutes_final")))
        .order_by(ReviewMeeting.meeting_date, ReviewMeeting.id)
    )
    if meeting is not None:
        snaps = snaps.where(ReviewMeeting.id != meeting.id, _before(meeting))
    then = {}
    for subject_id, snap in db.session.execute(snaps):
        if snap and snap.get("status"):
            then[subject_id] = snap["status"]  # later meetings overwrite earlier ones
    return [
        AtrRow(item=ai, department=dept, meeting_title=m_title, meeting_date=m_date,
               status_then=then.get(ai.id, "open"), status_now=ai.status,
               days_overdue=overdue)
        for ai, dept, m_title, m_date, overdue in rows
    ]
