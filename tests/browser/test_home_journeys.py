"""The home page of each role is a work list: what they must do, named, one click from doing it.

Every page visited is checked with axe (no serious or critical violation) and at a 375-pixel
phone width (no sideways scrolling), and captured at both widths.
"""
import re
from datetime import timedelta

import pytest

from models import ActionPlan
from tests import factories
from tests.browser.helpers import check_a11y, checked, release, sign_in
from tracker import clock
from tracker.extensions import db
from tracker.operations import plans as plan_ops

expect = pytest.importorskip("playwright.sync_api").expect


@pytest.fixture
def roadmap(app):
    today = clock.today()
    pwd = factories.department("pwd", name="Public Works")
    plan = factories.plan(department=pwd, status="approved")
    late = factories.milestone(plan=plan, code="PWD-05", title="Online building permits",
                               today=today, start_date=today - timedelta(days=90),
                               due_date=today - timedelta(days=19), percent_complete=95)
    factories.milestone(plan=plan, code="PWD-04", title="e-Office roll-out", today=today,
                        start_date=today - timedelta(days=90), due_date=today - timedelta(days=11))
    factories.milestone(plan=plan, code="PWD-07", title="Road status map", today=today,
                        due_date=today + timedelta(days=12))
    factories.bottleneck(department=pwd, milestone=late, title="Vendor has not deployed the patch",
                         severity="critical", raised_on=today - timedelta(days=20))
    nic = factories.user("nic", name="Rigzin Angmo")
    fisheries = factories.department("fish", name="Fisheries")
    submitted = factories.plan(department=fisheries)
    factories.milestone(plan=submitted, code="FISH-08", title="Online fishing licence",
                        today=today)
    plan_ops.submit_plan(submitted, nic)
    factories.flag("milestone_overdue", "milestone", late.id, department=pwd,
                   escalation="secretary", severity="critical",
                   details={"label": "PWD-05 · Online building permits"})
    db.session.commit()
    return {
        "late": late, "submitted": submitted,
        "nodal": factories.user("nodal", department=pwd, name="Jigmet Ali",
                                email="nodal.pwd@ladakh.example"),
        "secretary": factories.user("secretary", name="Ajeet Kumar Sahu"),
        "viewer": factories.user("viewer", name="Tsewang Norbu"),
    }


def test_nodal_officer_reaches_an_overdue_milestones_update_form_in_one_click(page, roadmap):
    sign_in(page, roadmap["nodal"])
    expect(page.locator("h1")).to_have_text("Your work: Public Works")
    overdue = page.locator("#overdue")
    rows = overdue.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("PWD-05 · Online building permits")  # most overdue first
    expect(rows.nth(1)).to_contain_text("PWD-04 · e-Office roll-out")
    expect(rows.first).to_contain_text("19")
    expect(page.locator("#due-soon")).to_contain_text("PWD-07 · Road status map")
    expect(page.locator("#bottlenecks")).to_contain_text("Vendor has not deployed the patch")
    expect(page.locator("#action-items")).to_contain_text("No open action items.")
    checked(page, "home-nodal")
    overdue.get_by_role("link", name="PWD-05 · Online building permits").click()
    expect(page).to_have_url(re.compile(rf"/milestones/{roadmap['late'].id}#update-title$"))
    expect(page.locator("#update-title")).to_be_in_viewport()
    expect(page.locator("#percent_complete")).to_be_visible()


def test_secretary_approves_a_submitted_plan_from_the_home_page(page, roadmap):
    sign_in(page, roadmap["secretary"])
    expect(page.locator("h1")).to_have_text("Your work")
    awaiting = page.locator("#awaiting")
    row = awaiting.locator("tbody tr", has_text="Fisheries")
    expect(row).to_have_count(1)
    expect(page.locator("#escalated")).to_contain_text("PWD-05 · Online building permits")
    expect(page.locator("#past-sla")).to_contain_text("Vendor has not deployed the patch")
    checked(page, "home-secretary")
    # Returning needs a comment: the box opens, and an empty comment is refused by the form.
    row.locator("summary").click()
    expect(row.locator("textarea")).to_be_visible()
    check_a11y(page)
    row.get_by_role("button", name=re.compile(r"^Approve")).click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator(".flashes")).to_contain_text("The action plan of Fisheries was approved")
    expect(page.locator("#awaiting")).to_contain_text("No plan is waiting for your review.")
    release()
    db.session.expire_all()
    assert db.session.get(ActionPlan, roadmap["submitted"].id).status == "approved"
    db.session.commit()
    check_a11y(page)


def test_viewer_sees_the_overview_and_no_action(page, roadmap):
    sign_in(page, roadmap["viewer"])
    expect(page.locator("h1")).to_have_text("Roadmap overview")
    main = page.locator("main")
    expect(main).to_contain_text("Public Works")
    expect(main.locator("form")).to_have_count(0)
    expect(main.get_by_role("button")).to_have_count(0)
    checked(page, "home-viewer")


def test_on_a_phone_the_department_page_lists_milestones_as_blocks_without_scrolling_sideways(
        page, roadmap):
    from tests.browser.helpers import PHONE, check_phone_width

    sign_in(page, roadmap["nodal"])
    page.set_viewport_size({"width": PHONE, "height": 800})
    page.goto("/departments/pwd")
    check_phone_width(page)
    for region in (page.get_by_role("region", name="Milestones"),
                   page.get_by_role("region", name="The most severe open flag")):
        # Nothing scrolls sideways inside the table's region either.
        assert region.evaluate("e => e.scrollWidth <= e.clientWidth"), region
    row = page.get_by_role("region", name="Milestones").locator("tbody tr").filter(
        has_text="PWD-05")
    # A block per milestone, each cell named by its column (the name drawn before it).
    assert row.evaluate("e => getComputedStyle(e).display") != "table-row"
    status = row.locator("td[data-label=Status]")
    expect(status).to_have_text("In progress")
    assert status.evaluate("e => getComputedStyle(e, '::before').content") == '"Status: "'
    box = row.get_by_role("link", name="Online building permits").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE  # the title whole, not cut off
    # The column headings stay as a line of sort links.
    expect(page.get_by_role("link", name="Due (sort by this column)")).to_be_visible()
    check_a11y(page)

    # The bottlenecks: each block leads with the bottleneck, then its department and the rest.
    page.goto("/bottlenecks")
    check_phone_width(page)
    row = page.locator("tbody tr").filter(has_text="Vendor has not deployed the patch")
    title = row.get_by_role("link", name="Vendor has not deployed the patch").bounding_box()
    department = row.locator("td[data-label=Department]").bounding_box()
    assert title["y"] + title["height"] <= department["y"]
    assert title["x"] + title["width"] <= PHONE
    check_a11y(page)

    # The flags and the inbox too: nothing scrolls sideways inside their tables.
    for path, name in (("/flags/?escalation=&status=open", "Flags"),
                       ("/notifications/", "Your notifications")):
        page.goto(path)
        check_phone_width(page)
        assert page.get_by_role("region", name=name).evaluate(
            "e => e.scrollWidth <= e.clientWidth"), path
