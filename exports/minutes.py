"""The minutes of a review meeting, to be printed and circulated: five sheets.

Minutes (the meeting, its attendees, the minutes per agenda item as discussed), Decisions,
ATR (the action items of earlier meetings), Overdue milestones and Open bottlenecks."""
import sqlalchemy as sa

from exports import atr as atr_export
from exports import bottlenecks as bottleneck_export
from exports.labels import STATUS_LABELS
from exports.workbook import Column, Table, generated_label, new_workbook, to_bytes
from models import ActionItem, AgendaItem, Department, Milestone, MinutesAmendment, ReviewMeeting
from tracker import rules
from tracker.extensions import db
from tracker.operations.meetings import atr_rows

MINUTES_COLUMNS = [
    Column("No.", "number"),
    Column("Agenda item", "wrap"),
    Column("Department"),
    Column("As discussed", "wrap"),
    Column("Minutes", "wrap"),
    Column("Decisions", "wrap"),
    Column("Amendments", "wrap"),
]
DECISION_COLUMNS = [
    Column("No."),
    Column("Agenda item", "wrap"),
    Column("Decision", "wrap"),
    Column("Department"),
    Column("Responsible officer"),
    Column("Due date", "date"),
    Column("Status"),
    Column("Closing note", "wrap"),
]
OVERDUE_COLUMNS = [
    Column("Department"),
    Column("Milestone code"),
    Column("Title", "wrap"),
    Column("Owner"),
    Column("Status"),
    Column("% complete", "number"),
    Column("Due date", "date"),
    Column("Days overdue", "number"),
    Column("Health", "health"),
]


def _as_discussed(item):
    snap = item.snapshot or {}
    if not snap:
        return item.details
    parts = [snap.get("details") or ""]
    extra = {k: v for k, v in snap.items()
             if k not in ("title", "details", "kind", "department", "as_of", "subject")
             and v not in (None, "")}
    if extra:
        parts.append("; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in extra.items()))
    if snap.get("as_of"):
        parts.append(f"(as of {snap['as_of']})")
    return " ".join(p for p in parts if p)


def overdue_milestone_rows(today, t):
    q = (
        sa.select(Department.name, Milestone.code, Milestone.title, Milestone.owner,
                  Milestone.status, Milestone.percent_complete, Milestone.due_date,
                  rules.days_between(Milestone.due_date, rules._d(today)),
                  rules.health_sql(today, t))
        .join(Department, Milestone.department_id == Department.id)
        .where(rules.overdue_sql(today))
        .order_by(Department.name, Milestone.due_date, Milestone.id)
    )
    return [(d, c, ti, o, STATUS_LABELS.get(s, s), p, due, late, h)
            for d, c, ti, o, s, p, due, late, h in db.session.execute(q)]


def minutes_workbook(meeting_id, today, t, generated_at) -> bytes:
    meeting = db.session.get(ReviewMeeting, meeting_id)
    generated = generated_label(generated_at)
    dept_names = dict(db.session.execute(sa.select(Department.id, Department.name)).all())
    items = db.session.execute(
        sa.select(AgendaItem).where(AgendaItem.meeting_id == meeting.id)
        .order_by(AgendaItem.position, AgendaItem.id)
    ).scalars().all()
    decisions = db.session.execute(
        sa.select(ActionItem).where(ActionItem.meeting_id == meeting.id).order_by(ActionItem.id)
    ).scalars().all()
    amendments = db.session.execute(
        sa.select(MinutesAmendment).join(AgendaItem)
        .where(AgendaItem.meeting_id == meeting.id).order_by(MinutesAmendment.at)
    ).scalars().all()
    by_item, amended = {}, {}
    for d in decisions:
        by_item.setdefault(d.agenda_item_id, []).append(d)
    for a in amendments:
        amended.setdefault(a.agenda_item_id, []).append(a)
    numbers = {item.id: n for n, item in enumerate(items, start=1)}

    wb = new_workbook()
    attendees = "; ".join(
        a.name + (f", {a.designation}" if a.designation else "")
        + (f" ({dept_names.get(a.department_id)})" if a.department_id else "")
        for a in meeting.attendees
    )
    minutes_rows = []
    for item in items:
        title = (item.snapshot or {}).get("title") or item.title
        dept = (item.snapshot or {}).get("department") or dept_names.get(item.department_id)
        decided = "\n".join(
            f"{numbers[item.id]}.{k} {d.text} ({dept_names.get(d.department_id)}, due "
            f"{d.due_date:%d-%m-%Y})" for k, d in enumerate(by_item.get(item.id, []), start=1))
        changes = "\n".join(
            f"{a.at:%d-%m-%Y}: was \"{a.previous_text}\"" + (f" ({a.reason})" if a.reason else "")
            for a in amended.get(item.id, []))
        minutes_rows.append((numbers[item.id], title, dept, _as_discussed(item), item.minutes,
                             decided, changes))
    Table(wb, "Minutes", f"Minutes: {meeting.title}", MINUTES_COLUMNS, generated, facts=[
        ("Date", meeting.meeting_date),
        ("Venue", meeting.venue),
        ("Chair", meeting.chair),
        ("Status", meeting.status.replace("_", " ").capitalize()),
        ("Attendees", attendees),
    ]).write(minutes_rows)

    decision_rows = []
    for item in items:
        for k, d in enumerate(by_item.get(item.id, []), start=1):
            decision_rows.append((f"{numbers[item.id]}.{k}", item.title, d.text,
                                  dept_names.get(d.department_id), d.responsible_officer,
                                  d.due_date, d.status.capitalize(), d.closing_note))
    for d in by_item.get(None, []):
        decision_rows.append(("", "", d.text, dept_names.get(d.department_id),
                              d.responsible_officer, d.due_date, d.status.capitalize(),
                              d.closing_note))
    Table(wb, "Decisions", f"Decisions: {meeting.title}", DECISION_COLUMNS,
          generated).write(decision_rows)

    atr_export.write_sheet(wb, atr_rows(today, meeting=meeting), generated,
                           "Action Taken Report on the decisions of earlier meetings")
    Table(wb, "Overdue milestones", "Overdue milestones", OVERDUE_COLUMNS, generated,
          facts=[("As of", today)]).write(overdue_milestone_rows(today, t))
    bottleneck_export.write_sheet(wb, bottleneck_export.bottleneck_rows(today, t, open_only=True),
                                  generated, sheet="Open bottlenecks", title="Open bottlenecks")
    return to_bytes(wb)
