"""The Action Taken Report (ATR): every action item, its status then and now."""
from exports.workbook import Column, Table, generated_label, new_workbook, to_bytes
from tracker.operations.meetings import atr_rows

COLUMNS = [
    Column("Decision", "wrap"),
    Column("Meeting"),
    Column("Meeting date", "date"),
    Column("Department"),
    Column("Responsible officer"),
    Column("Due date", "date"),
    Column("Status at last meeting"),
    Column("Status now"),
    Column("Days overdue", "number"),
    Column("Closing note", "wrap"),
]


def _cap(s):
    return s.capitalize() if s else s


def rows(atr):
    return [
        (r.item.text, r.meeting_title, r.meeting_date, r.department,
         r.item.responsible_officer, r.item.due_date, _cap(r.status_then), _cap(r.status_now),
         r.days_overdue, r.item.closing_note)
        for r in atr
    ]


def write_sheet(wb, atr, generated, title="Action Taken Report"):
    Table(wb, "ATR", title, COLUMNS, generated).write(rows(atr))


def atr_workbook(today, generated_at, meeting=None, department_ids=None) -> bytes:
    wb = new_workbook()
    title = "Action Taken Report"
    if meeting is not None:
        title += f" for {meeting.title} ({meeting.meeting_date:%d-%m-%Y})"
    write_sheet(wb, atr_rows(today, meeting=meeting, department_ids=department_ids),
                generated_label(generated_at), title)
    return to_bytes(wb)
