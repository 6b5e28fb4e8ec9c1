"""The dashboard reads in one pass and the header fits a phone, measured in Chromium.

- Dashboard at 1366x768 with every table closed: at most 5 screens tall; each chart's
  numbers behind "Show the numbers" (a <details>), opened by keyboard; every chart drawn;
  axe: no serious or critical violation.
- At 375 px the header is at most 120 px tall and the navigation sits behind one "Menu"
  button that opens by keyboard and without JavaScript; at 1366 px the links show directly.
"""
from datetime import timedelta

import pytest

from tests import factories
from tests.browser.helpers import check_a11y, screenshot, sign_in
from tracker import clock

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.commits

SCREEN_W, SCREEN_H = 1366, 768


@pytest.fixture
def many_departments(app):
    """30 departments, each with an approved plan, milestones of every health, a service and
    an open bottleneck: the demo's shape, where the department charts are tallest."""
    today = clock.today()
    for i in range(30):
        dept = factories.department(f"d{i:02d}", name=f"Department of Things {i:02d}")
        plan = factories.plan(department=dept, status="approved")
        factories.milestone(plan=plan, code=f"D{i:02d}-01", title="Overdue work", today=today,
                            start_date=today - timedelta(days=90),
                            due_date=today - timedelta(days=5 + i))
        factories.milestone(plan=plan, code=f"D{i:02d}-02", title="Work on track", today=today,
                            status="in_progress", due_date=today + timedelta(days=40 + i))
        factories.milestone(plan=plan, code=f"D{i:02d}-03", title="Done work", today=today,
                            status="completed")
        factories.service(department=dept)
        factories.bottleneck(department=dept)
    return factories.user("secretary", email="secretary@ladakh.example")


def test_dashboard_is_at_most_five_screens_with_the_numbers_behind_a_disclosure(
        new_page, many_departments):
    page = new_page(width=SCREEN_W, height=SCREEN_H)
    sign_in(page, many_departments)
    page.goto("/dashboard/")
    page.wait_for_function("document.querySelectorAll('[data-figure]').length > 0 && "
                           "document.querySelectorAll('[data-figure]').length === "
                           "document.querySelectorAll('[data-ready=true]').length",
                           timeout=60_000)
    height = page.evaluate("document.documentElement.scrollHeight")
    print(f"dashboard height at {SCREEN_W}x{SCREEN_H}: {height} px "
          f"({height / SCREEN_H:.1f} screens)")
    assert height <= 5 * SCREEN_H
    assert page.locator(".chart-section").count() == 6
    table = page.locator("#table-health")
    expect(table).to_be_hidden()  # closed by default
    summary = page.locator("#numbers-health > summary")
    expect(summary).to_contain_text("Show the numbers")
    check_a11y(page)
    screenshot(page, "dashboard-1366")
    # by keyboard: focus the summary, Enter opens it, Enter again closes it
    summary.focus()
    page.keyboard.press("Enter")
    expect(table).to_be_visible()
    expect(table.locator("tbody tr")).to_have_count(30)
    check_a11y(page)
    page.keyboard.press("Enter")
    expect(table).to_be_hidden()


def test_dashboard_numbers_open_without_javascript(browser, live_server, many_departments):
    context = browser.new_context(base_url=live_server, java_script_enabled=False,
                                  viewport={"width": SCREEN_W, "height": SCREEN_H})
    try:
        page = context.new_page()
        sign_in(page, many_departments)
        page.goto("/dashboard/")
        expect(page.locator(".chart-fallback").first).to_be_visible()
        page.locator("#numbers-scorecard > summary").click()
        expect(page.locator("#table-scorecard")).to_be_visible()
        expect(page.locator("#tiles-title")).to_be_visible()
    finally:
        context.close()


def _header_height(page):
    return page.evaluate("document.querySelector('.site-header').getBoundingClientRect().height")


def test_phone_header_is_one_menu_button_at_most_120px(new_page, many_departments):
    page = new_page(width=375, height=800)
    sign_in(page, many_departments)
    page.goto("/")
    height = _header_height(page)
    print(f"header height at 375 px: {height:.0f} px")
    assert height <= 120
    nav_link = page.locator(".main-nav a", has_text="Dashboard")
    expect(nav_link).to_be_hidden()
    button = page.locator(".site-menu > summary")
    expect(button).to_be_visible()
    expect(button).to_have_text("Menu")
    check_a11y(page)
    screenshot(page, "home-375")
    # by keyboard: Tab from the top reaches the menu button; Enter opens it
    for _ in range(6):
        page.keyboard.press("Tab")
        if button.evaluate("e => e === document.activeElement"):
            break
    assert button.evaluate("e => e === document.activeElement"), "Tab did not reach Menu"
    page.keyboard.press("Enter")
    expect(nav_link).to_be_visible()
    expect(page.locator("form.language")).to_be_visible()
    check_a11y(page)
    nav_link.click()
    expect(page.locator("h1")).to_have_text("Roadmap dashboard")
    # wide: no menu button, the links in the header directly
    page.set_viewport_size({"width": SCREEN_W, "height": SCREEN_H})
    page.goto("/")
    expect(button).to_be_hidden()
    expect(nav_link).to_be_visible()


def test_phone_menu_opens_without_javascript(browser, live_server, many_departments):
    context = browser.new_context(base_url=live_server, java_script_enabled=False,
                                  viewport={"width": 375, "height": 800})
    try:
        page = context.new_page()
        sign_in(page, many_departments)
        page.goto("/")
        assert _header_height(page) <= 120
        page.locator(".site-menu > summary").click()
        expect(page.locator(".main-nav a", has_text="Flags")).to_be_visible()
    finally:
        context.close()
