"""The journeys of each role, as a person would do them in the browser.

Every page visited is checked with axe (WCAG 2.1 A and AA: no serious or critical violation)
and at a 375-pixel phone width (no sideways scrolling), and captured at both widths. Parts of
each journey are done by keyboard alone: Tab to reach a control (each stop showing a visible
focus), typing, Enter.
"""
import io
import re
from datetime import timedelta

import pytest

from models import Milestone
from tests import factories
from tests.browser.helpers import check_keyboard, checked, \
    has_focus_indicator, focus_info, release, sign_in
from tracker import clock
from tracker.extensions import db

expect = pytest.importorskip("playwright.sync_api").expect
openpyxl = pytest.importorskip("openpyxl")


def tab_to(page, selector, limit=60):
    """Press Tab until the element matching ``selector`` has the focus, checking that every
    stop on the way shows where the focus is."""
    target = page.locator(selector)
    for _ in range(limit):
        page.keyboard.press("Tab")
        info = focus_info(page)
        assert info is not None, f"Tab left {page.url} before reaching {selector}"
        assert info["visible"] and has_focus_indicator(info), (
            f"no visible focus on {page.url}: {info}")
        if target.evaluate("e => e === document.activeElement"):
            return info
    raise AssertionError(f"{selector} was not reached with Tab on {page.url}")


_DATE_ORDER = {}


def _date_order(page):
    """The order in which this Chromium's date inputs take their parts (it follows the
    browser's own language, not the page's): found once by typing into a scratch page."""
    if not _DATE_ORDER:
        scratch = page.context.new_page()
        scratch.set_content("<input type=date id=d aria-label=d>")
        scratch.focus("#d")
        scratch.keyboard.type("01022003")
        value = scratch.evaluate("document.getElementById('d').value")
        scratch.close()
        _DATE_ORDER["format"] = "%m%d%Y" if value == "2003-01-02" else "%d%m%Y"
    return _DATE_ORDER["format"]


def type_date(page, value):
    """Type a date into the focused date input, as a person would."""
    order = _date_order(page)
    page.keyboard.type(value.strftime(order))
    assert page.evaluate("document.activeElement.value") == value.isoformat()


@pytest.fixture
def today():
    return clock.today()


# --- 1. The nodal officer ----------------------------------------------------------------


@pytest.fixture
def health(app, today):
    dept = factories.department("health", name="Health & Family Welfare")
    plan = factories.plan(department=dept, status="approved")
    late = factories.milestone(plan=plan, code="H-01", title="Birth certificates online",
                               today=today, due_date=today - timedelta(days=3),
                               baseline_due=today - timedelta(days=3), percent_complete=60)
    factories.milestone(plan=plan, code="H-02", title="Drug stock register", today=today,
                        due_date=today + timedelta(days=40))
    nodal = factories.user("nodal", department=dept, name="Stanzin Dolma",
                           email="nodal.health@ladakh.example")
    return {"department": dept, "late": late, "nodal": nodal}


def test_nodal_officer_records_a_revision_and_raises_a_bottleneck_on_an_overdue_milestone(
        page, health, today):
    sign_in(page, health["nodal"])
    expect(page.locator("h1")).to_have_text("Your work: Health & Family Welfare")
    checked(page, "nodal-home")
    page.locator("main").get_by_role("link", name="All milestones of the department").click()
    expect(page).to_have_url(re.compile(r"/departments/health$"))
    late_row = page.locator("main tr", has_text="Birth certificates online")
    expect(late_row).to_contain_text("Overdue")
    checked(page, "nodal-department")
    late_row.get_by_role("link").first.click()
    expect(page.locator("h1")).to_have_text("H-01: Birth certificates online")
    checked(page, "milestone")

    # The update form, by keyboard alone: progress, a new due date, its reason and a note.
    new_due = today + timedelta(days=30)
    page.goto(page.url)
    tab_to(page, "#percent_complete")
    page.keyboard.press("Control+a")
    page.keyboard.type("75")
    tab_to(page, "#due_date")
    type_date(page, new_due)
    tab_to(page, "#reason")
    page.keyboard.type("Vendor")  # a closed select picks the option typed
    expect(page.locator("#reason")).to_have_value("vendor")
    tab_to(page, "#note")
    page.keyboard.type("The vendor delivers the registration module late.")
    tab_to(page, "form[action$='/update'] button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator(".flash-success")).to_have_text("The update was saved.")
    history = page.locator("table[aria-labelledby=history-title] tbody tr").first
    expect(history).to_contain_text("Stanzin Dolma")
    expect(history).to_contain_text("60 → 75")
    expect(history).to_contain_text(
        f"{(today - timedelta(days=3)):%d-%m-%Y} → {new_due:%d-%m-%Y}")
    expect(history).to_contain_text("The vendor delivers the registration module late.")
    expect(page.locator("dd.revisions")).to_have_text("1")
    expect(page.locator("dd.slipped")).to_have_text("33")
    checked(page, "milestone-updated")

    # A revision without its reason is refused, the error beside the field and in the summary.
    page.locator("#due_date").fill((new_due + timedelta(days=10)).isoformat())
    page.locator("#note").fill("Later again.")
    page.locator("form[action$='/update'] button[type=submit]").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(page.locator("#reason")).to_have_attribute("aria-invalid", "true")
    summary.get_by_role("link").first.click()
    expect(page.locator("#reason")).to_be_focused()
    checked(page, "milestone-error")

    # Raise a bottleneck on the milestone.
    page.get_by_role("link", name="Raise a bottleneck on this milestone").click()
    expect(page.locator("h1")).to_have_text("Raise a bottleneck: Health & Family Welfare")
    checked(page, "bottleneck-form")
    page.locator("#title").fill("Vendor has not signed the contract")
    page.locator("#description").fill("The registration module waits for the signed contract.")
    page.locator("#category").select_option("vendor")
    page.locator("#severity").select_option("high")
    page.locator("#action_by").fill("Finance Department")
    page.get_by_role("button", name="Raise the bottleneck").click()
    expect(page.locator(".flash-success")).to_have_text("The bottleneck was raised.")
    expect(page.locator("h1")).to_contain_text("Vendor has not signed the contract")
    checked(page, "bottleneck")
    page.get_by_role("link", name="H-01: Birth certificates online").first.click()
    row = page.locator("table[aria-labelledby=bottlenecks-title] tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Vendor has not signed the contract")
    expect(row).to_contain_text("High")
    expect(row).to_contain_text("Open")
    expect(page.locator("table[aria-labelledby=history-title] tbody tr").first).to_contain_text(
        "60 → 75")
    checked(page, "milestone-with-bottleneck")
    milestone = db.session.get(Milestone, health["late"].id)
    db.session.refresh(milestone)
    assert (milestone.percent_complete, milestone.due_date) == (75, new_due)
    release()


# --- 2. NIC imports an action plan ---------------------------------------------------------


@pytest.fixture
def nic(app):
    factories.department("health", name="Health & Family Welfare")
    factories.department("pwd", name="Public Works")
    return factories.user("nic", name="Tsering Namgyal", email="sio@nic.example")


def _fill(path, rows):
    """The downloaded template with ``rows`` written under its heading row; the bytes."""
    wb = openpyxl.load_workbook(path)
    ws = wb["Milestones"]
    header = next(r for r in range(1, 21) if ws.cell(r, 2).value == "Milestone code")
    headings = [c.value for c in ws[header]]
    for n, values in enumerate(rows, start=header + 1):
        for name, value in values.items():
            ws.cell(n, headings.index(name) + 1, value)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _upload(page, name, data):
    page.locator("#file").set_input_files(
        files=[{"name": name, "mimeType": "application/vnd.openxmlformats-officedocument."
                "spreadsheetml.sheet", "buffer": data}])
    page.get_by_role("button", name="Check the file").click()


def test_nic_fills_the_template_previews_and_applies_it_and_sees_every_error_of_a_broken_one(
        page, nic, today, tmp_path):
    sign_in(page, nic)
    page.get_by_role("link", name="Excel reports").click()
    expect(page.locator("h1")).to_have_text("Excel reports")
    checked(page, "reports")
    page.locator("nav").get_by_role("link", name="Import action plans").click()
    expect(page.locator("h1")).to_have_text("Import action plans")
    checked(page, "import")
    with page.expect_download() as download:
        page.locator("main").get_by_role("link", name="action plan template").click()
    template = tmp_path / download.value.suggested_filename
    download.value.save_as(template)
    assert template.name.startswith("action-plan-template")

    due = today + timedelta(days=90)
    good = _fill(template, [
        {"Department code": "health", "Milestone code": "HLTH-01",
         "Title": "Online OPD registration", "Category": "Service integration",
         "Owner": "Chief Medical Officer", "Start date": today, "Due date": due,
         "Status": "Not started", "% complete": 0},
        {"Department code": "pwd", "Milestone code": "PWD-01",
         "Title": "Road permits through the portal", "Category": "Service integration",
         "Due date": due + timedelta(days=30), "Status": "In progress", "% complete": 20},
    ])
    _upload(page, "plan.xlsx", good)
    expect(page.locator("h1")).to_have_text("Import preview")
    preview = page.locator("main table tbody tr")
    expect(preview).to_have_count(2)
    expect(preview.nth(0)).to_contain_text("Online OPD registration")
    expect(preview.nth(0)).to_contain_text("Create")
    expect(preview.nth(1)).to_contain_text("Road permits through the portal")
    checked(page, "import-preview")
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator(".flash-success")).to_contain_text("2 milestones created")
    checked(page, "import-done")
    page.goto("/departments/health")
    row = page.locator("main tr", has_text="Online OPD registration")
    expect(row).to_contain_text(due.strftime("%d-%m-%Y"))
    checked(page, "import-department")

    broken = _fill(template, [
        {"Department code": "nowhere", "Milestone code": "X-01", "Title": "Unknown department",
         "Category": "Service integration", "Due date": due, "Status": "Not started"},
        {"Department code": "health", "Milestone code": "HLTH-02", "Title": None,
         "Category": "Gardening", "Due date": "next year", "Status": "Not started"},
        {"Department code": "health", "Milestone code": "HLTH-03", "Title": "Bad status",
         "Category": "Other", "Due date": due, "Status": "Sleeping"},
    ])
    page.goto("/reports/import")
    _upload(page, "broken.xlsx", broken)
    problems = page.locator(".error-summary")
    expect(problems).to_contain_text("The file was not imported: nothing was changed")
    rows = problems.locator("tbody tr")
    expected = [("5", "A (Department code)", "is not a known department code"),
                ("6", "C (Title)", "is required"),
                ("6", "E (Category)", "is not a category"),
                ("6", "H (Due date)", "is not a date"),
                ("7", "I (Status)", "is not a status")]
    seen = [tuple(cells) for cells in
            (r.locator("td").all_inner_texts() for r in rows.all())]
    for row_no, column, message in expected:
        assert any(c[0] == "Milestones" and c[1] == row_no and c[2] == column
                   and message in c[3] for c in seen), (row_no, column, message, seen)
    assert len(seen) == len(expected), seen
    checked(page, "import-errors")
    page.goto("/departments/health")
    expect(page.locator("main")).not_to_contain_text("Bad status")


# --- 3. The Secretary --------------------------------------------------------------------------


@pytest.fixture
def roadmap(app, today):
    health = factories.department("health", name="Health & Family Welfare")
    plan = factories.plan(department=health, status="approved")
    for n, days in enumerate((-20, -5), start=1):
        factories.milestone(plan=plan, code=f"H-0{n}", title=f"Overdue health work {n}",
                            today=today, due_date=today + timedelta(days=days))
    factories.milestone(plan=plan, code="H-03", title="Health work on track", today=today,
                        due_date=today + timedelta(days=60))
    pwd = factories.department("pwd", name="Public Works")
    pwd_plan = factories.plan(department=pwd, status="approved")
    factories.milestone(plan=pwd_plan, code="P-01", title="Public works overdue", today=today,
                        due_date=today - timedelta(days=2))
    secretary = factories.user("secretary", name="Padma Angmo",
                               email="secretary@ladakh.example")
    return {"health": health, "secretary": secretary}


def test_secretary_filters_the_dashboard_clicks_a_bar_and_holds_a_review_meeting(
        page, roadmap, today, tmp_path):
    csp_errors = []  # every console error but the browser's own favicon request

    def console(message):
        if message.type == "error" and not message.location.get("url", "").endswith(
                "/favicon.ico"):
            csp_errors.append(f"{message.text} ({message.location.get('url')})")

    page.on("console", console)
    page.on("pageerror", lambda e: csp_errors.append(str(e)))
    sign_in(page, roadmap["secretary"])
    page.locator("nav").get_by_role("link", name="Dashboard").click()
    expect(page.locator("h1")).to_have_text("Roadmap dashboard")
    page.locator("#department").select_option("health")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"department=health"))
    chart = page.locator('#chart-health[data-ready="true"]')
    expect(chart).to_have_count(1)
    expect(page.locator("#filter-description")).to_contain_text("Health & Family Welfare")
    checked(page, "dashboard-health")
    expect(page.locator('#chart-health[data-ready="true"]')).to_have_count(1)
    assert not csp_errors, csp_errors  # plotly.js and the page script run under the CSP

    # The overdue bar of the health chart: Plotly's drag layer lies over the bars, so click
    # where the bar is drawn on the screen.
    bars = page.locator("#chart-health .barlayer .trace")
    names = page.evaluate("""() => document.getElementById('chart-health').data
                             .map(t => t.name)""")
    page.locator("#chart-health").scroll_into_view_if_needed()
    overdue = bars.nth(names.index("Overdue")).locator("path").first
    box = overdue.bounding_box()
    assert box and box["width"] > 0, "the overdue bar is not drawn"
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page).to_have_url(re.compile(r"/dashboard/records\?.*health=overdue"))
    expect(page).to_have_url(re.compile(r"department=health"))
    records = page.locator("main table tbody tr")
    expect(records).to_have_count(2)
    expect(page.locator("main")).to_contain_text("Overdue health work 1")
    expect(page.locator("main")).not_to_contain_text("Public works overdue")
    checked(page, "dashboard-records")

    # Plan a review meeting, by keyboard alone.
    page.locator("nav").get_by_role("link", name="Review meetings").click()
    checked(page, "meetings")
    page.get_by_role("link", name="Plan a meeting").click()
    expect(page.locator("h1")).to_have_text("Plan a meeting")
    checked(page, "meeting-form")
    check_keyboard(page)
    page.goto(page.url.split("#")[0])
    tab_to(page, "#title")
    page.keyboard.type("Monthly roadmap review")
    tab_to(page, "#meeting_date")
    type_date(page, today)
    tab_to(page, "#venue")
    page.keyboard.type("Conference hall, Civil Secretariat")
    tab_to(page, "#attendees-0-name")
    page.keyboard.type("Stanzin Dolma")
    tab_to(page, "#attendees-0-designation")
    page.keyboard.type("Nodal officer")
    tab_to(page, "#attendees-0-department_id")
    page.keyboard.type("Health")
    tab_to(page, "main form button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Monthly roadmap review")
    expect(page.locator("main")).to_contain_text("Conference hall, Civil Secretariat")
    expect(page.locator("main .facts")).to_contain_text("Health & Family Welfare")
    checked(page, "meeting-planned")

    page.locator("#add-item summary").click()
    page.locator("#title").fill("Health department: overdue milestones")
    page.locator("#department_id").select_option(label="Health & Family Welfare")
    page.get_by_role("button", name="Add to the agenda").click()
    item = page.locator("ol.agenda > li", has_text="Health department: overdue milestones")
    expect(item).to_have_count(1)
    page.get_by_role("link", name="Mark the meeting held…").click()
    page.get_by_role("button", name="Yes, mark the meeting held").click()
    expect(page.locator(".flash-success")).to_contain_text("marked held")
    checked(page, "meeting-held")
    item.locator("textarea[name^=minutes]").fill("Two milestones are overdue; the vendor is late.")
    item.get_by_role("button", name="Save the minutes").click()
    expect(page.locator(".flash-success")).to_have_text("Minutes saved.")
    item.locator("summary").click()
    decision_due = today + timedelta(days=21)
    item.locator("textarea[name$=-text]").fill("Health to sign the vendor contract within three weeks")
    item.locator("input[name$=-officer]").fill("Director Health Services")
    item.locator("input[name$=-due]").fill(decision_due.isoformat())
    item.locator("select[name$=-department]").select_option(label="Health & Family Welfare")
    item.get_by_role("button", name="Save the minutes").click()
    expect(item).to_contain_text("Health to sign the vendor contract within three weeks")
    expect(item).to_contain_text(decision_due.strftime("%d-%m-%Y"))
    page.get_by_role("link", name="Finalise the minutes…").click()
    page.get_by_role("button", name="Yes, finalise the minutes").click()
    expect(page.locator(".flash-success")).to_contain_text("The minutes are final")
    checked(page, "meeting-final")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the minutes (Excel)").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    wb = openpyxl.load_workbook(path)
    sheet = wb["Decisions"]
    cells = [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]
    assert "Health to sign the vendor contract within three weeks" in cells
    assert "Director Health Services" in cells
    assert "Health & Family Welfare" in cells
    assert not csp_errors, csp_errors
