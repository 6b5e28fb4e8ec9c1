"""Every workbook the app offers, printed as a clerk would print it: converted to PDF by
LibreOffice headless (A4, the sheets' own page set-up) and read back with poppler.

On paper: every long text is there in full (no wrapped cell cut to one line), no word is
smaller than 9 pt, every page says "Page x of y", no page is blank, and Hindi prints in a
Devanagari font. Skipped when LibreOffice or poppler is missing, unless ``REQUIRE_PRINT=1``
or ``REQUIRE_BROWSER=1`` (CI) is set, where that fails. One rendering is kept as PNG in
``artifacts/`` for people to look at.
"""
import io
import os
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests import factories
from tests.exports import printing
from tracker import clock
from tracker.extensions import db
from tracker.operations import meetings as ops
from tracker.settings import thresholds

REQUIRED = os.environ.get("REQUIRE_PRINT") == "1" or os.environ.get("REQUIRE_BROWSER") == "1"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
# pdftotext's word box is the font's ascent to descent: 1.30 x the size for Liberation Sans
# and for the Devanagari fallback (measured), so a 9 pt word is 11.7 pt tall.
BOX_PER_PT = 1.30
MIN_PT = 9
LONG = 40  # a text cell this long must wrap somewhere: it must be printed in full

PROSE = ("The district office reported that the vendor has not yet delivered the second batch "
         "of servers; the department will write to the vendor's head office and report back "
         "at the next review with a firm date.")
HINDI = "विभाग ने बताया कि सर्वर की दूसरी खेप अभी तक नहीं पहुँची है; अगली बैठक में तारीख बताई जाएगी।"


@pytest.fixture(scope="module")
def tools():
    missing = printing.missing_tools()
    if missing:
        reason = f"{', '.join(missing)} not installed (apt-get install libreoffice-calc-nogui poppler-utils)"
        if REQUIRED:
            pytest.fail(f"REQUIRE_PRINT/REQUIRE_BROWSER is set but {reason}", pytrace=False)
        pytest.skip(reason)
    return True


@pytest.fixture
def world(app):
    """A small realistic dataset: three departments (one named in Hindi), milestones,
    bottlenecks, services, websites and a held meeting with minutes and decisions."""
    with app.test_request_context():
        today = clock.today()
    t = thresholds()
    health = factories.department("health", name="Health & Family Welfare")
    pwd = factories.department("pwd", name="Public Works (Roads & Buildings)")
    edu = factories.department("edu", name="शिक्षा विभाग")
    secretary = factories.user("secretary", name="Ajeet Kumar Sahu")
    hindi_reader = factories.user("secretary", locale="hi")
    for n, dept in enumerate((health, pwd, edu)):
        plan = factories.plan(department=dept, status="approved")
        for k in range(4):
            factories.milestone(
                plan=plan, today=today, code=f"{dept.code.upper()}-{k + 1:02d}",
                title=f"Online {['birth', 'licence', 'grievance', 'pension'][k]} certificate service "
                      f"integrated with the state portal",
                description=PROSE if k % 2 == 0 else HINDI,
                owner="Nodal officer, IT cell",
                start_date=today - timedelta(days=120), baseline_due=today - timedelta(days=40 - k),
                due_date=today + timedelta(days=(k - 2) * 20),
            )
        factories.bottleneck(department=dept, title=f"Server procurement stalled at tender stage ({n})",
                             severity=["critical", "high", "medium"][n],
                             raised_on=today - timedelta(days=20 + 20 * n),
                             action_by="Director, Information Technology", resolution_note=PROSE)
        factories.bottleneck(department=dept, title=HINDI, severity="low",
                             raised_on=today - timedelta(days=5))
        factories.service(department=dept, name=f"Issue of caste certificate to residents ({n})",
                          designated_officer="Tehsildar", delivery_mode="integrated",
                          url=f"https://{dept.code}.ladakh.example/services/caste-certificate")
        factories.asset(department=dept, name=f"{dept.name} website",
                        url=f"https://{dept.code}.ladakh.example/", https=True,
                        last_content_update=today - timedelta(days=100 * n))
    earlier = factories.meeting(title="Review of October", meeting_date=today - timedelta(days=30),
                                status="minutes_final", venue="Secretariat, Leh", chair="Secretary IT")
    factories.action_item(meeting=earlier, department=pwd, text=PROSE,
                          responsible_officer="Executive Engineer", closing_note=HINDI,
                          due_date=today - timedelta(days=3))
    meeting = ops.plan_meeting(title="Weekly review", meeting_date=today, venue="Secretariat, Leh",
                               chair="Secretary IT",
                               attendees=[{"name": "Tsewang Namgyal", "designation": "Director",
                                           "department_id": pwd.id}],
                               user=secretary, today=today, t=t)
    ops.add_item(meeting, title="Server procurement", details=PROSE, department_id=pwd.id,
                 user=secretary)
    ops.mark_held(meeting, secretary, today=today, t=t)
    for item in meeting.agenda_items[-2:]:
        ops.record_minutes(item, secretary, text=PROSE + " " + HINDI)
        ops.add_decision(item, text=PROSE, department_id=pwd.id,
                         responsible_officer="Executive Engineer",
                         due_date=today + timedelta(days=14), user=secretary)
    db.session.commit()
    return {"secretary": secretary, "hindi": hindi_reader, "meeting": meeting}


WORKBOOKS = [
    pytest.param("bottleneck-report", "/reports/bottlenecks.xlsx", "secretary", id="bottlenecks"),
    pytest.param("open-bottlenecks", "/reports/bottlenecks.xlsx?open=1", "secretary", id="open-bottlenecks"),
    pytest.param("department-status", "/reports/department-status.xlsx", "secretary", id="department-status"),
    pytest.param("roadmap", "/reports/roadmap.xlsx", "secretary", id="roadmap"),
    pytest.param("roadmap-pwd", "/reports/roadmap.xlsx?department=pwd", "secretary", id="roadmap-department"),
    pytest.param("plan-template", "/reports/plan-template.xlsx", "secretary", id="plan-template"),
    pytest.param("services", "/services/export.xlsx", "secretary", id="services"),
    pytest.param("websites", "/websites/export.xlsx", "secretary", id="websites"),
    pytest.param("atr", "/meetings/action-items/atr.xlsx", "secretary", id="atr"),
    pytest.param("meeting-atr", "/meetings/{meeting}/atr.xlsx", "secretary", id="meeting-atr"),
    pytest.param("minutes", "/meetings/{meeting}/minutes.xlsx", "secretary", id="minutes"),
    pytest.param("minutes-hi", "/meetings/{meeting}/minutes.xlsx", "hindi", id="minutes-hindi"),
    # "Export this list": any filtered list as a workbook.
    pytest.param("list-bottlenecks", "/bottlenecks?format=xlsx", "secretary", id="list-bottlenecks"),
    pytest.param("list-overdue", "/dashboard/records?kind=milestones&health=overdue&format=xlsx",
                 "secretary", id="list-overdue"),
    pytest.param("list-flags", "/flags/?status=all&format=xlsx", "secretary", id="list-flags"),
    pytest.param("list-audit", "/audit?format=xlsx", "secretary", id="list-audit"),
    pytest.param("list-action-items", "/meetings/action-items?format=xlsx", "secretary",
                 id="list-action-items"),
    *(pytest.param(f"dashboard-{n}", f"/dashboard/{n}.xlsx", "secretary", id=f"dashboard-{n}")
      for n in ("health", "timeline", "bottlenecks", "services", "progress", "scorecard")),
    pytest.param("dashboard-health-hi", "/dashboard/health.xlsx", "hindi", id="dashboard-health-hindi"),
]


# Devanagari vowel signs, virama and the like: pdftotext may give them in visual order (the
# short i before its consonant), so the comparison leaves them out of both sides.
# Dashes beside Devanagari may come out of order too.
_DEVANAGARI_SIGNS = re.compile("[\u0900-\u0903\u093a-\u094f\u0951-\u0957\u0962\u0963\u2014]")


def _squeeze(text):
    return _DEVANAGARI_SIGNS.sub("", "".join(text.split()))


def _long_texts(data):
    """Every text cell of the workbook long enough to wrap."""
    wb = load_workbook(io.BytesIO(data))
    found = []
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            found += [v for v in row if isinstance(v, str) and len(v) >= LONG]
    return found


def _fonts(pdf):
    out = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    return out


@pytest.mark.parametrize("name,url,reader", WORKBOOKS)
def test_every_workbook_prints_readably(tools, world, as_user, name, url, reader, tmp_path):
    client = as_user(world[reader])
    response = client.get(url.format(meeting=world["meeting"].id))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    pdf = printing.to_pdf(response.data, tmp_path, name)
    pages = printing.page_texts(pdf)
    words = printing.words(pdf)
    sizes = printing.page_sizes(pdf)
    assert pages and len(pages) == len(sizes)

    # A4, either way round.
    for w, h in sizes:
        assert sorted((round(w), round(h))) == [595, 842], (name, w, h)
    # Every page numbered "Page x of y", and none blank (something besides the page furniture).
    n = len(pages)
    for i, text in enumerate(pages, start=1):
        # "Page x of y", or its Hindi words on a workbook made for a Hindi reader.
        assert f"Page {i} of {n}" in text or f"पृष्ठ {i} / {n}" in text, (name, i)
        body = text.replace(f"Page {i} of {n}", "").replace(f"पृष्ठ {i} / {n}", "")
        assert len(body.split()) > 3, f"{name}: page {i} of {n} is blank"
    # No word under 9 pt.
    small = [w for w in words if w.height < MIN_PT * BOX_PER_PT - 0.05]
    assert not small, f"{name}: {len(small)} words under {MIN_PT} pt, e.g. " + ", ".join(
        f"{w.text!r} {w.height / BOX_PER_PT:.1f} pt (page {w.page})" for w in small[:5])
    # Every long text in full: the PDF's text (in drawing order, each cell's lines together)
    # holds it, white space aside.
    printed = _squeeze(subprocess.run(["pdftotext", "-raw", str(pdf), "-"], check=True,
                                      capture_output=True, text=True).stdout)
    if name in ("minutes", "minutes-hi", "bottleneck-report"):
        ARTIFACTS.mkdir(exist_ok=True)
        for old in ARTIFACTS.glob(f"print-{name}-*.png"):
            old.unlink()
        printing.to_png(pdf, ARTIFACTS / f"print-{name}", resolution=60, first=1, last=2)
    long_texts = _long_texts(response.data)
    cut = [t for t in long_texts if _squeeze(t) not in printed]
    if cut and __import__("os").environ.get("PRINT_DEBUG"):
        t = _squeeze(cut[0])
        k = max(i for i in range(len(t) + 1) if t[:i] in printed)
        i = printed.index(t[:k])
        print("\nEXPECTED", t[k - 10:k + 40], "\nPRINTED ", printed[i + k - 10:i + k + 40])
    assert not cut, f"{name}: {len(cut)} long texts not printed in full, e.g. {cut[0]!r}"
    # Hindi in Devanagari, not boxes: a Devanagari font is embedded wherever Hindi is printed.
    if re.search("[\u0900-\u097f]", "".join(pages)):
        assert re.search(r"Lohit|Devanagari|Mangal|Nirmala|Noto\w*Deva", _fonts(pdf)), (
            f"{name}: Hindi printed without a Devanagari font:\n{_fonts(pdf)}")


def test_print_tools_skip_or_fail_clearly(monkeypatch):
    """Without LibreOffice the print test says what is missing and how to install it."""
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert printing.missing_tools() == list(printing.TOOLS)
