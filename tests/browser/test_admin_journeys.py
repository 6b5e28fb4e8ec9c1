"""The administrator's journeys, in the browser: add a nodal officer who then signs in, and
change a threshold that the next scan uses.

Every page visited is checked with axe (WCAG 2.1 A and AA) and at a phone's width, and
captured (``artifacts/screenshots/admin-*``).
"""
from datetime import timedelta

import pytest

from models import Department, Flag, User
from tests import factories
from tests.browser.helpers import checked, release, sign_in
from tracker import clock
from tracker.extensions import db

expect = pytest.importorskip("playwright.sync_api").expect


@pytest.fixture
def admin(app):
    factories.department("pwd", name="Public Works")
    factories.department("fish", name="Fisheries")
    return factories.user("admin", name="Tsering Admin", email="admin@ladakh.example")


def test_an_administrator_adds_a_nodal_officer_who_then_signs_in(admin, new_page):
    page = new_page()
    sign_in(page, admin)
    page.get_by_role("link", name="Administration").click()
    checked(page, "admin-index")
    page.get_by_role("link", name="Users").first.click()
    checked(page, "admin-users")
    page.get_by_role("link", name="Add a user").click()

    # A first try without a department: refused beside the field, nothing made.
    page.get_by_label("Name").fill("Stanzin Dolma")
    page.get_by_label("E-mail").fill("stanzin.dolma@ladakh.example")
    page.get_by_label("Designation").fill("Executive Engineer")
    page.get_by_label("Role").select_option(label="Nodal officer")
    page.get_by_label("Temporary password").fill("temporary-1")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".error-summary, [role=alert]").first).to_be_visible()
    expect(page.locator("main")).to_contain_text("department")
    checked(page, "admin-user-refused")
    assert db.session.execute(
        db.select(User).filter_by(email="stanzin.dolma@ladakh.example")).first() is None
    release()

    page.get_by_label("Department").select_option(label="Public Works")
    page.get_by_label("Temporary password").fill("temporary-1")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(lambda url: url.endswith("/admin/users"))
    expect(page.locator(".flash, [role=status]").first).to_contain_text("Stanzin Dolma")
    row = page.locator("tr", has_text="Stanzin Dolma")
    expect(row).to_contain_text("Nodal officer")
    expect(row).to_contain_text("Public Works")
    checked(page, "admin-user-added")

    officer = db.session.execute(
        db.select(User).filter_by(email="stanzin.dolma@ladakh.example")).scalar_one()
    assert (officer.role, officer.department.code) == ("nodal", "pwd")
    release()

    nodal_page = new_page()
    sign_in(nodal_page, "stanzin.dolma@ladakh.example", "temporary-1")
    expect(nodal_page.locator("h1").first).to_contain_text("Public Works")
    expect(nodal_page.locator("header")).to_contain_text("Nodal officer")
    checked(nodal_page, "admin-new-officer-home")
    # Their own department only: the other department's page is not theirs to see.
    fisheries = nodal_page.goto("/departments/fish")
    assert fisheries.status == 404


def test_a_changed_threshold_is_used_by_the_next_scan(admin, new_page, app):
    from flask import g

    from jobs import scan
    from models.base import utcnow
    from tracker.settings import thresholds

    today = clock.today()
    pwd = db.session.execute(db.select(Department).filter_by(code="pwd")).scalar_one()
    officer = factories.user("nodal", department=pwd, name="Stanzin Dolma")
    milestone = factories.milestone(
        plan=factories.plan(department=pwd, status="approved"), today=today,
        code="PWD-04", title="Road permits online", status="in_progress",
        due_date=today + timedelta(days=200))
    milestone.updated_at = utcnow() - timedelta(days=20)
    db.session.commit()
    scan.scan(today, utcnow(), thresholds())  # 20 days without an update: not stale at 30
    assert not db.session.execute(db.select(Flag).filter_by(kind="milestone_stale")).first()
    release()

    page = new_page()
    sign_in(page, admin)
    page.get_by_role("link", name="Administration").click()
    page.get_by_role("link", name="Thresholds of the rules").click()
    stale = page.get_by_label("Stale: no update for (days)")
    expect(stale).to_have_value("30")
    checked(page, "admin-settings")

    stale.fill("0")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("main")).to_contain_text("from 1 to 3650")
    checked(page, "admin-settings-refused")

    page.get_by_label("Stale: no update for (days)").fill("10")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash, [role=status]").first).to_contain_text("the next scan uses them")
    expect(page.get_by_label("Stale: no update for (days)")).to_have_value("10")

    # The next scan (as the scheduler or `flask jobs run scan` runs it) uses the new number.
    g.pop("thresholds", None)
    scan.scan(today, utcnow(), thresholds())
    flag = db.session.execute(db.select(Flag).filter_by(kind="milestone_stale")).scalar_one()
    assert flag.subject_id == milestone.id
    release()

    nodal_page = new_page()
    sign_in(nodal_page, officer)
    # The pages use the new number as well: the officer's work list counts the milestone.
    expect(nodal_page.locator("main")).to_contain_text("In progress but not updated for 10 days (1)")
    nodal_page.goto("/flags/")
    row = nodal_page.locator("tr", has_text="PWD-04")
    expect(row).to_be_visible()
    expect(row).to_contain_text("Road permits online")
    checked(nodal_page, "admin-threshold-flag")
