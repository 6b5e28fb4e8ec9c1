"""The numbers of a dashboard chart as CSV or as an Excel workbook.

Pure functions from a ``tracker.charts.Table`` to bytes. Text that a spreadsheet would run
as a formula (starting with =, +, -, @, a tab or a carriage return) is neutralised here, in
one place: in the CSV with a leading apostrophe, in the workbook by storing it as text.
"""
import csv
import io
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """A text cell safe from formula injection: a leading apostrophe when it could run."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _plain(value):
    if value is None:
        return ""
    if isinstance(value, (date, datetime)):
        return value.strftime("%d-%m-%Y")
    return value


def table_csv(table) -> bytes:
    """The table as UTF-8 CSV (with a byte-order mark, so Excel reads it as UTF-8)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(str(h)) for h in table.headers])
    for row in table.rows:
        writer.writerow([neutralise(_csv_value(cell)) for cell in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _csv_value(cell):
    value = cell.value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if value is None or isinstance(value, (date, datetime)):
        return str(_plain(value))
    return str(cell.shown)


def table_xlsx(table, title, subtitle="") -> bytes:
    """The table as a one-sheet workbook: title, subtitle, frozen header row, filters,
    widths, dates as dates, numbers as numbers and every text cell stored as text."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Data"
    _set_text(ws["A1"], _text(title))
    ws["A1"].font = Font(bold=True, size=14)
    _set_text(ws["A2"], _text(subtitle))
    header_row = 4
    fill = PatternFill("solid", fgColor="DCE4F0")
    for col, header in enumerate(table.headers, start=1):
        cell = ws.cell(row=header_row, column=col)
        _set_text(cell, str(header))
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for r, row in enumerate(table.rows, start=header_row + 1):
        for col, source in enumerate(row, start=1):
            cell = ws.cell(row=r, column=col)
            value = source.value
            if value is None:
                continue
            if isinstance(value, bool):
                _set_text(cell, "Yes" if value else "No")
            elif isinstance(value, (int, float)):
                cell.value = value
            elif isinstance(value, (date, datetime)):
                cell.value = value
                cell.number_format = "DD-MM-YYYY"
            else:
                _set_text(cell, str(source.shown))
    last_row = header_row + max(len(table.rows), 1)
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    ws.auto_filter.ref = f"A{header_row}:{get_column_letter(len(table.headers))}{last_row}"
    for col, header in enumerate(table.headers, start=1):
        longest = max([len(str(header))] + [len(str(row[col - 1].shown)) for row in table.rows])
        ws.column_dimensions[get_column_letter(col)].width = min(60, max(10, longest + 2))
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{header_row}:{header_row}"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _text(value):
    return "" if value is None else str(value)


def _set_text(cell, value):
    """Store ``value`` as a text cell even when it starts with '=' (openpyxl would
    otherwise write a formula)."""
    cell.value = value
    cell.data_type = "s"
