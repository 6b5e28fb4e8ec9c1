"""The workbooks: the printed look, real dates, health as text on a fill, and no text a user
typed ever becoming a formula, in any workbook."""
import io
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from exports.atr import atr_workbook
from exports.bottlenecks import bottleneck_workbook
from exports.department_status import department_status_workbook
from exports.minutes import minutes_workbook
from exports.plan_template import plan_template_workbook
from exports.roadmap import roadmap_workbook
from exports.workbook import Column, Table, new_workbook, text_cell, to_bytes
from models import Milestone
from tests import factories, xlsx
from tracker.extensions import db
from tracker.operations import meetings as ops
from tracker.settings import Thresholds

TODAY = date(2026, 11, 20)
T = Thresholds()
AT = datetime(2026, 11, 20, 18, 5, tzinfo=timezone(timedelta(hours=5, minutes=30)))
EVIL = '=HYPERLINK("http://x","y")'


@pytest.fixture
def evil_world(app):
    """Every text a user can type, set to a formula."""
    dept = factories.department("evil", name=EVIL)
    plan = factories.plan(department=dept, status="approved")
    m = factories.milestone(plan=plan, today=TODAY, code="E-1", title=EVIL, description=EVIL,
                            owner=EVIL, due_date=TODAY - timedelta(days=5),
                            baseline_due=TODAY - timedelta(days=10))
    factories.bottleneck(department=dept, milestone=m, title=EVIL, action_by=EVIL,
                         severity="high", raised_on=TODAY - timedelta(days=40))
    factories.bottleneck(department=dept, title="+SUM(1,2)", status="resolved",
                         resolution_note="@cmd|' /C calc'!A0", raised_on=TODAY - timedelta(days=9))
    secretary = factories.user("secretary")
    earlier = factories.meeting(title=EVIL, meeting_date=TODAY - timedelta(days=30),
                                status="minutes_final", venue=EVIL, chair=EVIL)
    factories.action_item(meeting=earlier, department=dept, text=EVIL, responsible_officer=EVIL,
                          closing_note=EVIL, due_date=TODAY - timedelta(days=2))
    meeting = ops.plan_meeting(title=EVIL, meeting_date=TODAY, venue=EVIL, chair=EVIL,
                               attendees=[{"name": EVIL, "designation": EVIL,
                                           "department_id": dept.id}],
                               user=secretary, today=TODAY, t=T)
    ops.add_item(meeting, title=EVIL, details=EVIL, department_id=dept.id, user=secretary)
    ops.mark_held(meeting, secretary, today=TODAY, t=T)
    item = meeting.agenda_items[-1]
    ops.record_minutes(item, secretary, text=EVIL)
    ops.add_decision(item, text=EVIL, department_id=dept.id, responsible_officer=EVIL,
                     due_date=TODAY + timedelta(days=7), user=secretary)
    ops.finalise_minutes(meeting, secretary)
    ops.amend_minutes(item, text="-" + EVIL, reason=EVIL, user=secretary)
    db.session.commit()
    return dict(dept=dept, meeting=meeting)


def _every_export(w):
    return {
        "minutes": minutes_workbook(w["meeting"].id, TODAY, T, AT),
        "bottlenecks": bottleneck_workbook(TODAY, T, AT),
        "department_status": department_status_workbook(TODAY, T, AT),
        "roadmap": roadmap_workbook(TODAY, T, AT),
        "atr": atr_workbook(TODAY, AT),
        "plan_template": plan_template_workbook([("evil", EVIL)], AT),
    }


def test_a_formula_typed_by_a_user_comes_back_from_every_export_as_text(evil_world):
    for name, data in _every_export(evil_world).items():
        assert xlsx.formulas(data) == [], name
        wb = xlsx.read(data)
        cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row
                 if isinstance(c.value, str) and c.value.lstrip("-").startswith("=HYPERLINK")]
        assert cells, f"{name}: the typed text is missing"
        for c in cells:
            assert c.data_type == "s", (name, c.coordinate)
            assert c.quotePrefix, (name, c.coordinate)
    minutes = xlsx.read(_every_export(evil_world)["minutes"])
    flat = [v for ws in minutes.worksheets for row in xlsx.rows(ws) for v in row]
    assert "+SUM(1,2)" not in flat  # resolved: not among the open bottlenecks
    report = xlsx.read(bottleneck_workbook(TODAY, T, AT))
    _, rows = xlsx.table(report["Bottlenecks"])
    assert {r["Bottleneck"] for r in rows} == {EVIL, "+SUM(1,2)"}
    assert "@cmd|' /C calc'!A0" in {r["Resolution note"] for r in rows}


def _round_trip(values):
    wb = new_workbook()
    Table(wb, "Text", "Round trip", [Column("Text")], "now").write([(v,) for v in values])
    data = to_bytes(wb)
    assert xlsx.formulas(data) == []
    _, rows = xlsx.table(load_workbook(io.BytesIO(data))["Text"])
    return [r["Text"] for r in rows], data


# Text an XML 1.0 document can hold (no C0 controls but tab and line feed, no surrogates);
# a carriage return is read back by any XML parser as a line feed, tested apart below.
XML_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",),
                           blacklist_characters="\r\ufffe\uffff" + "".join(
                               chr(c) for c in range(32) if c not in (9, 10))),
    min_size=1, max_size=200,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(XML_TEXT, st.sampled_from("=+-@\t").flatmap(
    lambda c: XML_TEXT.map(lambda s: c + s))), min_size=1, max_size=5))
def test_any_text_comes_back_unchanged(values):
    back, _ = _round_trip(values)
    assert back == values


def test_characters_xml_cannot_hold_are_dropped_and_carriage_returns_become_line_feeds():
    back, _ = _round_trip(["a\x00b\x1fc", "line\r\nnext\rlast", "\r=1+1"])
    assert back == ["abc", "line\nnext\nlast", "\n=1+1"]


def test_text_cell_keeps_harmless_text_plain_and_forces_risky_text_to_a_string():
    wb = new_workbook()
    ws = wb.create_sheet("x")
    from exports.workbook import Styles

    styles = Styles(wb, ws)
    assert text_cell(ws, styles, "plain") == "plain"
    for risky in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        cell = text_cell(ws, styles, risky)
        assert cell.data_type == "s" and cell.quotePrefix


def test_roadmap_streams_rows_without_loading_milestones(app):
    dept = factories.department("agri", name="Agriculture")
    plan = factories.plan(department=dept, status="approved")
    factories.milestone(plan=plan, today=TODAY, code="A-1", title="Late one",
                        start_date=TODAY - timedelta(days=40), due_date=TODAY - timedelta(days=3),
                        baseline_due=TODAY - timedelta(days=8))
    factories.milestone(plan=plan, today=TODAY, code="A-2", status="completed",
                        due_date=TODAY + timedelta(days=3))
    db.session.expunge_all()
    data = roadmap_workbook(TODAY, T, AT)
    assert not [o for o in db.session.identity_map.values() if isinstance(o, Milestone)]
    ws = xlsx.read(data)["Roadmap"]
    assert ws["A1"].value == "Roadmap: every milestone"
    assert ws["B2"].value == "20-11-2026 18:05 (+05:30)"
    header, rows = xlsx.table(ws)
    assert header[:4] == ("Department code", "Department", "Milestone code", "Title")
    late, done = rows
    assert (late["Health"], late["Days slipped"], late["Due date"].date()) == (
        "Overdue", 5, TODAY - timedelta(days=3))
    assert (done["Health"], done["Status"], done["% complete"]) == ("Done", "Completed", 100)
    health_cell = ws.cell(row=int(ws.freeze_panes[1:]), column=15)
    assert health_cell.value == "Overdue" and health_cell.fill.fgColor.rgb.endswith("F4CCCC")
    due_cell = ws.cell(row=int(ws.freeze_panes[1:]), column=12)
    assert due_cell.is_date and due_cell.number_format == "DD-MM-YYYY"
    assert ws.column_dimensions["D"].width >= 30  # the title wraps, readable


def test_department_status_counts_health_slippage_and_bottleneck_ages(app):
    dept = factories.department("edu", name="Education")
    plan = factories.plan(department=dept, status="approved")
    factories.milestone(plan=plan, today=TODAY, due_date=TODAY - timedelta(days=1),
                        baseline_due=TODAY - timedelta(days=11))
    factories.milestone(plan=plan, today=TODAY, status="completed")
    factories.bottleneck(department=dept, raised_on=TODAY - timedelta(days=45))
    factories.department("none", name="No plan yet")
    ws = xlsx.read(department_status_workbook(TODAY, T, AT))["Department status"]
    _, rows = xlsx.table(ws)
    by_name = {r["Department"]: r for r in rows}
    edu = by_name["Education"]
    assert (edu["Action plan"], edu["Milestones"], edu["Overdue"], edu["Done"]) == (
        "Approved", 2, 1, 1)
    assert (edu["Slipped milestones"], edu["Days slipped (total)"]) == (1, 10)
    assert (edu["Open bottlenecks"], edu["Open bottlenecks, 31–60 days"]) == (1, 1)
    assert by_name["No plan yet"]["Action plan"] == "Missing"


def test_plan_template_has_instructions_drop_downs_and_department_codes(app):
    wb = xlsx.read(plan_template_workbook([("health", "Health"), ("pwd", "Public Works")], AT))
    assert wb.sheetnames == ["Instructions", "Milestones", "Departments", "Lists"]
    validations = {dv.formula1: str(dv.sqref) for dv in wb["Milestones"].data_validations.dataValidation}
    assert validations["=Lists!$A$5:$A$11"].startswith("E5:E")
    assert validations["=Lists!$B$5:$B$9"].startswith("I5:I")
    assert validations["=Departments!$A$5:$A$6"].startswith("A5:A")
    _, codes = xlsx.table(wb["Departments"])
    assert [c["Code"] for c in codes] == ["health", "pwd"]
    _, lists = xlsx.table(wb["Lists"])
    assert "Service integration" in [r["Category"] for r in lists]
    assert "In progress" in [r["Status"] for r in lists]
    assert wb["Milestones"].freeze_panes == "A5"


def test_report_downloads_are_for_secretary_and_nic(app, as_user, client):
    factories.department("x", name="X")
    viewer = factories.user("viewer")
    nic = factories.user("nic")
    c = as_user(viewer)
    for url in ("/reports/", "/reports/bottlenecks.xlsx", "/reports/roadmap.xlsx",
                "/reports/department-status.xlsx", "/reports/plan-template.xlsx",
                "/meetings/action-items/atr.xlsx"):
        assert c.get(url).status_code == 403, url
    c.post("/sign-out")
    c = as_user(nic)
    for url in ("/reports/bottlenecks.xlsx", "/reports/roadmap.xlsx?department=x",
                "/reports/department-status.xlsx", "/reports/plan-template.xlsx",
                "/meetings/action-items/atr.xlsx"):
        response = c.get(url)
        assert response.status_code == 200, url
        assert response.mimetype.endswith("spreadsheetml.sheet")
        assert "-2" in response.headers["Content-Disposition"]  # dated name
    assert c.get("/reports/roadmap.xlsx?department=nope").status_code == 404
    assert "Bottleneck report" in c.get("/reports/").get_data(as_text=True)
