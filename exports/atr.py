"""The Action Taken Report (ATR): every action item, its status then and now."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from exports.workbook import Column, Table, generated_label, new_workbook, to_bytes
from tracker.labels import label
from tracker.operations.meetings import atr_rows

COLUMNS = [
    Column(_l("Decision"), "wrap"),
    Column(_l("Meeting")),
    Column(_l("Meeting date"), "date"),
    Column(_l("Department")),
    Column(_l("Responsible officer")),
    Column(_l("Due date"), "date"),
    Column(_l("Status at last meeting")),
    Column(_l("Status now")),
    Column(_l("Days overdue"), "number"),
    Column(_l("Closing note"), "wrap"),
]


def rows(atr):
    return [
        (r.item.text, r.meeting_title, r.meeting_date, r.department,
         r.item.responsible_officer, r.item.due_date, label("action_item_status", r.status_then),
         label("action_item_status", r.status_now),
         r.days_overdue, r.item.closing_note)
        for r in atr
    ]


def write_sheet(wb, atr, generated, title=None):
    Table(wb, _("ATR"), title or _("Action Taken Report"), COLUMNS, generated).write(rows(atr))


def atr_workbook(today, generated_at, meeting=None, department_ids=None) -> bytes:
    wb = new_workbook()
    title = _("Action Taken Report")
    if meeting is not None:
        title = _("Action Taken Report for %(meeting)s (%(day)s)", meeting=meeting.title,
                  day=f"{meeting.meeting_date:%d-%m-%Y}")
    write_sheet(wb, atr_rows(today, meeting=meeting, department_ids=department_ids),
                generated_label(generated_at), title)
    return to_bytes(wb)
