"""Export this list: every filtering list page offers Excel and CSV of exactly what is filtered,
all rows (not just the page), formula-safe, in the reader's words."""
import csv
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from tests import factories
from tracker import clock


def _csv(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def _xlsx(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert "attachment" in response.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(response.data))
    ws = wb.worksheets[0]
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    header = next(i for i, r in enumerate(rows) if r and r[0] == "Department")
    return rows[header], [r for r in rows[header + 1:] if any(v is not None for v in r)], ws


@pytest.fixture
def bottlenecks(app):
    today = clock.today()
    health = factories.department("health", name="Health")
    pwd = factories.department("pwd", name="Public Works")
    for n in range(60):  # more than a page
        factories.bottleneck(department=health, title=f"Health bottleneck {n:02d}",
                             severity="high", raised_on=today - timedelta(days=n))
    factories.bottleneck(department=health, title="=HYPERLINK(\"http://evil\")", severity="low",
                         raised_on=today)
    factories.bottleneck(department=pwd, title="Road bottleneck", severity="high",
                         raised_on=today)
    return factories.user("secretary")


def test_bottlenecks_as_filtered_every_row_as_csv_and_excel(bottlenecks, as_user):
    client = as_user(bottlenecks)
    page = client.get("/bottlenecks?department=health&severity=high").get_data(as_text=True)
    assert "format=xlsx" in page and "format=csv" in page and "severity=high" in page
    rows = _csv(client.get("/bottlenecks?department=health&severity=high&format=csv&page=2"))
    assert rows[0][:3] == ["Department", "Milestone", "Bottleneck"]
    assert len(rows) == 61 and {r[0] for r in rows[1:]} == {"Health"}
    assert rows[1][4] == "High" and rows[1][6].count("-") == 2 and rows[1][6][2] == "-"
    header, data, ws = _xlsx(client.get("/bottlenecks?department=health&severity=high&format=xlsx"))
    assert header[:3] == ["Department", "Milestone", "Bottleneck"] and len(data) == 60
    assert ws.freeze_panes and ws.auto_filter.ref


def test_a_formula_is_text_in_both_files(bottlenecks, as_user):
    client = as_user(bottlenecks)
    rows = _csv(client.get("/bottlenecks?severity=low&format=csv"))
    assert rows[1][2] == "'=HYPERLINK(\"http://evil\")"
    header, data, ws = _xlsx(client.get("/bottlenecks?severity=low&format=xlsx"))
    cell = next(c for row in ws.iter_rows() for c in row if c.value and "HYPERLINK" in str(c.value))
    assert cell.data_type == "s" and cell.quotePrefix


def test_a_nodal_officer_exports_only_their_department(bottlenecks, as_user, app):
    from models import Department
    from tracker.extensions import db

    pwd = db.session.execute(db.select(Department).filter_by(code="pwd")).scalar_one()
    client = as_user(factories.user("nodal", department=pwd))
    rows = _csv(client.get("/bottlenecks?format=csv"))
    assert [r[2] for r in rows[1:]] == ["Road bottleneck"]


@pytest.fixture
def roadmap(app):
    today = clock.today()
    dept = factories.department("health", name="Health")
    plan = factories.plan(department=dept, status="approved")
    for n in range(3):
        factories.milestone(plan=plan, code=f"H-0{n}", title=f"Overdue thing {n}", today=today,
                            due_date=today - timedelta(days=5 + n))
    factories.milestone(plan=plan, code="H-09", title="Later thing", today=today,
                        due_date=today + timedelta(days=90))
    factories.service(department=dept, name="Birth certificate", psga_notified=True)
    factories.asset(department=dept, name="Health portal")
    factories.bottleneck(department=dept, title="Funds awaited", severity="critical")
    return factories.user("secretary")


@pytest.mark.parametrize("path, first_header, expected", [
    ("/dashboard/records?kind=milestones&health=overdue", "Code", 3),
    ("/dashboard/records?kind=bottlenecks", "Bottleneck", 1),
    ("/services/", "Department", 1),
    ("/websites/", "Department", 1),
    ("/meetings/action-items", "Decision", 0),
    ("/audit", "When", None),
])
def test_every_list_exports_what_it_shows(roadmap, as_user, path, first_header, expected):
    client = as_user(roadmap)
    page = client.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "format=xlsx" in html and "format=csv" in html
    sep = "&" if "?" in path else "?"
    rows = _csv(client.get(f"{path}{sep}format=csv"))
    assert rows[0][0] == first_header
    if expected is not None:
        assert len(rows) - 1 == expected, rows
    response = client.get(f"{path}{sep}format=xlsx")
    assert response.status_code == 200 and response.data[:2] == b"PK"
    wb = load_workbook(io.BytesIO(response.data))
    values = [[c.value for c in r] for r in wb.worksheets[0].iter_rows()]
    assert [first_header] == [r[0] for r in values if r and r[0] == first_header]
    # No ISO date anywhere in what a person reads.
    text = "\n".join(",".join(r) for r in rows)
    import re
    assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", text), text


def test_flags_export(roadmap, as_user, app):
    from jobs import scan
    from models.base import utcnow
    from tracker.settings import thresholds

    scan.scan(clock.today(), utcnow(), thresholds())
    client = as_user(roadmap)
    rows = _csv(client.get("/flags/?kind=milestone_overdue&format=csv"))
    assert rows[0][:2] == ["Flag", "About"]
    assert sorted(r[1] for r in rows[1:]) == ["H-00 · Overdue thing 0", "H-01 · Overdue thing 1",
                                              "H-02 · Overdue thing 2"]
