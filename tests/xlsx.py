"""Helpers to read workbooks back in tests."""
import io
import re
import zipfile

from openpyxl import load_workbook


def read(data):
    return load_workbook(io.BytesIO(data))


def sheet_xml(data):
    """{part name: xml text} of every worksheet of the workbook."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n).decode("utf-8") for n in z.namelist()
                if n.startswith("xl/worksheets/") and n.endswith(".xml")}


def formulas(data):
    """Every <f> element in any sheet: there must be none."""
    found = []
    for name, xml in sheet_xml(data).items():
        found += [(name, m) for m in re.findall(r"<f[ >].*?</f>|<f/>", xml)]
    return found


def rows(ws):
    return [tuple(r) for r in ws.iter_rows(values_only=True)]


def table(ws):
    """(header, data rows) of a sheet written by exports.workbook.Table: the header is the row
    that is frozen (the row above the freeze line)."""
    header_row = int(re.sub(r"\D", "", ws.freeze_panes)) - 1
    all_rows = rows(ws)
    header = all_rows[header_row - 1]
    data = [r for r in all_rows[header_row:] if any(v is not None for v in r)]
    return header, [dict(zip(header, r)) for r in data]
