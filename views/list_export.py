"""The "Excel" and "CSV" links of every list page: ``?format=xlsx`` or ``?format=csv`` on the
list's own address returns every row the filters select (the view builds the query once, for
the page and for the export alike), read from the database in batches."""
from dataclasses import dataclass
from typing import Callable

from flask import request

from tracker.extensions import db
from views.downloads import csv_response, generated_at, xlsx_response

FORMATS = ("xlsx", "csv")


@dataclass(frozen=True)
class ListColumn:
    """A column of an exported list: its heading, kind and width (as
    ``exports.workbook.Column``) and how to get its value from one row of the list's query."""

    header: str
    value: Callable
    kind: str = "text"
    width: int | None = None


def export_format():
    """``"xlsx"`` or ``"csv"`` when the list is asked for as a file, else None."""
    value = request.args.get("format")
    return value if value in FORMATS else None


def _rows(query):
    """A query's rows in batches; a list a view has already read, as it is."""
    if hasattr(query, "execution_options"):
        return db.session.execute(query.execution_options(yield_per=1000))
    return query


def export_list(fmt, name, title, description, columns, query):
    """The response with every row of ``query`` (ordered as the page orders it)."""
    from exports.lists import list_csv, list_workbook  # openpyxl only when a file is asked for
    from exports.workbook import generated_label

    now = generated_at()
    filename = f"{name}-{now:%d-%m-%Y}.{fmt}"
    if fmt == "csv":
        return csv_response(list_csv(columns, _rows(query)), filename)
    data = list_workbook(title[:31], description, columns, _rows(query), generated_label(now))
    return xlsx_response(data, filename)
