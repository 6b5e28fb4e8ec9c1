"""One bounded reader for every uploaded workbook (action plans, services).

An upload is read in openpyxl's read-only mode, over the rows the sheet's XML actually holds
(never the empty rows and columns up to the sheet's far corner), with:

- the sheet's declared dimension checked first: a sheet that says it reaches past the row bound
  is refused at once, unread;
- columns bounded by the heading row: a stray value in column XFD costs one XML element, not a
  row of 16,384 cells;
- rows bounded: at most ``max_rows`` rows with data after the heading, and at most
  ``max_rows + max_blank_rows`` row elements in all (formatted but empty rows count there);
- a time budget for the whole read.

A file past a bound raises ``UploadRefused`` with a message the user can act on. Formula cells
keep their saved value and say they are formulas, so a caller can refuse formulas or report
a formula without a saved value in its own words.

The caller must have passed the bytes through ``exports.upload_safety.check_xlsx`` first.
"""
import io
import time
import warnings
from dataclasses import dataclass, field

from flask_babel import gettext as _
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._reader import FORMULA_TAG, WorkSheetParser

from exports.upload_safety import UploadRefused


@dataclass(frozen=True)
class Bounds:
    max_rows: int  # rows with data after the heading row
    header_rows: int = 20  # the heading row is looked for in the first rows …
    max_columns: int = 60  # … and the first columns
    max_blank_rows: int = 2000  # formatted but empty rows tolerated beside the data
    max_seconds: float = 5.0


@dataclass(frozen=True)
class Cell:
    value: object
    formula: bool = False

    @property
    def formula_without_value(self):
        return self.formula and self.value in (None, "")


@dataclass
class Sheet:
    name: str
    header_row: int | None = None
    columns: dict = field(default_factory=dict)  # heading → 1-based column number
    rows: list = field(default_factory=list)  # (row number, {heading: Cell}) with data


class _Parser(WorkSheetParser):
    """openpyxl's own sheet parser, reading saved values and noting which cells hold formulas."""

    def parse_cell(self, element):
        cell = super().parse_cell(element)
        cell["formula"] = element.find(FORMULA_TAG) is not None
        return cell


def _blank(value):
    return value is None or (isinstance(value, str) and not value.strip())


def read_sheet(data: bytes, sheet_names, find_header, bounds: Bounds) -> Sheet | None:
    """Read the first sheet of ``sheet_names`` present in the workbook (None when none is).

    ``find_header(values)`` gets the values of one of the first rows (a tuple, column 1 first)
    and returns ``{heading: column index from 0}`` when that row is the heading row, else None.
    """
    started = time.monotonic()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl's notes on odd files: not the user's concern
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        name = next((s for s in sheet_names if s in wb.sheetnames), None)
        if name is None:
            return None
        ws = wb[name]
        sheet = Sheet(name)
        limit = bounds.header_rows + bounds.max_rows + bounds.max_blank_rows
        declared = ws.max_row  # from the sheet's <dimension>, when it has one
        if declared is not None and declared > limit:
            raise UploadRefused(_(
                "The sheet '%(sheet)s' reaches row %(row)s; at most %(limit)s rows are read. "
                "Delete everything below your data (a stray value far down the sheet?) and "
                "upload again.", sheet=name, row=f"{declared:,}", limit=f"{limit:,}"))
        with warnings.catch_warnings(), ws._get_source() as source:
            warnings.simplefilter("ignore")
            parser = _Parser(source, ws._shared_strings, data_only=True, epoch=wb.epoch,
                             date_formats=wb._date_formats,
                             timedelta_formats=wb._timedelta_formats)
            _read_rows(parser, sheet, find_header, bounds, limit, started)
        return sheet
    finally:
        wb.close()


def _read_rows(parser, sheet, find_header, bounds, limit, started):
    elements = 0
    for number, cells in parser.parse():
        elements += 1
        if elements % 256 == 0 and time.monotonic() - started > bounds.max_seconds:
            raise UploadRefused(_(
                "The sheet '%(sheet)s' took longer than %(seconds)s seconds to read and was "
                "refused. Copy only your data into a new workbook and upload it again.",
                sheet=sheet.name, seconds=f"{bounds.max_seconds:g}"))
        if elements > limit:
            raise UploadRefused(_(
                "The sheet '%(sheet)s' has more than %(limit)s rows; at most %(limit)s are "
                "read. Delete the empty or extra rows below your data and upload again.",
                sheet=sheet.name, limit=f"{limit:,}"))
        if sheet.header_row is None:
            if number > bounds.header_rows:
                return  # no heading row: the caller says so
            values = [None] * bounds.max_columns
            for c in cells:
                if c["column"] <= bounds.max_columns:
                    values[c["column"] - 1] = c["value"]
            found = find_header(tuple(values))
            if found:
                sheet.header_row = number
                sheet.columns = {h: i + 1 for h, i in found.items()}
                by_column = {i: h for h, i in sheet.columns.items()}
            continue
        row = {by_column[c["column"]]: Cell(c["value"], c["formula"])
               for c in cells if c["column"] in by_column}
        if all(_blank(cell.value) and not cell.formula for cell in row.values()):
            continue
        if len(sheet.rows) >= bounds.max_rows:
            raise UploadRefused(_(
                "The sheet '%(sheet)s' has more than %(num)s rows of data (row %(row)s is "
                "one too many); split it into several uploads.",
                sheet=sheet.name, num=f"{bounds.max_rows:,}", row=f"{number:,}"))
        sheet.rows.append((number, row))


def column_name(sheet: Sheet, heading: str) -> str:
    """``"D (Title)"``: a heading's column letter and name, as problems name a column."""
    return f"{get_column_letter(sheet.columns[heading])} ({heading})"
