"""Shared helpers of every workbook: the printed look, and the one function that writes text.

Every workbook is written in openpyxl's write-only (streaming) mode, so a sheet of 100,000
rows costs no more memory than one of 1,000. A sheet is made by ``Table``: title and
generation time on top, a bold header row that is frozen, filtered and repeated on every
printed page, column widths that fit, landscape fit-to-width page set-up, dates as real date
cells shown DD-MM-YYYY (times DD-MM-YYYY HH:MM), and health, severity or a register's
compliance state as text on a colour fill.

``text_cell`` writes every text value. A value that starts with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return is stored as a string with Excel's quote prefix, never as a
formula; characters XML cannot hold are dropped, and a carriage return becomes a line feed
(what an XML reader would make of it anyway). Keep it cheap: it runs for every cell.
"""
import io
import re
from dataclasses import dataclass
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.properties import PageSetupProperties

from tracker.rules import HEALTH_LABELS

DATE_FORMAT = "DD-MM-YYYY"
DATETIME_FORMAT = "DD-MM-YYYY HH:MM"
RISKY_FIRST = frozenset("=+-@\t\r")
# XML 1.0 cannot hold these; openpyxl would raise on them.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
MAX_CELL_CHARS = 32767

FILLS = {
    # health
    "overdue": "F4CCCC",
    "at_risk": "FFE599",
    "on_track": "CFE2F3",
    "done": "D9EAD3",
    "dropped": "E7E6E6",
    # severity
    "critical": "E06666",
    "high": "F4CCCC",
    "medium": "FFE599",
    "low": "D9EAD3",
}
# Compliance states of the registers (tracker.rules *_state): a problem is also bold.
STATE_FILLS = {
    "ok": "DFF3E4",
    "expiring": "FFF1CC",
    "expired": "FBE0E0",
    "missing": "FBE0E0",
    "down": "FBE0E0",
}
SEVERITY_LABELS = {"low": "Low", "medium": "Medium", "high": "High", "critical": "Critical"}


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = "text"  # text | wrap | date | datetime | number | health | severity | state
    width: int | None = None  # for streamed sheets, whose data cannot be measured first


def new_workbook():
    return Workbook(write_only=True)


def to_bytes(wb) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _clean(value):
    if not isinstance(value, str):
        value = str(value)
    if _ILLEGAL.search(value):
        value = _ILLEGAL.sub("", value)
    if "\r" in value:  # XML reads a carriage return as a line feed: say so when writing
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    if len(value) > MAX_CELL_CHARS:
        value = value[:MAX_CELL_CHARS]
    return value


class Styles:
    """Style arrays registered once per workbook, so a styled cell costs one copy."""

    def __init__(self, wb, ws):
        self.ws = ws
        self.quoted = self._make(ws, quotePrefix=True)
        self.date = self._make(ws, number_format=DATE_FORMAT)
        self.datetime = self._make(ws, number_format=DATETIME_FORMAT)
        self.header = self._make(ws, font=Font(bold=True), fill=_fill("D9D9D9"),
                                 alignment=Alignment(wrap_text=True, vertical="top"))
        self.title = self._make(ws, font=Font(bold=True, size=14))
        self.bold = self._make(ws, font=Font(bold=True))
        self.wrap = self._make(ws, alignment=Alignment(wrap_text=True, vertical="top"))
        self.filled = {key: self._make(ws, fill=_fill(colour)) for key, colour in FILLS.items()}
        self.state = {
            key: self._make(ws, fill=_fill(colour), **({} if key == "ok" else {"font": Font(bold=True)}))
            for key, colour in STATE_FILLS.items()
        }

    @staticmethod
    def _make(ws, quotePrefix=False, **attrs):
        cell = Cell(ws, row=1, column=1)
        for name, value in attrs.items():
            setattr(cell, name, value)
        if quotePrefix:
            cell.quotePrefix = True
        return StyleArray(cell._style)


def _fill(colour):
    return PatternFill(fill_type="solid", start_color=colour, end_color=colour)


def text_cell(ws, styles, value, style=None):
    """THE writer of text: every text value of every workbook goes through here.

    Returns what ``ws.append`` takes: the plain string when it is harmless and unstyled
    (the fast path), else a cell whose type is forced to string."""
    if value is None:
        return None
    risky = isinstance(value, str) and value[:1] in RISKY_FIRST
    value = _clean(value)
    if risky or (value and value[0] in RISKY_FIRST):
        cell = Cell(ws, row=1, column=1, style_array=styles.quoted)
        cell._value = value
        cell.data_type = "s"
        return cell
    if style is None:
        return value
    cell = Cell(ws, row=1, column=1, style_array=style)
    cell._value = value
    cell.data_type = "s"
    return cell


def styled_cell(ws, style, value):
    return Cell(ws, row=1, column=1, value=value, style_array=style)


def date_cell(ws, styles, value):
    if value is None:
        return None
    if isinstance(value, datetime):
        value = value.date()
    return Cell(ws, row=1, column=1, value=value, style_array=styles.date)


def datetime_cell(ws, styles, value):
    """A naive local date and time, shown DD-MM-YYYY HH:MM."""
    if value is None:
        return None
    return Cell(ws, row=1, column=1, value=value, style_array=styles.datetime)


def state_cell(ws, styles, value):
    """A register's compliance state: ``(state, words)``, the words on the state's fill."""
    if value is None:
        return None
    state, words = value
    return text_cell(ws, styles, words, styles.state.get(state))


def label_cell(ws, styles, code, labels):
    """Health or severity: the words, on the colour fill of that code."""
    if code is None:
        return None
    label = labels.get(code, str(code).replace("_", " ").capitalize())
    style = styles.filled.get(code)
    return text_cell(ws, styles, label, style)


# A write-only sheet writes each row's cells as the row is appended and keeps none of them, so
# a styled column can reuse one cell, its value set row after row. Building a fresh styled cell
# for every date and health value was a third of a 100,000-row roadmap's time over the bare
# openpyxl loop (see README, Performance).


def _streamed_dates(ws, styles):
    cell = Cell(ws, row=1, column=1, style_array=styles.date)

    def convert(value):
        if value is None:
            return None
        if isinstance(value, datetime):
            value = value.date()
        elif not isinstance(value, date):
            return date_cell(ws, styles, value)
        cell._value = value
        cell.data_type = "d"
        return cell

    return convert


def _streamed_labels(ws, styles, labels):
    """The words of a known code on its fill, one reused cell per code (the words are ours:
    nothing to neutralise); anything else through ``label_cell``."""
    cells = {}
    for code, label in labels.items():
        if code in styles.filled and label[:1] not in RISKY_FIRST:
            cell = Cell(ws, row=1, column=1, style_array=styles.filled[code])
            cell._value = label
            cell.data_type = "s"
            cells[code] = cell

    def convert(value):
        cell = cells.get(value)
        return cell if cell is not None else label_cell(ws, styles, value, labels)

    return convert


class Table:
    """One sheet: title block, then a frozen, filtered header row, then the rows.

    ``Table(wb, "Sheet", "Title", columns, generated)`` then ``.write(rows)`` where rows is an
    iterable of value tuples in column order (a list lets the widths be measured; a generator
    streams and uses the columns' widths). ``facts`` are extra (label, value) lines printed
    under the title."""

    def __init__(self, wb, sheet_name, title, columns, generated, facts=()):
        self.wb = wb
        self.ws = wb.create_sheet(sheet_name[:31])
        self.columns = list(columns)
        self.title = title
        self.generated = generated
        self.facts = list(facts)
        self.styles = Styles(wb, self.ws)

    @property
    def header_row(self):
        return 3 + len(self.facts) + 1

    def _converters(self):
        ws, st = self.ws, self.styles
        streamed = isinstance(ws, WriteOnlyWorksheet)
        convert = []
        for col in self.columns:
            if col.kind == "date":
                convert.append(_streamed_dates(ws, st) if streamed
                               else lambda v: date_cell(ws, st, v))
            elif col.kind == "datetime":
                convert.append(lambda v: datetime_cell(ws, st, v))
            elif col.kind == "state":
                convert.append(lambda v: state_cell(ws, st, v))
            elif col.kind == "number":
                convert.append(lambda v: v)
            elif col.kind in ("health", "severity"):
                labels = HEALTH_LABELS if col.kind == "health" else SEVERITY_LABELS
                convert.append(_streamed_labels(ws, st, labels) if streamed
                               else lambda v, labels=labels: label_cell(ws, st, v, labels))
            elif col.kind == "wrap":
                convert.append(lambda v: text_cell(ws, st, v, st.wrap))
            else:
                convert.append(lambda v: text_cell(ws, st, v))
        return convert

    def _widths(self, rows):
        widths = [max(len(c.header), 8) for c in self.columns]
        if rows is None:
            return [c.width or w for c, w in zip(self.columns, widths)]
        for row in rows:
            for i, v in enumerate(row):
                if v is None:
                    continue
                n = 10 if isinstance(v, (date, datetime)) else len(str(v))
                if n > widths[i]:
                    widths[i] = n
        return [min(w + 2, 60) for w in widths]

    def _setup(self, widths):
        ws = self.ws
        for i, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = w
        ws.freeze_panes = f"A{self.header_row + 1}"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = "9"  # A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        ws.print_title_rows = f"{self.header_row}:{self.header_row}"
        ws.print_options.gridLines = True

    def _head(self):
        ws, st = self.ws, self.styles
        ws.append([text_cell(ws, st, self.title, st.title)])
        ws.append([text_cell(ws, st, "Generated on"), text_cell(ws, st, self.generated)])
        for label, value in self.facts:
            if isinstance(value, (date, datetime)):
                value = date_cell(ws, st, value)
            else:
                value = text_cell(ws, st, value, st.wrap)
            ws.append([text_cell(ws, st, label, st.bold), value])
        ws.append([])
        ws.append([text_cell(ws, st, c.header, st.header) for c in self.columns])

    def write(self, rows):
        measured = rows if isinstance(rows, list) else None
        self._setup(self._widths(measured))
        self._head()
        convert = self._converters()
        append = self.ws.append
        n = 0
        for row in rows:
            append([f(v) for f, v in zip(convert, row)])
            n += 1
        last = self.header_row + max(n, 1)
        self.ws.auto_filter.ref = (
            f"A{self.header_row}:{get_column_letter(len(self.columns))}{last}"
        )
        return n


def generated_label(at: datetime) -> str:
    """'29-11-2026 18:05 (+05:30)' for an aware local datetime."""
    offset = at.strftime("%z")
    offset = f"{offset[:3]}:{offset[3:]}" if offset else "UTC"
    return at.strftime("%d-%m-%Y %H:%M") + f" ({offset})"
