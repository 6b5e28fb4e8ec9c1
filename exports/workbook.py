"""Shared helpers of every workbook: the printed look, and the one function that writes text.

Every workbook is written in openpyxl's write-only (streaming) mode, so a sheet of 100,000
rows costs no more memory than one of 1,000. A sheet is made by ``Table``: title and
generation time on top, a bold header row that is frozen, filtered and repeated on every
printed page, dates as real date cells shown DD-MM-YYYY (times DD-MM-YYYY HH:MM), and health,
severity or a register's compliance state as text on a colour fill.

Printing (``plan_page``, ``apply_page``, ``row_height``): every sheet goes on A4 with
"Page x of y" in the footer and the title and date in the page header. The text is Arial
10 pt (LibreOffice prints it with the metric-compatible Liberation Sans, Devanagari with a
fallback font such as Lohit Devanagari) and is never printed smaller than 9 pt: a sheet is
portrait when its columns fit, else landscape; fitted to the page width only while the scale
keeps 9 pt, else with its text columns narrowed (wrapping), else printed at full size on
landscape pages that continue to the right, the first column repeated. Every row is as tall
as its wrapped text (estimated from the text's length and the column's width, set as the
row is written, so streamed sheets get it too).

``text_cell`` writes every text value of a workbook, ``csv_text`` every text field of a CSV
file: the one place text is neutralised against formulas. A value that starts with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return is stored as a string with Excel's quote
prefix (in a CSV file: after an apostrophe), never as a formula; characters XML cannot hold are dropped, and a carriage return becomes a line feed
(what an XML reader would make of it anyway). Keep it cheap: it runs for every cell.
"""
import io
import math
import re
from dataclasses import dataclass
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.utils.indexed_list import IndexedList
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.properties import PageSetupProperties

from flask_babel import gettext as _

from tracker.labels import label, labels

DATE_FORMAT = "DD-MM-YYYY"
DATETIME_FORMAT = "DD-MM-YYYY HH:MM"
RISKY_FIRST = frozenset("=+-@\t\r")
# XML 1.0 cannot hold these; openpyxl would raise on them.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
MAX_CELL_CHARS = 32767

# --- Print ------------------------------------------------------------------------------
FONT_NAME = "Arial"  # LibreOffice: Liberation Sans, same metrics; Devanagari from a fallback font
FONT_SIZE = 10
TITLE_SIZE = 14
# The smallest scale a sheet is planned at: 10 pt x 0.92 = 9.2 pt, a margin for the
# estimate of the widths (see PT_PER_UNIT) so the printed text stays >= 9 pt.
MIN_SCALE = 92
# One unit of Excel column width is about 5.55 pt on paper in LibreOffice at 100 %
# (measured: Arial 10 as the workbook's font); 5.6 errs on the wide side.
PT_PER_UNIT = 5.6
# The average width of a character of ordinary text (capitals and spaces included) in Arial
# 10 pt, and the cell's inner padding: measured 5.0 pt for lower-case English, 5.1 with
# capitals; a wrapped line's end wastes some more, which the word-by-word layout counts.
CHAR_PT = 5.2
CELL_PADDING_PT = 5
LINE_PT = 12.75  # the height of one line of 10 pt text (Excel's; LibreOffice needs 11.2)
ROW_PADDING_PT = 3
MAX_ROW_PT = 409  # Excel's limit
MARGIN_INCHES = 0.4  # left and right
A4_PT = (595.3, 841.9)  # portrait width, height
PRINTABLE_PT = {
    "portrait": A4_PT[0] - 2 * 72 * MARGIN_INCHES,
    "landscape": A4_PT[1] - 2 * 72 * MARGIN_INCHES,
}
_DEVANAGARI = re.compile("[\u0900-\u097f]")

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
# Kinds whose cells hold text that may wrap onto more lines when the column is narrow.
TEXT_KINDS = frozenset({"text", "wrap", "state", "health", "severity"})


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = "text"  # text | wrap | date | datetime | number | health | severity | state
    width: int | None = None  # for streamed sheets, whose data cannot be measured first
    min_width: int | None = None  # the narrowest a text column may become to fit the page


def new_workbook():
    wb = Workbook(write_only=True)
    # The workbook's own font (of every unstyled cell, and the unit of the column widths):
    # Arial, which LibreOffice prints with the metric-compatible Liberation Sans, so the
    # widths and scales planned here hold on paper.
    wb._fonts = IndexedList([_font()])
    return wb


def _font(**attrs):
    return Font(name=FONT_NAME, sz=attrs.pop("size", FONT_SIZE), family=2, **attrs)


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
    """Style arrays registered once per workbook, so a styled cell costs one copy. Data cells
    are aligned to the top (a row grows with its longest text) and text wraps."""

    def __init__(self, wb, ws):
        self.ws = ws
        top = Alignment(vertical="top")
        wrap = Alignment(wrap_text=True, vertical="top")
        self.quoted = self._make(ws, quotePrefix=True, alignment=wrap)
        self.date = self._make(ws, number_format=DATE_FORMAT, alignment=top)
        self.datetime = self._make(ws, number_format=DATETIME_FORMAT, alignment=top)
        self.number = self._make(ws, alignment=top)
        self.header = self._make(ws, font=_font(bold=True), fill=_fill("D9D9D9"),
                                 alignment=wrap)
        self.title = self._make(ws, font=_font(bold=True, size=TITLE_SIZE))
        self.bold = self._make(ws, font=_font(bold=True), alignment=wrap)
        self.wrap = self._make(ws, alignment=wrap)
        self.filled = {key: self._make(ws, fill=_fill(colour), alignment=wrap)
                       for key, colour in FILLS.items()}
        self.state = {
            key: self._make(ws, fill=_fill(colour), alignment=wrap,
                            **({} if key == "ok" else {"font": _font(bold=True)}))
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


def csv_text(value):
    """THE neutraliser of a CSV field (the workbook's is ``text_cell``): text that a spreadsheet
    would run as a formula (same first characters) gets a leading apostrophe, the OWASP advice
    for CSV injection; anything else is returned as it is."""
    if isinstance(value, str) and value[:1] in RISKY_FIRST:
        return "'" + value
    return value


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
    return text_cell(ws, styles, words, styles.state.get(state, styles.wrap))


def label_cell(ws, styles, code, kind):
    """Health or severity (``kind`` of ``tracker.labels``): the words, on the colour fill of
    that code."""
    if code is None:
        return None
    style = styles.filled.get(code, styles.wrap)
    return text_cell(ws, styles, label(kind, code), style)


# --- Page set-up and row heights: the one place every sheet is laid out for paper ----------


@dataclass(frozen=True)
class PageLayout:
    """How a sheet prints: ``orientation``, the column ``widths`` (Excel units), the
    ``scale`` in per cent, ``fit`` (fitted to the page width) or, when not even the narrowest
    columns fit at 9 pt, ``continues`` onto further pages to the right."""
    orientation: str
    widths: tuple
    scale: int
    fit: bool
    continues: bool = False

    @property
    def smallest_pt(self):
        return FONT_SIZE * self.scale / 100


def _points(widths):
    return sum(widths) * PT_PER_UNIT


def plan_page(widths, minimum=None) -> PageLayout:
    """The layout of a sheet whose columns would like ``widths`` and can be narrowed (text
    wrapping onto more lines) down to ``minimum``: portrait where they fit (at >= 9 pt),
    else landscape; fitted to the width only while the scale keeps 9 pt; else narrower text
    columns; else landscape pages that continue to the right, at full size."""
    widths = [float(w) for w in widths]
    minimum = [min(float(m), w) for m, w in zip(minimum or widths, widths)]
    for orientation in ("portrait", "landscape"):
        cap = PRINTABLE_PT[orientation]
        total = _points(widths)
        if total * MIN_SCALE / 100 <= cap:
            scale = min(100, math.floor(cap / total * 100))
            return PageLayout(orientation, tuple(widths), scale, fit=True)
    cap = PRINTABLE_PT["landscape"]
    narrowest = _points(minimum)
    if narrowest * MIN_SCALE / 100 <= cap:
        target = max(cap, narrowest) / PT_PER_UNIT
        narrowed = _cap_widest(widths, minimum, target)
        scale = min(100, math.floor(cap / _points(narrowed) * 100))
        return PageLayout("landscape", tuple(round(w, 1) for w in narrowed), scale, fit=True)
    return PageLayout("landscape", tuple(minimum), 100, fit=False, continues=True)


def _cap_widest(widths, minimum, target):
    """The widths with the widest columns narrowed first, all to one cap (never below their
    minimum), so that they add up to ``target``."""
    low, high = 0.0, max(widths)
    for _ in range(40):
        cap = (low + high) / 2
        if sum(max(m, min(w, cap)) for w, m in zip(widths, minimum)) > target:
            high = cap
        else:
            low = cap
    return [max(m, min(w, low)) for w, m in zip(widths, minimum)]


def _header_footer_text(text):
    return str(text).replace("&", "&&")


def apply_page(ws, layout, header_row=None, title=None, generated=None, repeat_cols="A:A"):
    """Set up ``ws`` (write-only or not; before its first row for a write-only sheet, whose
    columns are written first) to print as ``layout`` says: the widths, A4, orientation,
    scale or fit to the page width (pages as many as the rows need), the header row
    repeated on every page and frozen, the title and date in the page header and
    "Page x of y" in the footer."""
    for i, w in enumerate(layout.widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    setup = ws.page_setup
    setup.paperSize = "9"  # A4
    setup.orientation = layout.orientation
    margins = ws.page_margins
    margins.left = margins.right = MARGIN_INCHES
    margins.top = margins.bottom = 0.7
    margins.header = margins.footer = 0.3
    if layout.fit:
        setup.fitToWidth = 1
        setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    else:
        setup.scale = layout.scale
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=False)
    if layout.continues:
        setup.pageOrder = "overThenDown"  # a row's continuation is the next page
        if repeat_cols:
            ws.print_title_cols = repeat_cols
    if header_row:
        ws.freeze_panes = f"A{header_row + 1}"
        ws.print_title_rows = f"{header_row}:{header_row}"
    ws.print_options.gridLines = True
    hf = ws.HeaderFooter
    if title:
        hf.oddHeader.left.text = _header_footer_text(title)
        hf.oddHeader.left.size = FONT_SIZE
        hf.oddHeader.left.font = FONT_NAME
    if generated:
        hf.oddHeader.right.text = _header_footer_text(generated)
        hf.oddHeader.right.size = FONT_SIZE
        hf.oddHeader.right.font = FONT_NAME
    hf.oddFooter.center.text = _("Page %(page)s of %(pages)s", page="&P", pages="&N")
    hf.oddFooter.center.size = FONT_SIZE
    hf.oddFooter.center.font = FONT_NAME


def text_lines(text, width, bold=False):
    """How many lines ``text`` takes in a wrapping column ``width`` units wide: the words
    laid out greedily, as the spreadsheet does (a word longer than a line is split; a line
    may also break after a hyphen or a slash, as in a web address)."""
    per_line = max(1, int((width * PT_PER_UNIT - CELL_PADDING_PT) / CHAR_PT
                          / (1.1 if bold else 1.0)))
    text = str(text)
    if len(text) <= per_line and "\n" not in text:
        return 1
    lines = 0
    for part in text.split("\n"):
        if len(part) <= per_line:
            lines += 1
            continue
        used = 0
        lines += 1
        for word in part.replace("-", "- ").replace("/", "/ ").split():
            n = len(word)
            if used and used + 1 + n <= per_line:
                used += 1 + n
            else:
                if used:
                    lines += 1
                while n > per_line:
                    lines += 1
                    n -= per_line
                used = n
    return lines


def row_height(texts, widths, bold=False, size=FONT_SIZE):
    """The height (points) that shows all of the wrapped ``texts`` (one per column, None
    for a column without text), or None when one line is enough."""
    most, devanagari = 1, False
    for text, width in zip(texts, widths):
        if not text:
            continue
        if not isinstance(text, str):
            text = str(text)
        n = text_lines(text, width, bold)
        if n > most:
            most = n
            devanagari = devanagari or bool(_DEVANAGARI.search(text))
    if most == 1 and size <= FONT_SIZE:
        return None
    line = LINE_PT * size / FONT_SIZE * (1.2 if devanagari else 1.0)
    return min(MAX_ROW_PT, round(most * line + ROW_PADDING_PT, 2))


class _RowHeights(dict):
    """Stands in for a write-only sheet's ``row_dimensions``: openpyxl's writer asks it for
    the attributes of each row as the row is written (``dims.get(row_idx, {})``), and the
    height set for that row is handed over once and forgotten, so memory stays flat."""

    def get(self, key, default=None):
        return self.pop(key, default)


def set_row_height(ws, row, height):
    """Row ``row`` (1-based) ``height`` points tall; on a write-only sheet, call it before
    the row is appended."""
    if height is None:
        return
    if isinstance(ws, WriteOnlyWorksheet):
        if not isinstance(ws.row_dimensions, _RowHeights):
            ws.row_dimensions = _RowHeights()
        ws.row_dimensions[row] = {"ht": f"{height:g}", "customHeight": "1"}
    else:
        ws.row_dimensions[row].height = height


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


def _streamed_numbers(ws, styles):
    cell = Cell(ws, row=1, column=1, style_array=styles.number)

    def convert(value):
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return text_cell(ws, styles, value, styles.wrap)
        cell._value = value
        cell.data_type = "n"
        return cell

    return convert


def _streamed_text(ws, styles, style):
    """Text wrapping in its column; one reused cell for the harmless values, ``text_cell``
    for the rest (a risky first character, characters to clean)."""
    cell = Cell(ws, row=1, column=1, style_array=style)

    def convert(value):
        if value is None:
            return None
        if (not isinstance(value, str) or value[:1] in RISKY_FIRST or "\r" in value
                or len(value) > MAX_CELL_CHARS or _ILLEGAL.search(value)):
            return text_cell(ws, styles, value, style)
        cell._value = value
        cell.data_type = "s"
        return cell

    return convert


def _streamed_labels(ws, styles, kind):
    """The words of a known code on its fill, one reused cell per code (the words are ours:
    nothing to neutralise); anything else through ``label_cell``."""
    cells = {}
    for code, words in labels(kind).items():
        if code in styles.filled and words[:1] not in RISKY_FIRST:
            cell = Cell(ws, row=1, column=1, style_array=styles.filled[code])
            cell._value = words
            cell.data_type = "s"
            cells[code] = cell

    def convert(value):
        cell = cells.get(value)
        return cell if cell is not None else label_cell(ws, styles, value, kind)

    return convert


def _longest_word(text):
    """The longest run a line cannot break (a line may break after a hyphen)."""
    return max((len(w) for w in str(text).replace("-", "- ").split()), default=0)


def _bold_word(text):
    """The width a bold heading's longest word needs (bold letters are wider)."""
    return math.ceil(_longest_word(text) * 1.1) + 1


def _header_width(header):
    """A header wraps: wide enough for its longest word, and for it on at most two lines
    (three for a long one)."""
    return max(_bold_word(header), -(-len(header) // (2 if len(header) <= 24 else 3)) + 1)


_FIXED_WIDTH = {"date": 11, "datetime": 17}


class Table:
    """One sheet: title block, then a frozen, filtered header row, then the rows.

    ``Table(wb, "Sheet", "Title", columns, generated)`` then ``.write(rows)`` where rows is an
    iterable of value tuples in column order (a list lets the widths be measured; a generator
    streams and uses the columns' widths). ``facts`` are extra (label, value) lines printed
    under the title; ``subtitle`` replaces the "Generated on" line (which then goes only
    to the page header)."""

    def __init__(self, wb, sheet_name, title, columns, generated, facts=(), subtitle=None):
        # Words may be lazy (``lazy_gettext``): made text here, in the reader's language.
        self.wb = wb
        self.ws = wb.create_sheet(str(sheet_name)[:31])
        self.columns = [Column(str(c.header), c.kind, c.width, c.min_width) for c in columns]
        self.title = str(title)
        self.generated = generated
        self.subtitle = subtitle
        self.facts = [(str(name), value) for name, value in facts]
        self.styles = Styles(wb, self.ws)
        self.layout = None

    @property
    def header_row(self):
        return 3 + len(self.facts) + 1

    def _converters(self):
        ws, st = self.ws, self.styles
        convert = []
        for col in self.columns:
            if col.kind == "date":
                convert.append(_streamed_dates(ws, st))
            elif col.kind == "datetime":
                convert.append(lambda v: datetime_cell(ws, st, v))
            elif col.kind == "state":
                convert.append(lambda v: state_cell(ws, st, v))
            elif col.kind == "number":
                convert.append(_streamed_numbers(ws, st))
            elif col.kind in ("health", "severity"):
                convert.append(_streamed_labels(ws, st, col.kind))
            else:
                convert.append(_streamed_text(ws, st, st.wrap))
        return convert

    def _widths(self, rows):
        """(wanted, narrowest) width of every column: measured from the rows when they are
        a list, else the columns' own widths."""
        wanted, narrowest = [], []
        for i, col in enumerate(self.columns):
            head = _header_width(col.header)
            if col.kind in _FIXED_WIDTH:
                w = max(_FIXED_WIDTH[col.kind], _bold_word(col.header))
                wanted.append(col.width or w)
                narrowest.append(min(col.width or w, w))
                continue
            if rows is None:
                w = col.width or max(head, 10)
                longest_word = longest = (col.min_width or (7 if col.kind == "number" else w)) - 1
            else:
                longest, longest_word = 0, 0
                for row in rows:
                    v = row[i]
                    if v is None:
                        continue
                    if isinstance(v, tuple):  # a state: (code, words)
                        v = v[1]
                    text = v if isinstance(v, str) else str(v)
                    n = max(len(p) for p in text.split("\n")) if "\n" in text else len(text)
                    if n > longest:
                        longest = n
                    if col.kind in TEXT_KINDS and n > longest_word:
                        longest_word = max(longest_word, _longest_word(text))
                w = col.width or min(max(longest + 1, head, 6), 60)
            if col.kind == "wrap":  # prose: narrowed to no less than 18
                floor = col.min_width or max(_bold_word(col.header), 18)
                narrowest.append(min(w, floor))
            elif col.kind in TEXT_KINDS:  # names, codes, labels: their longest word
                floor = col.min_width or max(_bold_word(col.header),
                                             min(longest_word + 1, 14), 8)
                narrowest.append(min(w, floor))
            else:  # numbers: the header may wrap onto three lines
                floor = col.min_width or max(_bold_word(col.header), longest + 2, 6)
                narrowest.append(min(w, floor))
            wanted.append(w)
        # The first column also holds the bold labels of the title block.
        names = max(_bold_word(name) for name in [_("Generated on"), *(f[0] for f in self.facts)])
        wanted[0], narrowest[0] = max(wanted[0], names), max(narrowest[0], names)
        # ... and the second the facts' values: a date needs its width (not "###").
        if len(wanted) > 1 and any(isinstance(v, (date, datetime)) for _n, v in self.facts):
            day = _FIXED_WIDTH["date"]
            wanted[1], narrowest[1] = max(wanted[1], day), max(narrowest[1], day)
        return wanted, narrowest

    def _head(self, widths):
        ws, st = self.ws, self.styles
        set_row_height(ws, 1, TITLE_SIZE * 1.5)
        ws.append([text_cell(ws, st, self.title, st.title)])
        if self.subtitle is not None:
            ws.append([text_cell(ws, st, self.subtitle)])
        else:
            set_row_height(ws, 2, row_height([_("Generated on")], widths[:1], bold=True))
            ws.append([text_cell(ws, st, _("Generated on"), st.bold),
                       text_cell(ws, st, self.generated)])
        rest = sum(widths[1:]) or widths[0]
        for n, (name, value) in enumerate(self.facts, start=3):
            if isinstance(value, (date, datetime)):
                set_row_height(ws, n, row_height([name], widths[:1], bold=True))
                value = date_cell(ws, st, value)
            else:
                if value is not None and len(widths) > 2:
                    ws.merged_cells.add(f"B{n}:{get_column_letter(len(widths))}{n}")
                set_row_height(ws, n, row_height([name, value], [widths[0], rest], bold=True))
                value = text_cell(ws, st, value, st.wrap)
            ws.append([text_cell(ws, st, name, st.bold), value])
        ws.append([])
        set_row_height(ws, self.header_row, row_height(
            [c.header for c in self.columns], widths, bold=True))
        ws.append([text_cell(ws, st, c.header, st.header) for c in self.columns])

    def write(self, rows):
        measured = rows if isinstance(rows, list) else None
        wanted, narrowest = self._widths(measured)
        self.layout = layout = plan_page(wanted, narrowest)
        apply_page(self.ws, layout, self.header_row, self.title, self.generated)
        widths = layout.widths
        self._head(widths)
        convert = self._converters()
        texts = [i for i, c in enumerate(self.columns) if c.kind in TEXT_KINDS]
        text_widths = [widths[i] for i in texts]
        states = {i for i in texts if self.columns[i].kind == "state"}
        ws = self.ws
        append = ws.append
        streamed = isinstance(ws, WriteOnlyWorksheet)
        n = 0
        row_idx = self.header_row
        for row in rows:
            row_idx += 1
            height = row_height(
                [(row[i][1] if row[i] is not None else None) if i in states else row[i]
                 for i in texts], text_widths)
            if height is not None:
                set_row_height(ws, row_idx, height)
            values = [f(v) for f, v in zip(convert, row)]
            if not streamed:
                # The converters may hand out one reused cell per column (cheap on a streamed
                # sheet, which writes and forgets it); an ordinary sheet keeps the cell it is
                # given, so each row gets copies of its own.
                values = [_own_cell(ws, v) if isinstance(v, Cell) else v for v in values]
            append(values)
            n += 1
        last = self.header_row + max(n, 1)
        ws.auto_filter.ref = (
            f"A{self.header_row}:{get_column_letter(len(self.columns))}{last}"
        )
        return n


def _own_cell(ws, cell):
    """A fresh cell with ``cell``'s value, type and style, for an ordinary worksheet."""
    copy = Cell(ws, row=1, column=1, style_array=StyleArray(cell._style))
    copy._value = cell._value
    copy.data_type = cell.data_type
    return copy


def generated_label(at: datetime) -> str:
    """'29-11-2026 18:05 (+05:30)' for an aware local datetime."""
    offset = at.strftime("%z")
    offset = f"{offset[:3]}:{offset[3:]}" if offset else "UTC"
    return at.strftime("%d-%m-%Y %H:%M") + f" ({offset})"
