"""The service register as a workbook, and the same workbook read back for an import.

``services_workbook`` returns the bytes of the export; ``read_services`` parses an uploaded
workbook into typed rows and every error by sheet, row and column, without touching the
database (``tracker.operations.services.check_import`` checks the rows against it). The
import's messages are in the reader's language; the workbook itself stays in English, the
words the import reads back.
"""
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import gettext as _

from exports.sheet_reader import Bounds, read_sheet
from exports.upload_safety import UploadRefused
from tracker.text import hidden_character_message
from exports.workbook import Column, Table, generated_label, new_workbook, to_bytes
from models.service import DELIVERY_MODES
from tracker.labels import LABELS
from tracker.operations.services import SHEET, ImportError_

SUMMARY_SHEET = "Summary by department"
# The register is read back by the import, so its words stay English (the catalogue's source
# words of ``tracker.labels``), whatever the reader's language.
MODE_WORDS = LABELS["delivery_mode"]

# --- Export -----------------------------------------------------------------------------

COLUMNS = (
    Column("ID", "number", 8),
    Column("Department code", width=14, min_width=11),
    Column("Department", width=30, min_width=12),
    Column("Service", "wrap", width=40, min_width=20),
    Column("PSGA-notified", width=12, min_width=10),
    Column("Time limit (days)", "number", 12),
    Column("Designated officer", width=30, min_width=12),
    Column("Delivery mode", width=22, min_width=12),
    Column("Web address", width=40, min_width=16),
    Column("Target date", "date", 13),
    Column("Milestone code", width=15, min_width=15),
    Column("Version", "number", 9),
)
HEADERS = tuple(c.header for c in COLUMNS)
SUMMARY_COLUMNS = (
    Column("Department", width=34, min_width=18),
    Column("Services", "number", 10),
    Column("PSGA-notified", "number", 13),
    Column("Notified (%)", "number", 12),
    Column("Online", "number", 10),
    Column("Online (%)", "number", 11),
    Column("Integrated", "number", 11),
    Column("Integrated (%)", "number", 14),
)


def services_workbook(rows, summaries, generated_at: datetime) -> bytes:
    """``rows``: (Service, department code, department name, milestone code) tuples;
    ``summaries``: ``tracker.queries.summaries.ServiceSummary`` list; ``generated_at`` aware local."""
    wb = new_workbook()
    generated = generated_label(generated_at)
    Table(wb, SHEET, "Service register", COLUMNS, generated).write(
        (s.id, code, dept_name, s.name, "Yes" if s.psga_notified else "No",
         s.time_limit_days, s.designated_officer or None, MODE_WORDS[s.delivery_mode],
         s.url, s.target_date, milestone_code or None, s.version)
        for s, code, dept_name, milestone_code in rows
    )
    Table(wb, SUMMARY_SHEET, "Services by department", SUMMARY_COLUMNS, generated).write(
        (s.department.name, s.total, s.notified, s.notified_share, s.online,
         s.online_share, s.integrated, s.integrated_share)
        for s in summaries
    )
    return to_bytes(wb)


# --- Import -----------------------------------------------------------------------------


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
                  **{words.lower(): m for m, words in MODE_WORDS.items()},
                  "online": "online_standalone"}
REQUIRED_HEADERS = ("Department code", "Service")
MAX_ROWS = 5000
BOUNDS = Bounds(max_rows=MAX_ROWS, header_rows=10)


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


def _find_header(values):
    names = {_text(v): i for i, v in enumerate(values) if v is not None}
    if all(h in names for h in REQUIRED_HEADERS):
        return {n: i for n, i in names.items() if n in HEADERS}
    return None


def read_services(data: bytes):
    """``(rows, errors)`` from an uploaded service workbook. Pure: no database. The upload
    has passed ``exports.upload_safety.check_xlsx`` before it is read here."""
    errors = []
    try:
        sheet = read_sheet(data, (SHEET,), _find_header, BOUNDS)
    except UploadRefused as exc:
        return [], [ImportError_(SHEET, None, None, str(exc))]
    except Exception:  # noqa: BLE001  openpyxl raises many kinds for a damaged file
        return [], [ImportError_(SHEET, None, None, _("The workbook could not be read."))]
    if sheet is None:
        return [], [ImportError_(SHEET, None, None, _("The workbook has no sheet named '%(sheet)s'.", sheet=SHEET))]
    if sheet.header_row is None:
        return [], [ImportError_(SHEET, None, None,
                                 _("The header row (with 'Department code' and 'Service') "
                                   "is missing."))]
    rows = []
    for row_number, cells in sheet.rows:

        def value(name):
            c = cells.get(name)
            return None if c is None else c.value

        def err(name, message):
            errors.append(ImportError_(SHEET, row_number, name, message))

        bad = False
        for name, c in cells.items():
            if c.formula:
                err(name, _("Formulas are not accepted; type the value."))
                bad = True
        if bad:
            continue
        item = ImportRow(row=row_number, service_id=None, department_code="", version=None,
                         milestone_code=_text(value("Milestone code")))
        try:
            item.service_id = _int(value("ID"))
        except ValueError:
            err("ID", _("The ID must be a whole number (leave it empty for a new service)."))
        try:
            item.version = _int(value("Version"))
        except ValueError:
            err("Version", _("The version must be a whole number, as exported."))
        item.department_code = _text(value("Department code")).lower()
        if not item.department_code:
            err("Department code", _("Enter the department code."))
        notified = _text(value("PSGA-notified")).lower()
        if notified in _TRUE:
            item.values["psga_notified"] = True
        elif notified in _FALSE:
            item.values["psga_notified"] = False
        else:
            err("PSGA-notified", _("Enter Yes or No."))
        try:
            item.values["time_limit_days"] = _int(value("Time limit (days)"))
        except ValueError:
            err("Time limit (days)", _("Enter a whole number of days."))
        mode = _text(value("Delivery mode")).lower() or "offline"
        if mode in _MODES_BY_WORD:
            item.values["delivery_mode"] = _MODES_BY_WORD[mode]
        else:
            err("Delivery mode", _("Enter %(choices)s.", choices=", ".join(MODE_WORDS.values())))
        try:
            item.values["target_date"] = _date(value("Target date"))
        except ValueError:
            err("Target date", _("Enter the date as DD-MM-YYYY."))
        for name in ("Service", "Designated officer", "Web address", "Milestone code",
                     "Department code"):
            hidden = hidden_character_message(_text(value(name)))
            if hidden:
                err(name, hidden)
        item.values["name"] = _text(value("Service"))
        item.values["designated_officer"] = _text(value("Designated officer"))
        item.values["url"] = _text(value("Web address")) or None
        rows.append(item)
    if not rows and not errors:
        errors.append(ImportError_(SHEET, None, None, _("The sheet has no services.")))
    return rows, errors




def safe_filename_part(text):
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-") or "all"
