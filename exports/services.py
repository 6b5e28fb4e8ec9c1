"""The service register as a workbook, and the same workbook read back for an import.

``services_workbook`` returns the bytes of the export; ``read_services`` parses an uploaded
workbook into typed rows and every error by sheet, row and column, without touching the
database (``tracker.operations.services.plan_import`` checks the rows against it).
"""
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from models.service import DELIVERY_MODES

SHEET = "Services"
SUMMARY_SHEET = "Summary by department"
DATE_FORMAT = "DD-MM-YYYY"
MODE_LABELS = {
    "offline": "Offline",
    "online_standalone": "Online (standalone)",
    "integrated": "Integrated with the portal",
}

# --- Local helpers ----------------------------------------------------------------------
# Uploads are checked by exports/upload_safety.check_xlsx before this module reads them.
# TODO: write these sheets through exports/workbook.Table like the other workbooks.

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")


def put(ws, row, column, value, number_format=None):
    """Write a cell; user text is always text, never a formula (a leading =, +, -, @, tab
    or carriage return is kept as typed and shown as text)."""
    cell = ws.cell(row=row, column=column)
    if isinstance(value, str):
        cell.value = value
        cell.data_type = "s"
        if value.startswith(_FORMULA_START):
            cell.quotePrefix = True
    else:
        cell.value = value
    if isinstance(value, (date, datetime)):
        cell.number_format = number_format or DATE_FORMAT
    elif number_format:
        cell.number_format = number_format
    return cell


def titled_sheet(ws, title, as_of, headers, widths):
    """Title, date, a bold frozen header row with filters; landscape, fit to width.
    Returns the first data row."""
    ws.cell(row=1, column=1, value=title).font = Font(bold=True, size=14)
    ws.cell(row=2, column=1, value=f"As of {as_of.strftime('%d-%m-%Y')}")
    header_row = 4
    for i, (name, width) in enumerate(zip(headers, widths), start=1):
        cell = put(ws, header_row, i, name)
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    return header_row + 1


def finish_sheet(ws, headers, first_data_row, last_row):
    ws.auto_filter.ref = f"A{first_data_row - 1}:{get_column_letter(len(headers))}{max(last_row, first_data_row - 1)}"


def to_bytes(wb) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# --- Export -----------------------------------------------------------------------------

COLUMNS = (
    ("ID", 8),
    ("Department code", 14),
    ("Department", 30),
    ("Service", 40),
    ("PSGA-notified", 12),
    ("Time limit (days)", 12),
    ("Designated officer", 30),
    ("Delivery mode", 22),
    ("Web address", 40),
    ("Target date", 13),
    ("Milestone code", 14),
    ("Version", 9),
)
HEADERS = tuple(name for name, _ in COLUMNS)


def services_workbook(rows, summaries, as_of: date) -> bytes:
    """``rows``: (Service, department code, department name, milestone code) tuples;
    ``summaries``: ``tracker.reports.ServiceSummary`` list."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    first = titled_sheet(ws, "Service register", as_of, HEADERS, [w for _, w in COLUMNS])
    r = first - 1
    for r, (s, code, dept_name, milestone_code) in enumerate(rows, start=first):
        values = (
            s.id, code, dept_name, s.name, "Yes" if s.psga_notified else "No",
            s.time_limit_days, s.designated_officer or "", MODE_LABELS[s.delivery_mode],
            s.url or "", s.target_date, milestone_code or "", s.version,
        )
        for c, value in enumerate(values, start=1):
            put(ws, r, c, value)
    finish_sheet(ws, HEADERS, first, r)

    ws2 = wb.create_sheet(SUMMARY_SHEET)
    headers = ("Department", "Services", "PSGA-notified", "Notified (%)", "Online",
               "Online (%)", "Integrated", "Integrated (%)")
    first = titled_sheet(ws2, "Services by department", as_of, headers,
                         (34, 10, 13, 12, 10, 11, 11, 14))
    r = first - 1
    for r, s in enumerate(summaries, start=first):
        values = (s.department.name, s.total, s.notified, s.notified_share, s.online,
                  s.online_share, s.integrated, s.integrated_share)
        for c, value in enumerate(values, start=1):
            put(ws2, r, c, value)
    finish_sheet(ws2, headers, first, r)
    return to_bytes(wb)


# --- Import -----------------------------------------------------------------------------


@dataclass
class ImportError_:
    sheet: str
    row: int | None
    column: str | None
    message: str


@dataclass
class ImportRow:
    row: int
    service_id: int | None
    department_code: str
    version: int | None
    milestone_code: str
    values: dict = field(default_factory=dict)


_TRUE = {"yes", "y", "true", "1"}
_FALSE = {"no", "n", "false", "0", ""}
_MODES_BY_WORD = {**{m: m for m in DELIVERY_MODES},
                  **{label.lower(): m for m, label in MODE_LABELS.items()},
                  "online": "online_standalone"}
REQUIRED_HEADERS = ("Department code", "Service")


def _text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _int(value):
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise ValueError
    return int(str(value).strip())


def _date(value):
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for fmt in ("%d-%m-%Y", "%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError


def read_services(data: bytes):
    """``(rows, errors)`` from an uploaded service workbook. Pure: no database."""
    errors = []
    try:
        wb = load_workbook(io.BytesIO(data), data_only=False)
    except Exception:  # openpyxl raises many kinds for a damaged file
        return [], [ImportError_(SHEET, None, None, "The workbook could not be read.")]
    if SHEET not in wb.sheetnames:
        return [], [ImportError_(SHEET, None, None, f"The workbook has no sheet named '{SHEET}'.")]
    ws = wb[SHEET]
    header_row, columns = None, {}
    all_rows = list(ws.iter_rows(values_only=False))
    for i, cells in enumerate(all_rows[:10]):
        names = {_text(c.value): c.column for c in cells if c.value is not None}
        if all(h in names for h in REQUIRED_HEADERS):
            header_row, columns = i, {n: col for n, col in names.items() if n in HEADERS}
            break
    if header_row is None:
        wb.close()
        return [], [ImportError_(SHEET, None, None,
                                 "The header row (with 'Department code' and 'Service') is missing.")]
    rows = []
    for cells in all_rows[header_row + 1:]:
        by_col = {c.column: c for c in cells if hasattr(c, "column")}
        if not any(c.value not in (None, "") for c in by_col.values()):
            continue
        row_number = next(iter(by_col.values())).row

        def cell(name):
            col = columns.get(name)
            return by_col.get(col) if col else None

        def value(name):
            c = cell(name)
            return None if c is None else c.value

        def err(name, message):
            errors.append(ImportError_(SHEET, row_number, name, message))

        bad = False
        for name in columns:
            c = cell(name)
            if c is not None and c.data_type == "f":
                err(name, "Formulas are not accepted; type the value.")
                bad = True
        if bad:
            continue
        item = ImportRow(row=row_number, service_id=None, department_code="", version=None,
                         milestone_code=_text(value("Milestone code")))
        try:
            item.service_id = _int(value("ID"))
        except ValueError:
            err("ID", "The ID must be a whole number (leave it empty for a new service).")
        try:
            item.version = _int(value("Version"))
        except ValueError:
            err("Version", "The version must be a whole number, as exported.")
        item.department_code = _text(value("Department code")).lower()
        if not item.department_code:
            err("Department code", "Enter the department code.")
        notified = _text(value("PSGA-notified")).lower()
        if notified in _TRUE:
            item.values["psga_notified"] = True
        elif notified in _FALSE:
            item.values["psga_notified"] = False
        else:
            err("PSGA-notified", "Enter Yes or No.")
        try:
            item.values["time_limit_days"] = _int(value("Time limit (days)"))
        except ValueError:
            err("Time limit (days)", "Enter a whole number of days.")
        mode = _text(value("Delivery mode")).lower() or "offline"
        if mode in _MODES_BY_WORD:
            item.values["delivery_mode"] = _MODES_BY_WORD[mode]
        else:
            err("Delivery mode", "Enter " + ", ".join(MODE_LABELS.values()) + ".")
        try:
            item.values["target_date"] = _date(value("Target date"))
        except ValueError:
            err("Target date", "Enter the date as DD-MM-YYYY.")
        item.values["name"] = _text(value("Service"))
        item.values["designated_officer"] = _text(value("Designated officer"))
        item.values["url"] = _text(value("Web address")) or None
        rows.append(item)
    wb.close()
    if not rows and not errors:
        errors.append(ImportError_(SHEET, None, None, "The sheet has no services."))
    return rows, errors


# Which workbook column each field of ``tracker.operations.services.clean`` comes from.
FIELD_COLUMNS = {
    "name": "Service",
    "psga_notified": "PSGA-notified",
    "time_limit_days": "Time limit (days)",
    "designated_officer": "Designated officer",
    "delivery_mode": "Delivery mode",
    "url": "Web address",
    "target_date": "Target date",
    "milestone": "Milestone code",
}


def safe_filename_part(text):
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-") or "all"
