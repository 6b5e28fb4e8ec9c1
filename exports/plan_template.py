"""The action-plan template that NIC fills and imports back: an instructions sheet, the
Milestones sheet with drop-downs for category and status, and the department codes."""
from openpyxl.worksheet.datavalidation import DataValidation

from exports.workbook import (TITLE_SIZE, Column, Styles, Table, apply_page, generated_label,
                              new_workbook, plan_page, row_height, set_row_height, text_cell,
                              to_bytes)
from tracker.labels import LABELS

COLUMNS = [
    Column("Department code", width=16, min_width=16),
    Column("Milestone code", width=16, min_width=16),
    Column("Title", width=50, min_width=50),
    Column("Description", width=50, min_width=50),
    Column("Category", width=22, min_width=22),
    Column("Owner", width=24, min_width=24),
    Column("Start date", "date", width=12, min_width=12),
    Column("Due date", "date", width=12, min_width=12),
    Column("Status", width=14, min_width=14),
    Column("% complete", "number", width=11, min_width=11),
    Column("Completed on", "date", width=13, min_width=13),
    Column("Depends on", width=20, min_width=20),
]
TEMPLATE_ROWS = 1000
INSTRUCTIONS_WIDTH = 90  # fits a portrait page at full size

INSTRUCTIONS = [
    "Fill one row of the Milestones sheet for each milestone of the action plan.",
    "Required: Department code, Milestone code, Title, Category, Due date and Status.",
    "Department code: one of the codes on the Departments sheet.",
    "Milestone code: unique within the department, e.g. HLTH-01. A code that already exists "
    "updates that milestone; a new code creates one.",
    "Category and Status: choose from the drop-down lists.",
    "Dates: enter real dates (DD-MM-YYYY). The due date may not be before the start date.",
    "% complete: a whole number from 0 to 100. A completed milestone is 100 and needs the "
    "Completed on date.",
    "Depends on: the codes of the milestones this one waits for, separated by commas "
    "(e.g. HLTH-01, HLTH-02); for another department's milestone write its department code "
    "and a colon first (PWD:NET-03). Milestones may not wait for each other in a circle. "
    "Left empty, a milestone's dependencies stay as they are.",
    "Do not rename the column headings. Save as an Excel Workbook (.xlsx), not a macro "
    "workbook, and upload it on the Import page: you will see a preview of what will be "
    "created or changed before anything is saved.",
]


def plan_template_workbook(departments, generated_at) -> bytes:
    """``departments``: (code, name) pairs of the active departments."""
    generated = generated_label(generated_at)
    wb = new_workbook()

    ws = wb.create_sheet("Instructions")
    st = Styles(wb, ws)
    title = "Action plan template: instructions"
    layout = plan_page([INSTRUCTIONS_WIDTH])
    apply_page(ws, layout, title=title, generated=generated)
    set_row_height(ws, 1, row_height([title], layout.widths, size=TITLE_SIZE))
    ws.append([text_cell(ws, st, title, st.title)])
    ws.append([text_cell(ws, st, f"Generated on {generated}")])
    ws.append([])
    for n, line in enumerate(INSTRUCTIONS, start=1):
        text = f"{n}. {line}"
        set_row_height(ws, 3 + n, row_height([text], layout.widths))
        ws.append([text_cell(ws, st, text, st.wrap)])

    sheet = Table(wb, "Milestones", "Action plan milestones", COLUMNS, generated)
    first = sheet.header_row + 1
    last = sheet.header_row + TEMPLATE_ROWS
    lists = len(LABELS["milestone_category"]), len(LABELS["milestone_status"]), len(departments)
    validations = [
        ("A", f"Departments!$A$5:$A${4 + max(lists[2], 1)}", "Department code",
         "Choose a department code from the Departments sheet."),
        ("E", f"Lists!$A$5:$A${4 + lists[0]}", "Category", "Choose a category from the list."),
        ("I", f"Lists!$B$5:$B${4 + lists[1]}", "Status", "Choose a status from the list."),
    ]
    for col, ref, title, message in validations:
        dv = DataValidation(type="list", formula1=f"={ref}", allow_blank=True,
                            showErrorMessage=True, errorTitle=title, error=message)
        dv.add(f"{col}{first}:{col}{last}")
        sheet.ws.data_validations.append(dv)
    pct = DataValidation(type="whole", operator="between", formula1="0", formula2="100",
                         allow_blank=True, showErrorMessage=True, errorTitle="% complete",
                         error="A whole number from 0 to 100.")
    pct.add(f"J{first}:J{last}")
    sheet.ws.data_validations.append(pct)
    dates = DataValidation(type="date", operator="greaterThan", formula1="1", allow_blank=True,
                           showErrorMessage=True, errorTitle="Date", error="Enter a date.")
    dates.add(f"G{first}:H{last}")
    dates.add(f"K{first}:K{last}")
    sheet.ws.data_validations.append(dates)
    sheet.write([])

    Table(wb, "Departments", "Department codes", [Column("Code"), Column("Department")],
          generated).write([tuple(d) for d in departments])
    cats = list(LABELS["milestone_category"].values())
    stats = list(LABELS["milestone_status"].values())
    Table(wb, "Lists", "Allowed values", [Column("Category"), Column("Status")], generated
          ).write([(cats[i] if i < len(cats) else None, stats[i] if i < len(stats) else None)
                   for i in range(max(len(cats), len(stats)))])
    return to_bytes(wb)
