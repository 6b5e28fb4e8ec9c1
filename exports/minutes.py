"""The minutes of a review meeting, to be printed, signed and circulated.

The first sheet, "Minutes", is laid out like government minutes on portrait A4: the header
block (meeting, date, venue, chair, attendees), then per agenda item (one per department
under review) the points discussed as they stood when the meeting was held, the discussion
(the minutes) and the decisions with the responsible officer and the due date. It is
printed at 100 % (no fit-to-page shrinking: text stays at 10–11 pt on paper), on four
columns sized for A4 portrait, with row heights set from the text so that wrapped lines are
shown, the meeting's title repeated on every page and "Page x of y" in the footer.

Then "Decisions" (every action item of the meeting) and "ATR" (the action items of earlier
meetings). Every word is in the reader's language (``gettext`` at export time)."""
import math
import re

import sqlalchemy as sa
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.utils.indexed_list import IndexedList
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.properties import PageSetupProperties

from exports import atr as atr_export
from exports.workbook import RISKY_FIRST, Column, Table, _clean, generated_label, to_bytes
from models import ActionItem, AgendaItem, Department, MinutesAmendment, ReviewMeeting
from tracker.extensions import db
from tracker.labels import label
from tracker.operations import meetings as ops
from tracker.operations.meetings import atr_rows

# Column widths (characters of the default font) for A4 portrait at 100 % with 1.3 cm
# margins: 5 + 50 + 18 + 11 = 84 characters, about 17.5 cm of the 18.4 cm between the
# margins (LibreOffice sets a character of the default font about 2.1 mm wide).
WIDTHS = {"A": 5, "B": 50, "C": 18, "D": 11}
# Arial (Liberation Sans in LibreOffice, the same widths): the widths and line counts below
# hold in Excel and in LibreOffice alike, which a missing Calibri would not give.
FONT_NAME = "Arial"
FONT_SIZE = 10
LINE_POINTS = 13.5  # the height of one line of 10 pt text, with its leading
_DEVANAGARI = re.compile(r"[\u0900-\u097F]")


def decision_columns():
    return [
        Column(_("No.")),
        Column(_("Agenda item"), "wrap", 30),
        Column(_("Decision"), "wrap", 50),
        Column(_("Department"), "wrap", 22),
        Column(_("Responsible officer"), "wrap", 22),
        Column(_("Due date"), "date", 12),
        Column(_("Status"), "text", 10),
        Column(_("Closing note"), "wrap", 30),
    ]


def _lines(text, width):
    """How many lines ``text`` takes in a wrapped cell ``width`` characters wide. Devanagari
    is set wider than Latin text: it counts for more."""
    if not text:
        return 1
    text = str(text)
    share = len(_DEVANAGARI.findall(text)) / len(text)
    per_line = max(1.0, width * (1.0 - 0.3 * share))
    return sum(max(1, math.ceil(len(part) / per_line)) for part in text.split("\n"))


class MinutesSheet:
    """A sheet written row by row, each row's height set from its longest cell."""

    def __init__(self, ws):
        self.ws = ws
        self.row = 0
        self.wrap = Alignment(wrap_text=True, vertical="top")
        thin = Side(style="thin", color="999999")
        self.rule = Border(bottom=thin)

    def add(self, cells, *, span=None, bold=False, size=FONT_SIZE, fill=None, italic=False,
            border=False):
        """``cells``: values for columns A.. ; ``span``: (first, last) columns merged for the
        last value (its text wraps across them)."""
        self.row += 1
        r = self.row
        letters = "ABCD"
        height_lines = 1
        for i, value in enumerate(cells):
            col = letters[i]
            cell = self.ws[f"{col}{r}"]
            if value is not None and value != "":
                if isinstance(value, str):
                    # Text stays text: never a formula, whatever a user typed.
                    value = _clean(value)
                    cell._value = value
                    cell.data_type = "s"
                    if value[:1] in RISKY_FIRST:
                        cell.quotePrefix = True
                else:
                    cell.value = value
            cell.font = Font(name=FONT_NAME, bold=bold, italic=italic, size=size)
            cell.alignment = self.wrap
            if fill:
                cell.fill = PatternFill(fill_type="solid", start_color=fill, end_color=fill)
            if border:
                cell.border = self.rule
            width = WIDTHS[col]
            if span and i == len(cells) - 1:
                width = sum(WIDTHS[c] for c in letters[letters.index(span[0]):letters.index(span[1]) + 1])
            if isinstance(value, str):
                height_lines = max(height_lines, _lines(value, width))
        if span:
            first, last = span
            for c in letters[letters.index(first) + 1:letters.index(last) + 1]:
                if fill:
                    self.ws[f"{c}{r}"].fill = PatternFill(fill_type="solid", start_color=fill,
                                                          end_color=fill)
                if border:
                    self.ws[f"{c}{r}"].border = self.rule
            self.ws.merge_cells(f"{first}{r}:{last}{r}")
        points = LINE_POINTS * size / FONT_SIZE
        self.ws.row_dimensions[r].height = round(height_lines * points + 3, 1)
        return r

    def blank(self):
        self.row += 1
        self.ws.row_dimensions[self.row].height = 8


def _setup(ws):
    for col, width in WIDTHS.items():
        ws.column_dimensions[col].width = width
    ws.page_setup.orientation = "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.scale = 100
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=False)
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.page_margins.header = ws.page_margins.footer = 0.3
    ws.print_title_rows = "1:1"
    footer = _("Page %(page)s of %(pages)s", page="&P", pages="&N")
    ws.oddFooter.center.text = footer
    ws.oddFooter.center.size = 10
    ws.evenFooter.center.text = footer
    ws.print_options.horizontalCentered = True


def _attendee(a, dept_names):
    text = a.name
    if a.designation:
        text += f", {a.designation}"
    if a.department_id and dept_names.get(a.department_id):
        text += f" ({dept_names[a.department_id]})"
    return text


def write_minutes_sheet(ws, meeting, items, by_item, amended, dept_names):
    _setup(ws)
    s = MinutesSheet(ws)
    s.add([_("Minutes of the meeting: %(title)s", title=meeting.title)], span=("A", "D"),
          bold=True, size=14)
    facts = [
        (_("Date"), meeting.meeting_date.strftime("%d-%m-%Y")),
        (_("Venue"), meeting.venue or "—"),
        (_("Chair"), meeting.chair or "—"),
        (_("Status"), label("meeting_status", meeting.status)
         + (f" ({meeting.finalised_at:%d-%m-%Y})" if meeting.finalised_at else "")),
    ]
    for name, value in facts:
        s.add([None, f"{name}: {value}"], span=("B", "D"))
    attendees = [_attendee(a, dept_names) for a in meeting.attendees]
    s.add([None, _("Present:")], span=("B", "D"), bold=True)
    if attendees:
        for k, text in enumerate(attendees, start=1):
            s.add([f"{k}.", text], span=("B", "D"))
    else:
        s.add([None, _("No attendees recorded.")], span=("B", "D"))
    s.blank()
    for n, item in enumerate(items, start=1):
        snap = item.snapshot or {}
        title = dept_names.get(item.department_id) if item.kind == "department" else (
            snap.get("title") or item.title)
        s.add([f"{n}.", title or item.title], span=("B", "D"), bold=True, fill="E7E6E6",
              border=True)
        if item.kind == "department":
            findings = snap.get("findings") or []
            as_of = ops._day(snap.get("as_of"))
            s.add([None, _("Points for review (as on %(day)s):", day=as_of) if as_of
                   else _("Points for review:")], span=("B", "D"), italic=True)
            for k, f in enumerate(findings):
                s.add([None, f"({chr(97 + k) if k < 26 else k + 1}) {ops.finding_line(f)}"],
                      span=("B", "D"))
            if (snap.get("total") or 0) > len(findings):
                s.add([None, _("and %(num)d more findings", num=snap["total"] - len(findings))],
                      span=("B", "D"), italic=True)
            if not findings:
                s.add([None, _("Nothing the rules find any more.")], span=("B", "D"))
        else:
            details = snap.get("details") or item.details
            if details:
                s.add([None, details], span=("B", "D"))
            legacy = ops.legacy_sentence(snap)
            if legacy:
                s.add([None, legacy], span=("B", "D"), italic=True)
        s.add([None, _("Discussion:")], span=("B", "D"), bold=True)
        s.add([None, item.minutes or _("No minutes recorded.")], span=("B", "D"))
        for a in amended.get(item.id, []):
            s.add([None, _("Corrected on %(day)s (%(reason)s); before: “%(text)s”",
                           day=a.at.strftime("%d-%m-%Y"), reason=a.reason or "—",
                           text=a.previous_text)], span=("B", "D"), italic=True)
        decided = by_item.get(item.id, [])
        if decided:
            s.add([None, _("Decisions"), _("Responsible officer"), _("Due date")], bold=True)
            for k, d in enumerate(decided, start=1):
                officer = d.responsible_officer or ""
                dept = dept_names.get(d.department_id, "")
                s.add([f"{n}.{k}", d.text, f"{officer} ({dept})" if officer else dept,
                       d.due_date.strftime("%d-%m-%Y")])
        s.blank()
    s.add([None, _("Approved by the chair:")], span=("B", "D"), bold=True)
    s.blank()
    s.add([None, meeting.chair or ""], span=("B", "D"))


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

    wb = Workbook()
    # The default font (index 0, the "Normal" style) sets the width of a column's unit.
    wb._fonts = IndexedList([Font(name=FONT_NAME, size=FONT_SIZE, family=2)])
    ws = wb.active
    ws.title = _("Minutes")[:31]
    write_minutes_sheet(ws, meeting, items, by_item, amended, dept_names)

    def item_title(item):
        if item.kind == "department":
            return dept_names.get(item.department_id) or item.title
        return (item.snapshot or {}).get("title") or item.title

    decision_rows = []
    for item in items:
        for k, d in enumerate(by_item.get(item.id, []), start=1):
            decision_rows.append((f"{numbers[item.id]}.{k}", item_title(item), d.text,
                                  dept_names.get(d.department_id), d.responsible_officer,
                                  d.due_date, label("action_item_status", d.status), d.closing_note))
    for d in by_item.get(None, []):
        decision_rows.append(("", "", d.text, dept_names.get(d.department_id),
                              d.responsible_officer, d.due_date, label("action_item_status", d.status),
                              d.closing_note))
    Table(wb, _("Decisions"), _("Decisions: %(title)s", title=meeting.title),
          decision_columns(), generated).write(decision_rows)

    atr_export.write_sheet(wb, atr_rows(today, meeting=meeting), generated,
                           _("Action Taken Report on the decisions of earlier meetings"))
    return to_bytes(wb)
