"""Export this list: exactly what a list page shows with its filters, every row, not just the
page, as an Excel workbook or a CSV file.

``columns`` are ``views.list_export.ListColumn`` (heading, kind, width, value of a row).
``list_workbook`` writes one streamed sheet through ``exports.workbook.Table`` (the same printed
look, date formats and formula-safe text as every other workbook); ``list_csv`` yields the CSV
text chunk by chunk, with a byte-order mark so Excel reads Hindi and other non-Latin text, dates
as DD-MM-YYYY, and every text that a spreadsheet would take for a formula prefixed with an
apostrophe (the OWASP advice for CSV injection).
"""
import csv
import io
from datetime import date, datetime

from flask_babel import gettext as _

from exports.workbook import Column, Table, csv_text, new_workbook, to_bytes
from tracker.labels import remembered


def list_workbook(title, description, columns, rows, generated) -> bytes:
    wb = new_workbook()
    facts = [(_("Showing"), description)] if description else []
    table = Table(wb, title, title, [Column(c.header, c.kind, c.width) for c in columns],
                  generated, facts=facts)
    with remembered():
        table.write(tuple(c.value(row) for c in columns) for row in rows)
    return to_bytes(wb)


def _csv_value(value, kind):
    if value is None:
        return ""
    if isinstance(value, tuple):  # a compliance state: (state, words)
        value = value[1]
    if isinstance(value, datetime):
        return value.strftime("%d-%m-%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d-%m-%Y")
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, (int, float)):
        return value
    return csv_text(str(value))


def list_csv(columns, rows, batch=500):
    """The CSV text in chunks of ``batch`` rows, starting with the byte-order mark."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([csv_text(str(c.header)) for c in columns])
    yield "\ufeff" + out.getvalue()
    out.seek(0)
    out.truncate()
    n = 0
    with remembered():
        for row in rows:
            writer.writerow([_csv_value(c.value(row), c.kind) for c in columns])
            n += 1
            if n % batch == 0:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
    if out.tell():
        yield out.getvalue()
