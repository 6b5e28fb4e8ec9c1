"""The numbers of a dashboard chart as CSV or as an Excel workbook.

Pure functions from a ``views.charts.Table`` to bytes. Text that a spreadsheet would run
as a formula is neutralised by ``exports.workbook`` (``csv_text`` in the CSV, ``text_cell`` in
the workbook), as in every other export.
"""
import csv
import io
from datetime import date, datetime

from flask_babel import gettext as _

from exports.workbook import Column, Table, csv_text, new_workbook, to_bytes


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
    writer.writerow([csv_text(str(h)) for h in table.headers])
    for row in table.rows:
        writer.writerow([csv_text(_csv_value(cell)) for cell in row])
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
        return _("Yes") if value else _("No")
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, date):
        return value
    return str(cell.shown)


def _text(value):
    return "" if value is None else str(value)
