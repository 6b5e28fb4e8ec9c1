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
    Milestone,
    MinutesAmendment,
    ReviewMeeting,
)
from models.base import utcnow
from flask_babel import gettext as _
from flask_babel import ngettext

from tracker import audit, rules
from tracker.extensions import db
from tracker.i18n import N_
from tracker.labels import LABELS, label
from tracker.operations.errors import ValidationError
from tracker.operations.versioning import check_version, flush_versioned
from tracker.permissions import state_allows

MEETING_FIELDS = ("title", "meeting_date", "venue", "chair", "status")
ACTION_ITEM_FIELDS = ("text", "department_id", "responsible_officer", "due_date", "status",
                      "closing_note")
def _require(meeting, action, doing):
    """Refuse ``doing`` (an ``N_``-marked phrase) unless the meeting's state admits ``action``
    (``permissions.STATE_RULES``)."""
    if not state_allows(action, meeting):
        raise ValidationError({"_": [_("%(doing)s is not possible: the meeting is %(status)s.",
                                       doing=_(doing),
                                       status=label("meeting_status", meeting.status).lower())]})


# --- Planning -------------------------------------------------------------------------------


def plan_meeting(user, *, title, meeting_date, venue, chair, attendees, today, t,
                 department_ids=None, limit=12):
    """A new planned meeting with its attendees and an agenda of one item per chosen
    department (``department_ids``; by default the first ``limit`` of the ranking)."""
    meeting = ReviewMeeting(title=title, meeting_date=meeting_date, venue=venue or "",
                            chair=chair or "", created_by_id=user.id if user else None)
    db.session.add(meeting)
    _set_attendees(meeting, attendees)
    db.session.flush()
    added = build_agenda(meeting, today, t, department_ids=department_ids, limit=limit)
    audit.record("create", "review_meeting", meeting.id,
                 {**audit.snapshot(meeting, MEETING_FIELDS), "agenda_items": added,
                  "attendees": len(meeting.attendees)}, user=user)
    return meeting


def update_meeting(meeting, user, *, title, meeting_date, venue, chair, attendees):
    _require(meeting, "edit_meeting", doing=N_("Changing the meeting"))
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


# A department comes up at a review for these findings of the rules (the points of its item;
# their words: tracker.labels, kinds "finding_kind" and "finding_short").
FINDING_KINDS = ("overdue", "bottleneck", "stale", "plan", "atr", "forecast")
# What the page says about the order of the departments (``rank_key``).
RANKING_EXPLAINED = N_("Departments are ranked by the number of critical findings, then by the "
                       "most days any finding is past its time limit, then by the number of "
                       "findings.")
# Points stored per department item (the total is stored too and the rest counted).
MAX_STORED_FINDINGS = 50


@dataclass
class Candidate:
    """A department that has something to review, with its findings (dicts, see
    ``department_findings``) in order of importance."""

    department_id: int
    name: str
    findings: list

    @property
    def critical(self):
        return sum(1 for f in self.findings if f.get("critical"))

    @property
    def most_late(self):
        return max((f.get("late") or 0 for f in self.findings), default=0)

    @property
    def count(self):
        return len(self.findings)

    def rank_key(self):
        return (-self.critical, -self.most_late, -self.count, self.name)


def _iso(day):
    return day.isoformat() if day else None


def _finding_order(f):
    return (not f.get("critical"), FINDING_KINDS.index(f["kind"]), -(f.get("late") or 0))


def department_findings(today, t, *, meeting=None, department_ids=None):
    """``{department_id: [finding, …]}``: what the rules find for each department today, in
    six set-based queries. A finding is a plain dict (kept in an agenda item's snapshot):
    ``kind`` (one of ``FINDING_KINDS``), the subject's words as stored (code, title, text),
    dates as ISO strings and numbers; ``late`` is the days past its time limit and
    ``critical`` whether it is of critical severity. The words are made at display time
    (``finding_words``), in the reader's language."""
    found = {}

    def add(dept_id, finding):
        found.setdefault(dept_id, []).append(finding)

    def only(q, column):
        return q if department_ids is None else q.where(column.in_(department_ids))

    # Overdue milestones that have reached the Secretary on the escalation ladder.
    late = rules.days_between(Milestone.due_date, rules._d(today))
    for dept_id, code, title, due, percent, status, days in db.session.execute(only(
        sa.select(Milestone.department_id, Milestone.code, Milestone.title, Milestone.due_date,
                  Milestone.percent_complete, Milestone.status, late)
        .where(rules.overdue_sql(today),
               rules.overdue_escalation_sql(Milestone.due_date, today, t) == "secretary")
        .order_by(Milestone.due_date, Milestone.id), Milestone.department_id)
    ):
        add(dept_id, dict(kind="overdue", code=code, title=title, due=_iso(due),
                          percent=percent, status=status, late=days, critical=True))
    # Bottlenecks past their time limit (SLA).
    for dept_id, title, severity, raised, action_by, age in db.session.execute(only(
        sa.select(Bottleneck.department_id, Bottleneck.title, Bottleneck.severity,
                  Bottleneck.raised_on, Bottleneck.action_by, rules.bottleneck_age_sql(today))
        .where(rules.past_sla_sql(today, t))
        .order_by(Bottleneck.raised_on, Bottleneck.id), Bottleneck.department_id)
    ):
        sla = t.sla_days(severity)
        add(dept_id, dict(kind="bottleneck", title=title, severity=severity,
                          raised=_iso(raised), age=age, sla=sla, late=age - sla,
                          action_by=action_by or "", critical=severity in rules.SEVERE))
    # Milestones in progress without an update for the stale threshold.
    for dept_id, code, title, percent, updated in db.session.execute(only(
        sa.select(Milestone.department_id, Milestone.code, Milestone.title,
                  Milestone.percent_complete, Milestone.updated_at)
        .where(rules.stale_sql(today, t))
        .order_by(Milestone.updated_at, Milestone.id), Milestone.department_id)
    ):
        days = (today - updated.date()).days
        add(dept_id, dict(kind="stale", code=code, title=title, percent=percent,
                          updated=_iso(updated.date()), days=days,
                          late=max(0, days - t.stale_days), critical=False))
    # A missing (never submitted) or returned action plan.
    returned = sa.select(ActionPlan.id).where(ActionPlan.department_id == Department.id,
                                              ActionPlan.status == "returned").exists()
    for dept_id, is_returned, reviewed in db.session.execute(only(
        sa.select(Department.id, returned,
                  sa.select(ActionPlan.reviewed_at)
                  .where(ActionPlan.department_id == Department.id).scalar_subquery())
        .where(Department.active.is_(True),
               sa.or_(rules.no_submitted_plan_sql(), returned)), Department.id)
    ):
        add(dept_id, dict(kind="plan", state="returned" if is_returned else "missing",
                          reviewed=_iso(reviewed.date()) if is_returned and reviewed else None,
                          late=0, critical=False))
    # The ATR: open action items of earlier meetings.
    q = _earlier_items_query(meeting, today).where(ActionItem.status == "open")
    if department_ids is not None:
        q = q.where(ActionItem.department_id.in_(department_ids))
    for ai, _dept, m_title, m_date, overdue in db.session.execute(q):
        add(ai.department_id, dict(
            kind="atr", text=ai.text[:1000], due=_iso(ai.due_date), late=overdue,
            officer=ai.responsible_officer or "", meeting=m_title, meeting_date=_iso(m_date),
            critical=bool(overdue) and rules.overdue_escalation(ai.due_date, today, t) == "secretary"))
    # Milestones not yet due that the latest scan forecast to finish past the margin.
    from models import MilestoneForecast

    for dept_id, code, title, due, forecast_on, percent in db.session.execute(only(
        sa.select(Milestone.department_id, Milestone.code, Milestone.title, Milestone.due_date,
                  MilestoneForecast.forecast_on, Milestone.percent_complete)
        .join(MilestoneForecast, MilestoneForecast.milestone_id == Milestone.id)
        .where(rules.forecast_to_slip_sql(today, t))
        .order_by(Milestone.due_date, Milestone.id), Milestone.department_id)
    ):
        add(dept_id, dict(kind="forecast", code=code, title=title, due=_iso(due),
                          forecast=_iso(forecast_on), slip=(forecast_on - due).days,
                          percent=percent, late=0, critical=False))
    for findings in found.values():
        findings.sort(key=_finding_order)
    return found


def candidates(today, t, *, meeting=None):
    """Every department that has something to review, ranked (``Candidate.rank_key``)."""
    found = department_findings(today, t, meeting=meeting)
    names = dict(db.session.execute(
        sa.select(Department.id, Department.name).where(Department.id.in_(found))).all()
    ) if found else {}
    ranked = [Candidate(d, names.get(d, ""), f) for d, f in found.items() if d in names]
    ranked.sort(key=Candidate.rank_key)
    return ranked


def default_choice(ranked, limit):
    """The departments ticked by default: the first ``limit`` of the ranking."""
    return [c.department_id for c in ranked[:limit]]


def _item_snapshot(candidate, today):
    findings = candidate.findings
    return {
        "findings": findings[:MAX_STORED_FINDINGS],
        "total": len(findings),
        "critical": candidate.critical,
        "most_late": candidate.most_late,
        "as_of": today.isoformat(),
    }


def left_off(meeting, ranked):
    """``{"departments": n, "findings": m, "ids": [...]}``: what the rules find that is not on
    the meeting's agenda."""
    on = {i.department_id for i in meeting.agenda_items if i.kind == "department"}
    rest = [c for c in ranked if c.department_id not in on]
    return {"departments": len(rest), "findings": sum(c.count for c in rest),
            "ids": [c.department_id for c in rest]}


def build_agenda(meeting, today, t, department_ids=None, limit=12):
    """Put on a planned meeting's agenda one item per chosen department (``department_ids``,
    or the first ``limit`` of the ranking) that is not on it yet, and bring the points of
    every department item up to date. Returns the number of items added."""
    _require(meeting, "edit_agenda", doing=N_("Building the agenda"))
    ranked = candidates(today, t, meeting=meeting)
    by_dept = {c.department_id: c for c in ranked}
    if department_ids is None:
        department_ids = default_choice(ranked, limit)
    chosen = [c for c in ranked if c.department_id in set(department_ids)]
    present = {i.department_id: i for i in meeting.agenda_items if i.kind == "department"}
    # Department items first, in the order of the ranking; free items keep their place after.
    position = max((i.position for i in meeting.agenda_items), default=-1) + 1
    added = 0
    for c in chosen:
        if c.department_id in present:
            continue
        item = AgendaItem(position=position, kind="department", title=c.name[:500],
                          details="", department_id=c.department_id,
                          subject_type="department", subject_id=c.department_id)
        meeting.agenda_items.append(item)
        present[c.department_id] = item
        position += 1
        added += 1
    for dept_id, item in present.items():
        c = by_dept.get(dept_id)
        item.snapshot = _item_snapshot(c, today) if c else {
            "findings": [], "total": 0, "critical": 0, "most_late": 0, "as_of": today.isoformat()}
    meeting.left_off = left_off(meeting, ranked)
    db.session.flush()
    return added


def refresh_agenda(meeting, user, *, today, t):
    """Bring the points of the agenda's departments and the count of what is left off up to
    date (the departments on it stay the Secretary's choice)."""
    build_agenda(meeting, today, t, department_ids=[])
    audit.record("refresh_agenda", "review_meeting", meeting.id,
                 {"left_off": {k: v for k, v in meeting.left_off.items() if k != "ids"}},
                 user=user)
    return 0


def add_departments(meeting, user, *, department_ids, today, t):
    """Put departments left off on the agenda after all."""
    added = build_agenda(meeting, today, t, department_ids=department_ids)
    audit.record("add_departments", "review_meeting", meeting.id,
                 {"departments": sorted(department_ids), "added": added}, user=user)
    return added


def add_item(meeting, user, *, title, details, department_id):
    _require(meeting, "edit_agenda", doing=N_("Changing the agenda"))
    position = max((i.position for i in meeting.agenda_items), default=-1) + 1
    item = AgendaItem(position=position, kind="free", title=title, details=details or "",
                      department_id=department_id or None)
    meeting.agenda_items.append(item)
    db.session.flush()
    audit.record("add_agenda_item", "agenda_item", item.id,
                 {"meeting_id": meeting.id, "title": title}, user=user)
    return item


def edit_item(item, user, *, title, details):
    _require(item.meeting, "edit_agenda", doing=N_("Changing the agenda"))
    before = audit.snapshot(item, ("title", "details"))
    item.title, item.details = title, details or ""
    db.session.flush()
    audit.record("edit_agenda_item", "agenda_item", item.id,
                 audit.diff(before, audit.snapshot(item, ("title", "details"))), user=user)


def remove_item(item, user):
    meeting = item.meeting
    _require(meeting, "edit_agenda", doing=N_("Changing the agenda"))
    audit.record("remove_agenda_item", "agenda_item", item.id,
                 {"meeting_id": meeting.id, "title": item.title, "kind": item.kind}, user=user)
    meeting.agenda_items.remove(item)
    _renumber(meeting)
    db.session.flush()


def move_item(item, user, *, offset):
    """Move an item one place up (-1) or down (+1)."""
    meeting = item.meeting
    _require(meeting, "edit_agenda", doing=N_("Changing the agenda"))
    items = sorted(meeting.agenda_items, key=lambda i: (i.position, i.id))
    i = items.index(item)
    j = i + (1 if offset > 0 else -1)
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


def held_refusal(meeting, today):
    """Why the meeting cannot be marked held today (words), or None."""
    if state_allows("mark_meeting_held", meeting, today):
        return None
    if not state_allows("edit_agenda", meeting):  # no longer planned
        return _("%(doing)s is not possible: the meeting is %(status)s.",
                 doing=_("Marking the meeting held"), status=label("meeting_status",
                                                              meeting.status).lower())
    # Still planned, so it is dated after today.
    return _("The meeting is dated %(day)s: it can be marked held on that day or after, "
             "not before.", day=meeting.meeting_date.strftime("%d-%m-%Y"))


def mark_held(meeting, user, *, today, t):
    """The meeting took place: its agenda is frozen with the state of each subject today
    (a department item keeps its points as discussed)."""
    refusal = held_refusal(meeting, today)
    if refusal:
        raise ValidationError({"_": [refusal]})
    dept_items = [i for i in meeting.agenda_items if i.kind == "department"]
    found = department_findings(today, t, meeting=meeting,
                                department_ids=[i.department_id for i in dept_items]) \
        if dept_items else {}
    ranked = candidates(today, t, meeting=meeting)
    states = _subject_states([i for i in meeting.agenda_items if i.kind != "department"],
                             today, t)
    dept_names = dict(db.session.execute(sa.select(Department.id, Department.name)).all())
    for item in meeting.agenda_items:
        if item.kind == "department":
            findings = sorted(found.get(item.department_id, []), key=_finding_order)
            c = Candidate(item.department_id, dept_names.get(item.department_id, ""), findings)
            item.snapshot = {**_item_snapshot(c, today), "held": True}
            continue
        item.snapshot = {
            "title": item.title,
            "details": item.details,
            "kind": item.kind,
            "department": dept_names.get(item.department_id),
            "as_of": today.isoformat(),
            "held": True,
            **states.get((item.subject_type, item.subject_id), {}),
        }
    meeting.left_off = left_off(meeting, ranked)
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


def record_minutes(item, user, *, text):
    meeting = item.meeting
    if state_allows("amend_minutes", meeting):
        raise ValidationError({"minutes": [
            _("The minutes are final: record a correction as an amendment.")]})
    _require(meeting, "record_minutes", doing=N_("Recording minutes"))
    before = item.minutes
    item.minutes = text or ""
    db.session.flush()
    if before != item.minutes:
        audit.record("record_minutes", "agenda_item", item.id,
                     {"minutes": [before, item.minutes]}, user=user)


def record_meeting_minutes(meeting, user, *, minutes, decisions, expected_version=None):
    """The one save of a meeting's minutes: ``minutes`` maps agenda item ids to their text,
    ``decisions`` is a list of dicts (``item``, ``text``, ``department_id``,
    ``responsible_officer``, ``due_date``) to add. ``expected_version`` is the meeting's
    version the form was read at: a stale one raises ``ConflictError`` and nothing is saved."""
    if state_allows("amend_minutes", meeting):
        raise ValidationError({"minutes": [
            _("The minutes are final: record a correction as an amendment.")]})
    _require(meeting, "record_minutes", doing=N_("Recording minutes"))
    check_version(meeting, expected_version)
    read_version = meeting.version
    items = {i.id: i for i in meeting.agenda_items}
    changed = 0
    for item_id, text in minutes.items():
        item = items.get(item_id)
        if item is None or (text or "") == (item.minutes or ""):
            continue
        audit.record("record_minutes", "agenda_item", item.id,
                     {"minutes": [item.minutes, text or ""]}, user=user)
        item.minutes = text or ""
        changed += 1
    added = [add_decision(d["item"], user, text=d["text"], department_id=d["department_id"],
                          responsible_officer=d.get("responsible_officer"),
                          due_date=d["due_date"]) for d in decisions]
    if changed or added:
        # The meeting's version moves with its minutes: a second form read before this save
        # gets a conflict instead of overwriting it.
        from sqlalchemy.orm.attributes import flag_modified
        flag_modified(meeting, "title")
        flush_versioned(meeting, read_version)
    return changed, len(added)


def finalise_summary(meeting):
    """What finalising locks: ``(items with minutes, items without, decisions)``."""
    with_minutes = [i for i in meeting.agenda_items if (i.minutes or "").strip()]
    without = [i for i in meeting.agenda_items if not (i.minutes or "").strip()]
    return with_minutes, without, list(meeting.action_items)


def add_decision(item, user, *, text, department_id, responsible_officer, due_date):
    """A decision taken on an agenda item becomes an action item."""
    meeting = item.meeting
    _require(meeting, "record_minutes", doing=N_("Recording a decision"))
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
    _require(decision.meeting, "record_minutes", doing=N_("Removing a decision"))
    audit.record("delete", "action_item", decision.id,
                 audit.snapshot(decision, ACTION_ITEM_FIELDS), user=user)
    db.session.delete(decision)
    db.session.flush()


def finalise_minutes(meeting, user):
    _require(meeting, "finalise_minutes", doing=N_("Finalising the minutes"))
    meeting.status = "minutes_final"
    meeting.finalised_at = utcnow()
    meeting.finalised_by_id = user.id if user else None
    db.session.flush()
    audit.record("finalise_minutes", "review_meeting", meeting.id,
                 {"status": ["held", "minutes_final"]}, user=user)


def amend_minutes(item, user, *, text, reason):
    """A correction to final minutes: the text before is kept in the amendment."""
    _require(item.meeting, "amend_minutes", doing=N_("Amending the minutes"))
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


def update_action_item(item, user, *, status, closing_note, expected_version=None):
    """A department reports action taken. ``expected_version`` is the version the user read:
    a stale one raises ``ConflictError``."""
    if status in ("done", "dropped") and not (closing_note or "").strip():
        raise ValidationError({"closing_note": [
            _("Say what was done (the closing note) before closing the action item.")]})
    check_version(item, expected_version)
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


# --- Words for the findings (at display time, in the reader's language) ---------------------


def _day(iso):
    """'15-03-2026' from a stored ISO date."""
    if not iso:
        return ""
    return date.fromisoformat(str(iso)[:10]).strftime("%d-%m-%Y")


def finding_subject(f):
    """The subject of a finding as its users know it."""
    kind = f.get("kind")
    if kind in ("overdue", "stale", "forecast"):
        return f"{f.get('code', '')} · {f.get('title', '')}"
    if kind == "bottleneck":
        return f.get("title", "")
    if kind == "atr":
        return f.get("text", "")
    if kind == "plan":
        return _("Action plan")
    return ""


def finding_sentence(f):
    """The state of a finding as a sentence: 'Overdue by 264 days — due 15-03-2026, 0 % done,
    not started'."""
    kind = f.get("kind")
    if kind == "overdue":
        return _("Overdue by %(days)d days — due %(due)s, %(percent)d %% done, %(status)s",
                 days=f.get("late") or 0, due=_day(f.get("due")), percent=f.get("percent") or 0,
                 status=label("milestone_status", f.get("status")).lower())
    if kind == "bottleneck":
        text = _("Open %(age)d days, %(late)d past its time limit of %(sla)d days — "
                 "severity %(severity)s",
                 age=f.get("age") or 0, late=f.get("late") or 0, sla=f.get("sla") or 0,
                 severity=label("severity", f.get("severity")).lower())
        if f.get("action_by"):
            text += "; " + _("action by %(who)s", who=f["action_by"])
        return text
    if kind == "stale":
        return _("No update for %(days)d days — last on %(day)s, %(percent)d %% done",
                 days=f.get("days") or 0, day=_day(f.get("updated")),
                 percent=f.get("percent") or 0)
    if kind == "plan":
        if f.get("state") == "returned":
            if f.get("reviewed"):
                return _("Returned for changes on %(day)s, not submitted again",
                         day=_day(f["reviewed"]))
            return _("Returned for changes, not submitted again")
        return _("No action plan submitted")
    if kind == "forecast":
        return _("Forecast to finish on %(forecast)s, %(days)d days after its due date "
                 "%(due)s — %(percent)d %% done",
                 forecast=_day(f.get("forecast")), days=f.get("slip") or 0,
                 due=_day(f.get("due")), percent=f.get("percent") or 0)
    if kind == "atr":
        text = _("Decided at “%(meeting)s” on %(day)s", meeting=f.get("meeting", ""),
                 day=_day(f.get("meeting_date")))
        if f.get("late"):
            text += " — " + _("overdue by %(days)d days, due %(due)s", days=f["late"],
                              due=_day(f.get("due")))
        else:
            text += " — " + _("due %(due)s", due=_day(f.get("due")))
        if f.get("officer"):
            text += "; " + _("responsible: %(who)s", who=f["officer"])
        return text
    return ""


def finding_line(f):
    """'FISH-08 · Online fishing licence: Overdue by 264 days — due 15-03-2026, …'."""
    return f"{finding_subject(f)}: {finding_sentence(f)}"


def item_summary(snapshot):
    """'3 critical · most late 264 days · 12 findings' for a department item."""
    snapshot = snapshot or {}
    parts = []
    if snapshot.get("critical"):
        parts.append(ngettext("%(num)d critical", "%(num)d critical", snapshot["critical"]))
    if snapshot.get("most_late"):
        parts.append(_("up to %(days)d days past the time limit", days=snapshot["most_late"]))
    parts.append(ngettext("%(num)d finding", "%(num)d findings", snapshot.get("total") or 0))
    return " · ".join(parts)


def _subject_status(code):
    """The words of a status stored in an older item's snapshot (a milestone's, a bottleneck's
    or an action item's: the codes they share have the same words)."""
    kind = next((k for k in ("milestone_status", "bottleneck_status", "action_item_status")
                 if code in LABELS[k]), "milestone_status")
    return label(kind, code)


def legacy_sentence(snapshot):
    """The 'As discussed' state of an item of the older kinds (one subject), as a sentence."""
    snapshot = snapshot or {}
    parts = []
    if snapshot.get("status"):
        parts.append(_("status: %(status)s", status=_subject_status(snapshot["status"]).lower()))
    if snapshot.get("percent_complete") is not None:
        parts.append(_("%(percent)d %% done", percent=snapshot["percent_complete"]))
    if snapshot.get("due_date"):
        parts.append(_("due %(due)s", due=_day(snapshot["due_date"])))
    if snapshot.get("days_overdue"):
        parts.append(_("overdue by %(days)d days", days=snapshot["days_overdue"]))
    if snapshot.get("age_days") is not None:
        parts.append(_("open %(days)d days", days=snapshot["age_days"]))
    return ", ".join(parts)
