"""Journeys on the pages that exist: sign-in, home, a department, the error pages.

Every page visited is checked with axe (WCAG 2.1 A and AA: no serious or critical violation).
"""
import re
from datetime import timedelta

import pytest

from tests import factories
from tests.browser.helpers import check_a11y, check_keyboard, check_phone_width, screenshot, \
    sign_in
from tracker import clock

expect = pytest.importorskip("playwright.sync_api").expect


@pytest.fixture
def roadmap(app):
    today = clock.today()
    health = factories.department("health", name="Health & Family Welfare")
    plan = factories.plan(department=health, status="approved")
    factories.milestone(plan=plan, code="H-01", title="Birth certificates online", today=today,
                        due_date=today - timedelta(days=3))
    factories.milestone(plan=plan, code="H-02", title="Hospital queue management system for "
                        "the district hospitals of Leh and Kargil", today=today,
                        status="in_progress", due_date=today + timedelta(days=5))
    factories.milestone(plan=plan, code="H-03", title="Drug stock register", today=today,
                        status="completed")
    pwd = factories.department("pwd", name="Public Works")
    factories.plan(department=pwd, status="submitted")
    secretary = factories.user("secretary", name="Padma Angmo", email="secretary@ladakh.example")
    nodal = factories.user("nodal", department=health, name="Stanzin Dolma",
                           email="nodal.health@ladakh.example")
    return {"health": health, "pwd": pwd, "secretary": secretary, "nodal": nodal,
            "today": today}


def test_secretary_signs_in_sees_every_department_and_opens_one(page, roadmap):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/sign-in"))  # the home page needs a signed-in user
    check_a11y(page)
    sign_in(page, roadmap["secretary"])
    expect(page.locator("h1")).to_have_text("Your work")  # the Secretary's work list
    page.get_by_role("link", name="Overview of all departments").click()
    expect(page.locator("h1")).to_have_text("Roadmap overview")
    table = page.locator("main table")
    expect(table.locator("caption")).to_have_text("Departments, their action plans and milestones")
    row = table.locator("tr", has_text="Health & Family Welfare")
    expect(row.locator("td")).to_have_text(["Approved", "3", "1", "1", "1", "0"])
    expect(table.locator("tr", has_text="Public Works").locator("td").first).to_have_text(
        "Submitted")
    check_a11y(page)
    page.get_by_role("link", name="Health & Family Welfare").click()
    expect(page).to_have_url(re.compile(r"/departments/health$"))
    expect(page.locator("h1")).to_have_text("Health & Family Welfare")
    overdue = page.locator("tr", has_text="Birth certificates online")
    expect(overdue).to_contain_text("Overdue")
    expect(overdue).to_contain_text((roadmap["today"] - timedelta(days=3)).strftime("%d-%m-%Y"))
    check_a11y(page)
    # printed: no header, navigation or forms; the whole table, not a scrolled part of it
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator("form.language")).to_be_hidden()
    wrap = page.locator(".table-wrap")
    assert wrap.evaluate("e => getComputedStyle(e).overflowX") == "visible"
    page.emulate_media(media="screen")


def test_nodal_officer_signs_in_by_keyboard_alone_and_sees_their_department(page, roadmap):
    page.goto("/sign-in")
    stops = check_keyboard(page)
    assert [s["id"] for s in stops if s["inMain"]][:2] == ["email", "password"]
    page.goto("/sign-in")
    # Tab from the top: skip link, then the main content, then the e-mail field.
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "email"
    page.keyboard.type("nodal.health@ladakh.example")
    page.keyboard.press("Tab")
    page.keyboard.type(factories.PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Your work: Health & Family Welfare")
    check_a11y(page)
    stops = check_keyboard(page)
    link = next(i for i, s in enumerate(stops) if s["text"] == "All milestones of the department"
                and s["inMain"])
    page.goto("/")
    for _ in range(link + 1):
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/departments/health$"))
    expect(page.locator("main")).to_contain_text("Birth certificates online")
    check_a11y(page)
    check_keyboard(page)
    page.goto("/departments/pwd")  # another department is not theirs to see
    expect(page.locator("h1")).to_have_text("Error 404")
    check_a11y(page)


def test_language_switch_to_hindi_is_remembered_and_switches_back(page, roadmap):
    page.goto("/sign-in")
    page.locator("#language").select_option("hi")
    page.locator("form.language button").click()
    expect(page.locator("html")).to_have_attribute("lang", "hi")
    expect(page.locator("h1")).to_have_text("साइन इन")
    check_a11y(page)
    sign_in(page, roadmap["secretary"])
    expect(page.locator("html")).to_have_attribute("lang", "hi")
    page.goto("/overview")
    expect(page.locator("h1")).to_have_text("रोडमैप का सारांश")
    page.get_by_role("link", name="Health & Family Welfare").click()  # data stays as entered
    expect(page.locator("html")).to_have_attribute("lang", "hi")
    expect(page.locator("tr", has_text="Birth certificates online")).to_contain_text(
        (roadmap["today"] - timedelta(days=3)).strftime("%d-%m-%Y"))
    check_a11y(page)
    page.locator("#language").select_option("en")
    page.locator("form.language button").click()
    expect(page).to_have_url(re.compile(r"/departments/health$"))  # back where they were
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("main")).to_contain_text("Milestones")
    page.goto("/overview")
    expect(page.locator("h1")).to_have_text("Roadmap overview")


def test_sign_in_errors_are_summarised_and_linked_to_their_fields(page, roadmap):
    page.goto("/sign-in")
    page.locator("main button[type=submit]").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    links = summary.locator("a")
    expect(links).to_have_count(2)
    for field_id in ("email", "password"):
        field = page.locator(f"#{field_id}")
        expect(field).to_have_attribute("aria-invalid", "true")
        described = field.get_attribute("aria-describedby").split()
        assert f"{field_id}-error" in described
        expect(page.locator(f"#{field_id}-error")).to_contain_text("Enter your")
    check_a11y(page)
    links.nth(1).click()
    expect(page.locator("#password")).to_be_focused()
    check_keyboard(page)


PAGES = [("sign-in", "/sign-in", None), ("home", "/", "secretary"),
         ("department", "/departments/health", "secretary"), ("not-found", "/nowhere", "secretary"),
         ("home-nodal", "/", "nodal")]


@pytest.mark.parametrize("language", ["en", "hi"])
def test_pages_fit_a_phone_and_are_captured_at_desktop_and_phone_width(new_page, roadmap,
                                                                       language):
    for width in (375, 1280):
        page = new_page(width=width)
        if language == "hi":
            page.goto("/sign-in")
            page.locator("#language").select_option("hi")
            page.locator("form.language button").click()
            expect(page.locator("html")).to_have_attribute("lang", "hi")
        who = None
        for name, path, role in PAGES:
            if role != who:
                if who is not None:
                    menu = page.locator(".site-menu > summary")
                    if menu.is_visible():  # a phone: sign out is behind the Menu button
                        menu.click()
                    page.locator(".who button").click()
                if role is not None:
                    sign_in(page, roadmap[role])
                who = role
            page.goto(path)
            expect(page.locator("html")).to_have_attribute("lang", language)
            if width == 375:
                check_phone_width(page)
                if language == "hi":
                    check_a11y(page)  # contrast and names of the Hindi pages
            screenshot(page, f"{name}-{language}")
