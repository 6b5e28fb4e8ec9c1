"""Reading an action-plan workbook (the template, or a roadmap export) and checking it whole.

``read_plan(data, departments)`` returns ``(rows, errors)``: the milestones found, each a
``PlanRow``, and every problem as an ``ImportProblem`` (sheet, row, column, message). Nothing
here touches the database; ``tracker.operations.imports`` previews and applies the rows.
The caller must have passed the bytes through ``exports.upload_safety.check_xlsx`` first.
"""
import logging
import re
import warnings
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import gettext as _

from exports.sheet_reader import Bounds, column_name, read_sheet
from exports.upload_safety import UploadRefused
from tracker.labels import LABELS
from tracker.operations.imports import ImportProblem
from tracker.text import hidden_character_message

log = logging.getLogger(__name__)

SHEETS = ("Milestones", "Roadmap")
REQUIRED = ("Department code", "Milestone code", "Title", "Category", "Due date", "Status")
OPTIONAL = ("Description", "Owner", "Start date", "% complete", "Completed on", "Depends on")
MAX_ROWS = 10000
HEADER_SEARCH_ROWS = 20
LIMITS = {"Milestone code": 40, "Title": 300, "Owner": 200, "Description": 5000}
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")
_DEPENDS_ON = re.compile(r"^(?:[A-Za-z0-9][A-Za-z0-9_-]*:)?[A-Za-z0-9][A-Za-z0-9._/-]*$")


@dataclass
class PlanRow:
    row: int
    department_code: str
    code: str
    title: str
    category: str
    due_date: date
    status: str
    description: str = ""
    owner: str = ""
    start_date: date | None = None
    percent_complete: int = 0
    completed_on: date | None = None
    fields: dict = field(default_factory=dict)
    # The codes of the milestones it waits for ("HLTH-01, PWD:NET-03"); None when the sheet
    # has no "Depends on" column (its dependencies are then left as they are).
    depends_on: list | None = None
    depends_on_cell: tuple = ("", "")  # (sheet, column) of "Depends on", to name in errors

    def values(self):
        return {
            "title": self.title, "description": self.description, "category": self.category,
            "owner": self.owner, "start_date": self.start_date, "due_date": self.due_date,
            "status": self.status, "percent_complete": self.percent_complete,
            "completed_on": self.completed_on,
        }


def _key(text):
    return re.sub(r"[\s_]+", " ", str(text).strip().lower())


_CATEGORIES = {**{_key(v): k for k, v in LABELS["milestone_category"].items()},
               **{_key(k): k for k in LABELS["milestone_category"]}}
_STATUSES = {**{_key(v): k for k, v in LABELS["milestone_status"].items()},
             **{_key(k): k for k in LABELS["milestone_status"]}}
_HEADERS = {_key(h): h for h in REQUIRED + OPTIONAL}


def _text(v):
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()


def _date(v):
    """A date from a date cell or DD-MM-YYYY / YYYY-MM-DD text; raises ValueError."""
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    if isinstance(v, str):
        s = v.strip()
        for fmt in ("%d-%m-%Y", "%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y"):
            try:
                return datetime.strptime(s, fmt).date()
            except ValueError:
                pass
    raise ValueError(_("is not a date: enter a date as DD-MM-YYYY"))


def read_plan(data: bytes, departments):
    """``departments``: the active department codes (a set). Returns (rows, problems)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl's notes on odd files: not the user's concern
            return _read(data, departments)
    except UploadRefused:
        raise
    except Exception as exc:  # noqa: BLE001  a damaged file is refused, never a crash
        log.info("unreadable workbook refused: %r", exc)
        raise UploadRefused(_("The workbook could not be read: it is damaged or not an Excel "
                              "workbook saved by a spreadsheet program.")) from None


BOUNDS = Bounds(max_rows=MAX_ROWS, header_rows=HEADER_SEARCH_ROWS)


def _find_header(values):
    found = {_HEADERS[_key(v)]: i for i, v in enumerate(values)
             if isinstance(v, str) and _key(v) in _HEADERS}
    return found if "Milestone code" in found else None


def _read(data, departments):
    sheet = read_sheet(data, SHEETS, _find_header, BOUNDS)
    if sheet is None:
        return [], [ImportProblem("-", None, None, _("No sheet named Milestones: use the template."))]
    return _read_sheet(sheet, departments)


def _read_sheet(sheet, departments):
    problems = []
    name, header_row, columns = sheet.name, sheet.header_row, sheet.columns
    if header_row is None:
        return [], [ImportProblem(name, None, None,
                                  _("The heading row (with 'Milestone code') was not found."))]
    for h in REQUIRED:
        if h not in columns:
            problems.append(ImportProblem(name, header_row, None, _("The column '%(column)s' is missing.", column=h)))
    if problems:
        return [], problems

    def col(h):
        return column_name(sheet, h)

    result, seen = [], {}
    for n, cells in sheet.rows:
        row_problems = []

        def bad(h, message):
            row_problems.append(ImportProblem(name, n, col(h), message))

        for h, c in cells.items():
            if c.formula_without_value:
                bad(h, _("is a formula without a saved value: type the value, or open the "
                         "workbook in a spreadsheet program and save it again"))
        if row_problems:
            problems.extend(row_problems)
            continue
        cell = dict.fromkeys(columns)  # an empty cell is not in the sheet's XML at all
        cell.update((h, c.value) for h, c in cells.items())

        texts = {}
        for h in ("Department code", "Milestone code", "Title", "Description", "Owner",
                  "Category", "Status"):
            if h in cell:
                texts[h] = _text(cell[h])
                hidden = hidden_character_message(texts[h], multiline=h == "Description")
                if hidden:
                    bad(h, hidden)
                elif h in REQUIRED and not texts[h]:
                    bad(h, _("is required"))
                elif h in LIMITS and len(texts[h]) > LIMITS[h]:
                    bad(h, _("is longer than %(num)d characters", num=LIMITS[h]))
        dept = texts.get("Department code", "").lower()
        if dept and dept not in departments:
            bad("Department code", _("'%(value)s' is not a known department code",
                                     value=texts["Department code"]))
        code = texts.get("Milestone code", "")
        if code and len(code) <= LIMITS["Milestone code"] and not _CODE.match(code):
            bad("Milestone code", _("may hold only letters, digits and . _ / -"))
        category = _CATEGORIES.get(_key(texts["Category"])) if texts.get("Category") else None
        if texts.get("Category") and category is None:
            bad("Category", _("'%(value)s' is not a category: choose from the list",
                              value=texts["Category"]))
        status = _STATUSES.get(_key(texts["Status"])) if texts.get("Status") else None
        if texts.get("Status") and status is None:
            bad("Status", _("'%(value)s' is not a status: choose from the list",
                            value=texts["Status"]))
        dates = {}
        for h in ("Start date", "Due date", "Completed on"):
            v = cell.get(h)
            if v in (None, ""):
                if h == "Due date":
                    bad(h, _("is required"))
                dates[h] = None
                continue
            try:
                dates[h] = _date(v)
            except ValueError as exc:
                bad(h, str(exc))
                dates[h] = None
        if dates.get("Start date") and dates.get("Due date") and dates["Due date"] < dates["Start date"]:
            bad("Due date", _("is before the start date"))
        percent = 0
        raw = cell.get("% complete")
        if raw not in (None, ""):
            try:
                f = float(raw) if not isinstance(raw, bool) else None
                if f is None or not f.is_integer() or not 0 <= f <= 100:
                    raise ValueError
                percent = int(f)
            except (TypeError, ValueError):
                bad("% complete", _("must be a whole number from 0 to 100"))
        elif status == "completed":
            percent = 100
        if status == "completed":
            if percent != 100:
                bad("% complete", _("must be 100 for a completed milestone"))
            if cell.get("Completed on") in (None, ""):
                if "Completed on" in columns:
                    bad("Completed on", _("is required for a completed milestone"))
                else:
                    bad("Status", _("a completed milestone needs a 'Completed on' column and date"))
        elif dates.get("Completed on") is not None:
            bad("Completed on", _("is only for a completed milestone"))
        depends_on = None
        if "Depends on" in columns:
            raw_deps = _text(cell.get("Depends on"))
            hidden = hidden_character_message(raw_deps)
            # An empty cell leaves the milestone's dependencies as they are.
            depends_on = [c.strip() for c in re.split(r"[,;]", raw_deps) if c.strip()] or None
            if hidden:
                bad("Depends on", hidden)
            for c in depends_on or ():
                if not _DEPENDS_ON.match(c) or len(c) > LIMITS["Milestone code"] + 21:
                    bad("Depends on", _("'%(value)s' is not a milestone code (write codes "
                                        "separated by commas, a department code and a colon "
                                        "before a code of another department)", value=c))
                    break
        if dept and code:
            first = seen.get((dept, code.upper()))
            if first is not None:
                bad("Milestone code", _("'%(value)s' is already used for this department in row %(row)d",
                                        value=code, row=first))
            else:
                seen[(dept, code.upper())] = n
        if row_problems:
            problems.extend(row_problems)
            continue
        result.append(PlanRow(
            row=n, department_code=dept, code=code, title=texts["Title"],
            category=category, due_date=dates["Due date"], status=status,
            description=texts.get("Description", ""), owner=texts.get("Owner", ""),
            start_date=dates.get("Start date"), percent_complete=percent,
            completed_on=dates.get("Completed on"), depends_on=depends_on,
            depends_on_cell=(name, col("Depends on") if "Depends on" in columns else ""),
        ))
    if not result and not problems:
        problems.append(ImportProblem(name, None, None, _("The sheet has no milestones.")))
    return result, problems
