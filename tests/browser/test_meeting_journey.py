"""The Secretary's review meeting in the browser: planned with a chosen agenda, marked held
and finalised after confirming, minutes recorded in one save, the minutes downloaded; a
future meeting refused; the meeting page's height on demo data.

The live server reads what the test thread commits: these tests carry ``commits``.
"""
from datetime import timedelta

import pytest

from models import ActionItem, ReviewMeeting
from tests import factories
from tests.browser.helpers import check_a11y, release, screenshot, sign_in
from tracker import clock
from tracker.extensions import db

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.commits


@pytest.fixture
def review(app):
    """Three departments with something for the Secretary to review."""
    today = clock.today()
    depts = {}
    for code, name, late in (("fish", "Fisheries", 60), ("health", "Health", 40),
                             ("pwd", "Public Works", 20)):
        dept = factories.department(code, name=name)
        plan = factories.plan(department=dept, status="approved")
        factories.milestone(plan=plan, code=f"{code.upper()}-08", title=f"Online licence of {name}",
                            today=today, start_date=today - timedelta(days=120),
                            due_date=today - timedelta(days=late))
        depts[code] = dept
    secretary = factories.user("secretary", name="Padma Angmo", email="secretary@ladakh.example")
    return {"today": today, "secretary": secretary, **depts}


def _meeting(title):
    release()
    meeting = db.session.execute(db.select(ReviewMeeting).filter_by(title=title)).scalar_one()
    db.session.refresh(meeting)
    meeting.agenda_items  # loaded before the transaction ends: the server may write again
    release()
    return meeting


def test_the_secretary_runs_a_review_meeting_end_to_end(page, review):
    sign_in(page, review["secretary"])
    page.goto("/meetings/new")
    page.locator("#title").fill("Weekly review")
    page.locator("#meeting_date").fill(review["today"].isoformat())
    page.locator("#venue").fill("Conference Hall, Civil Secretariat, Leh")
    expect(page.locator("main")).to_contain_text("FISH-08 · Online licence of Fisheries")
    # All three are ticked by default; the Secretary leaves Public Works off.
    for code in ("fish", "health", "pwd"):
        expect(page.locator(f"#dept-{review[code].id}")).to_be_checked()
    page.locator(f"#dept-{review['pwd'].id}").uncheck()
    check_a11y(page)
    page.get_by_role("button", name="Plan the meeting").click()
    expect(page.locator("main h1")).to_have_text("Weekly review")
    expect(page.locator("#left-off")).to_contain_text("Not on this agenda: 1 departments, 1 findings.")
    expect(page.locator(".agenda > li")).to_have_count(2)
    expect(page.locator(".agenda")).to_contain_text("Overdue by 60 days")
    check_a11y(page)

    # Marking it held asks first.
    page.get_by_role("link", name="Mark the meeting held…").click()
    expect(page.locator("main h1")).to_have_text("Mark the meeting held?")
    expect(page.locator("main")).to_contain_text("cannot be undone")
    check_a11y(page)
    page.get_by_role("button", name="Yes, mark the meeting held").click()
    expect(page.locator(".flash-success, [role=status]").first).to_contain_text("marked held")

    # Minutes for every item and a decision beside the first, in one save.
    meeting = _meeting("Weekly review")
    first, second = meeting.agenda_items
    page.locator(f"#minutes-{first.id}").fill("The department explained the delay.")
    page.locator(f"#minutes-{second.id}").fill("Progress noted; vendor to be pressed.")
    page.locator(f"#item-{first.id} summary").click()
    page.locator(f"#decision-{first.id}-text").fill("Finish the online licence")
    page.locator(f"#decision-{first.id}-officer").fill("Director Fisheries")
    page.locator(f"#decision-{first.id}-due").fill((review["today"] + timedelta(days=14)).isoformat())
    check_a11y(page)
    page.locator(f"#item-{first.id} button[name=at]").click()
    page.wait_for_url(lambda url: url.endswith(f"#item-{first.id}"))
    expect(page.locator(f"#item-{first.id}")).to_contain_text("Finish the online licence")
    expect(page.locator(f"#minutes-{second.id}")).to_have_value(
        "Progress noted; vendor to be pressed.")
    screenshot(page, "meeting-held-minutes")

    # Finalising asks first, then locks.
    page.get_by_role("link", name="Finalise the minutes…").click()
    expect(page.locator("main")).to_contain_text("2 items with minutes")
    check_a11y(page)
    page.get_by_role("button", name="Yes, finalise the minutes").click()
    expect(page.locator(".facts")).to_contain_text("Minutes final")
    expect(page.locator(f"#minutes-{first.id}")).to_have_count(0)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the minutes (Excel)").click()
    download = download_info.value
    assert download.suggested_filename.startswith("minutes-")
    from openpyxl import load_workbook

    import io

    wb = load_workbook(io.BytesIO(open(download.path(), "rb").read()))
    text = "\n".join(str(v) for row in wb["Minutes"].iter_rows(values_only=True) for v in row
                     if v is not None)
    assert "The department explained the delay." in text and "Finish the online licence" in text

    # The signed, scanned copy goes back on the meeting: a PDF is attached and listed; a file
    # that is not a PDF is refused, whatever its name.
    meeting_url = page.url.split("#")[0]
    page.get_by_label("Signed minutes (PDF)").set_input_files(files=[{
        "name": "minutes-signed.pdf", "mimeType": "application/pdf", "buffer": b"<html>no</html>"}])
    page.get_by_role("button", name="Attach the signed copy").click()
    expect(page.locator("main")).to_contain_text("PDF")
    page.goto(meeting_url)
    page.get_by_label("Signed minutes (PDF)").set_input_files(files=[{
        "name": "minutes-signed.pdf", "mimeType": "application/pdf",
        "buffer": b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"}])
    page.get_by_role("button", name="Attach the signed copy").click()
    expect(page.locator("#signed-minutes-title + ul, section[aria-labelledby=signed-minutes-title]")
           .first).to_contain_text("minutes-signed.pdf")
    release()
    assert db.session.execute(db.select(ActionItem)).scalar_one().responsible_officer == \
        "Director Fisheries"
    release()


def test_a_meeting_dated_next_week_cannot_be_marked_held(page, review):
    sign_in(page, review["secretary"])
    page.goto("/meetings/new")
    page.locator("#title").fill("Next week's review")
    page.locator("#meeting_date").fill((review["today"] + timedelta(days=7)).isoformat())
    page.get_by_role("button", name="Plan the meeting").click()
    day = (review["today"] + timedelta(days=7)).strftime("%d-%m-%Y")
    # No button before its day: the page says from when.
    expect(page.get_by_role("link", name="Mark the meeting held…")).to_have_count(0)
    expect(page.locator(".meeting-actions")).to_contain_text(
        f"It can be marked held on {day} or after.")
    # The address typed all the same: refused with the reason, nothing changed.
    page.goto(page.url.split("#")[0].rstrip("/") + "/held")
    expect(page.locator("main [role=alert]")).to_contain_text(
        f"The meeting is dated {day}: it can be marked held on that day or after, not before.")
    expect(page.get_by_role("button", name="Yes, mark the meeting held")).to_have_count(0)
    check_a11y(page)
    assert _meeting("Next week's review").status == "planned"


def test_the_meeting_page_is_at_most_six_screens_tall_on_demo_data(new_page, app):
    from tracker import demo
    from tracker.operations import meetings as ops
    from tracker.settings import thresholds

    today = clock.today()
    demo.seed(today, "demo-password-1")
    db.session.commit()
    secretary = db.session.execute(
        db.select(factories.User).filter_by(email="secretary@ladakh.example")).scalar_one()
    meeting = ops.plan_meeting(title="Weekly review", meeting_date=today, venue="Leh",
                               chair=secretary.name, attendees=[], user=secretary, today=today,
                               t=thresholds())
    assert len(meeting.agenda_items) <= 12
    db.session.commit()
    page = new_page(width=1366, height=768)
    sign_in(page, secretary, password="demo-password-1")
    for state in ("planned", "held"):
        if state == "held":
            release()
            ops.mark_held(meeting, secretary, today=today, t=thresholds())
            db.session.commit()
        page.goto(f"/meetings/{meeting.id}")
        height = page.evaluate("document.documentElement.scrollHeight")
        screenshot(page, f"meeting-demo-{state}")
        assert height <= 6 * 768, f"the {state} meeting page is {height} px tall"
