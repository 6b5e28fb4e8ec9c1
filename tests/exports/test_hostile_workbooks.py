"""Uploads with a stray value far out on the sheet: read or refused quickly, with little memory.

Each workbook is read in a fresh Python process, which reports its own CPU time and how far its
peak resident memory rose above what it held before the read (``VmHWM`` after against
``VmRSS`` before, from /proc). CPU time, not wall time, so a busy machine does not fail it.
"""
import io
import json
import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from openpyxl import load_workbook

from exports.plan_import import read_plan
from exports.plan_template import plan_template_workbook
from exports.services import read_services, services_workbook
from tests import factories

AT = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
STRAY = ("XFD200", "XFD20000", "XFD1048576", "A1048576")

PROBE = r"""
import json, sys, time
from tracker import create_app

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024

kind, path = sys.argv[1], sys.argv[2]
data = open(path, "rb").read()
app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
with app.test_request_context():
    from exports.plan_import import read_plan
    from exports.services import read_services
    from exports.upload_safety import UploadRefused
    before, cpu = status("VmRSS"), time.process_time()
    try:
        if kind == "plan":
            rows, problems = read_plan(data, {"health"})
        else:
            rows, problems = read_services(data)
        outcome = {"rows": len(rows), "problems": [str(getattr(p, "message", p)) for p in problems]}
    except UploadRefused as exc:
        outcome = {"refused": str(exc)}
    outcome["cpu"] = time.process_time() - cpu
    outcome["grew"] = status("VmHWM") - before
print(json.dumps(outcome))
"""


def _plan_workbook(stray):
    wb = load_workbook(io.BytesIO(plan_template_workbook([("health", "Health")], AT)))
    ws = wb["Milestones"]
    for j, value in enumerate(("health", "HLT-01", "Birth certificates online", None,
                               "Service integration", None, None, date(2026, 6, 30),
                               "In progress", 40, None), start=1):
        ws.cell(row=5, column=j, value=value)
    ws[stray] = "stray"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _services_workbook(stray):
    dept = factories.department("health", name="Health")
    service = factories.service(department=dept, name="Birth certificate")
    data = services_workbook([(service, "health", "Health", None)], [], AT)
    wb = load_workbook(io.BytesIO(data))
    wb["Services"][stray] = "stray"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _probe(tmp_path, kind, data):
    path = Path(tmp_path) / f"{kind}.xlsx"
    path.write_bytes(data)
    done = subprocess.run([sys.executable, "-c", PROBE, kind, str(path)], capture_output=True,
                          text=True, timeout=120, cwd=Path(__file__).parents[2])
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("stray", STRAY)
@pytest.mark.parametrize("kind", ["plan", "services"])
def test_a_stray_value_far_out_is_read_or_refused_quickly_and_lightly(app, tmp_path, kind, stray,
                                                                        figure):
    data = _plan_workbook(stray) if kind == "plan" else _services_workbook(stray)
    outcome = _probe(tmp_path, kind, data)
    # The plan reader raises the refusal; the services reader returns it as the one problem.
    refused = outcome.get("refused") or (
        outcome["problems"][0] if not outcome["rows"] and len(outcome["problems"]) == 1 else None)
    figure(f"{kind} upload with a value at {stray}: {outcome['cpu']:.2f} s CPU, "
           f"+{outcome['grew'] / 2**20:.1f} MB, {'refused' if refused else 'read'}")
    assert outcome["cpu"] < 2.0, outcome
    assert outcome["grew"] < 50 * 2**20, outcome
    if refused:
        # Refused as a whole, saying how far the sheet reaches and what to do.
        row = stray.lstrip("XFDA")
        assert f"reaches row {int(row):,}" in refused, refused
        assert "Delete everything below your data" in refused
    else:
        # A value in a column without a heading is not data: the real row is read.
        assert outcome["rows"] == 1 and not outcome["problems"], outcome


def test_a_sheet_declaring_a_million_rows_is_refused_unread(app):
    with pytest.raises(Exception) as refused:
        read_plan(_plan_workbook("A1048576"), {"health"})
    assert "reaches row 1,048,576" in str(refused.value)


def test_a_formula_without_a_saved_value_is_named_as_such(app):
    wb = load_workbook(io.BytesIO(_plan_workbook("XFD200")))
    wb["Milestones"]["C5"] = '=CONCAT("Birth ", "certificates")'  # openpyxl saves no value
    out = io.BytesIO()
    wb.save(out)
    rows, problems = read_plan(out.getvalue(), {"health"})
    assert not rows
    assert [(p.row, p.column) for p in problems] == [(5, "C (Title)")]
    assert "formula without a saved value" in problems[0].message


def test_a_nodal_officers_upload_with_other_departments_gets_one_message(app, as_user):
    own = factories.department("own", name="Own Department")
    others = [factories.department(f"d{i}", name=f"Department {i}") for i in range(5)]
    officer = factories.user("nodal", department=own)
    rows = [(factories.service(department=d, name=f"Service {n}"), d.code, d.name, None)
            for d in others for n in range(4)]
    parsed, parse_errors = read_services(services_workbook(rows, [], AT))
    from tracker.operations.services import check_import

    plan = check_import(parsed, parse_errors, officer)
    messages = [e.message for e in plan.errors]
    assert len(messages) == 1, messages
    assert messages[0].startswith("20 rows are services of other departments (Department 0, "
                                  "Department 1, Department 2 and 2 more)")
    assert "Download your own department's register" in messages[0]


def test_an_empty_required_cell_is_named(app):
    wb = load_workbook(io.BytesIO(_plan_workbook("XFD200")))
    wb["Milestones"]["C5"] = None  # the title left empty: openpyxl writes no cell at all
    out = io.BytesIO()
    wb.save(out)
    rows, problems = read_plan(out.getvalue(), {"health"})
    assert [(p.row, p.column, p.message) for p in problems] == [(5, "C (Title)", "is required")]
