"""The numbers of a dashboard chart as CSV or as an Excel workbook.

Pure functions from a ``tracker.charts.Table`` to bytes. Text that a spreadsheet would run
as a formula (starting with =, +, -, @, a tab or a carriage return) is neutralised here, in
one place: in the CSV with a leading apostrophe, in the workbook by storing it as text.
"""
import csv
import io
from datetime import date, datetime

from exports.workbook import Column, Table, new_workbook, to_bytes

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
    """The table as a one-sheet workbook (``exports.workbook.Table``): title, subtitle,
    frozen header row, filters, widths, dates as dates, numbers as numbers, every text cell
    stored as text, and the print layout of every workbook."""
    columns = [Column(str(h), _kind(table, i)) for i, h in enumerate(table.headers)]
    wb = new_workbook()
    Table(wb, "Data", _text(title), columns, None, subtitle=_text(subtitle)).write(
        [tuple(_xlsx_value(cell) for cell in row) for row in table.rows])
    return to_bytes(wb)


def _kind(table, i):
    """number or date when every value of the column is one, else text."""
    values = [row[i].value for row in table.rows if row[i].value is not None]
    if values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return "number"
    if values and all(isinstance(v, date) for v in values):
        return "date"
    return "text"


def _xlsx_value(cell):
    value = cell.value
    if value is None:
        return None
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, date):
        return value
    return str(cell.shown)


def _text(value):
    return "" if value is None else str(value)
