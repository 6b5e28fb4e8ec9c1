"""The dashboard pages as users see them: tiles, figures' JSON, tables, filters in the URL,
the records behind a number, downloads, the nodal officer's view and the query count."""
import csv
import io
import re
from datetime import timedelta

import openpyxl
import pytest

from models import Department
from tests import dashboard_data, factories
from tests.dashboard_data import parse, texts, trace
from tracker import clock
from tracker.extensions import db


@pytest.fixture
def known(app):
    today = clock.today()
    return today, dashboard_data.build(today)


def _get(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return response


def test_secretary_dashboard_figures_and_tables(known, as_user):
    today, k = known
    client = as_user(factories.user("secretary"))
    html = _get(client, "/dashboard/").get_data(as_text=True)
    page = parse(html)

    # Tiles
    assert 'data-tile="milestones-overdue"' in html
    tile = html.split('data-tile="milestones-overdue"')[1].split("</li>")[0]
    assert '<span class="tile-number">2</span>' in tile and "Overdue" in tile
    plans = html.split('data-tile="plans-missing"')[1].split("</li>")[0]
    assert '<span class="tile-number">1</span>' in plans
    online = html.split('data-tile="services-online"')[1].split("</li>")[0]
    assert "75%" in online and "3 of 4" in online
    integrated = html.split('data-tile="services-integrated"')[1].split("</li>")[0]
    assert "50%" in integrated and "2 of 4" in integrated
    critical = html.split('data-tile="bottlenecks-critical"')[1].split("</li>")[0]
    assert '<span class="tile-number">1</span>' in critical and "median age 70 days" in critical
    everything = html.split('data-tile="bottlenecks-all"')[1].split("</li>")[0]
    assert '<span class="tile-number">4</span>' in everything and "median age 32.5 days" in everything

    # 1 health: figure JSON and its table
    figure = page.json_blocks["figure-health"]
    assert trace(figure, "Overdue")["x"] == [2, 0, 0]
    assert trace(figure, "Done")["x"] == [2, 0, 0]
    assert trace(figure, "Overdue")["y"] == ["Health", "Public Works", "Rural Development"]
    table = texts(page.tables["table-health"])
    assert table[0] == ["Department", "Overdue", "At risk", "On track", "Done", "Dropped", "Total"]
    assert table[1] == ["Health", "2", "1", "1", "2", "1", "7"]
    assert table[2] == ["Public Works", "0", "1", "1", "0", "0", "2"]

    # 3 bottleneck ageing
    figure = page.json_blocks["figure-bottlenecks"]
    assert trace(figure, "Critical")["y"] == [0, 0, 0, 1]
    assert trace(figure, "High")["y"] == [1, 0, 0, 0]
    rows = texts(page.tables["table-bottlenecks"])
    assert rows[-1] == ["Median age (days)", "70", "3", "20", "45", "32.5"]
    assert rows[-2] == ["All ages", "1", "1", "1", "1", "4"]

    # 4 services
    figure = page.json_blocks["figure-services"]
    assert trace(figure, "Integrated with the portal")["x"] == [1, 1]
    rows = texts(page.tables["table-services"])
    assert rows[-1] == ["All departments", "1", "1", "2", "4", "75.0", "50.0"]

    # 5 progress: totals over the months
    figure = page.json_blocks["figure-progress"]
    assert sum(trace(figure, "Actually done")["y"]) == 2
    assert sum(trace(figure, "Planned to be done")["y"]) == 8

    # 6 scorecard
    figure = page.json_blocks["figure-scorecard"]
    assert figure["data"][0]["y"] == ["Health", "Public Works", "Rural Development"]
    assert figure["data"][0]["x"][0] == 25.0
    rows = texts(page.tables["table-scorecard"])
    assert rows[1] == ["1", "Health", "25%", "1", "4", "7.8", "1", "2", "1", "1", "–", "0"]

    # 2 timeline: a today line and the count shown
    figure = page.json_blocks["figure-timeline"]
    assert figure["layout"]["shapes"][0]["x0"] == today.isoformat()
    assert "Showing 6 of 6 open milestones" in html


def test_every_chart_has_title_axes_table_and_downloads(known, as_user):
    client = as_user(factories.user("viewer"))
    html = _get(client, "/dashboard/").get_data(as_text=True)
    page = parse(html)
    for name in ("health", "timeline", "bottlenecks", "services", "progress", "scorecard"):
        figure = page.json_blocks[f"figure-{name}"]
        layout = figure["layout"]
        assert layout["title"]["text"], name
        assert layout["xaxis"]["title"]["text"] and layout["yaxis"]["title"]["text"], name
        assert f'id="chart-{name}"' in html and f'data-figure="figure-{name}"' in html
        table_html = html.split(f'<table id="table-{name}">')[1].split("</table>")[0]
        assert "<caption>" in table_html and 'scope="col"' in table_html
        assert 'scope="row"' in table_html
        assert f"/dashboard/{name}.csv" in html and f"/dashboard/{name}.xlsx" in html
        for t in figure["data"]:
            assert t["name"], name  # a text label in the legend, not colour alone


def test_filters_live_in_the_url_and_change_every_figure(known, as_user):
    today, k = known
    client = as_user(factories.user("secretary"))
    html = _get(client, "/dashboard/?department=pwd").get_data(as_text=True)
    page = parse(html)
    assert trace(page.json_blocks["figure-health"], "At risk")["y"] == ["Public Works"]
    assert trace(page.json_blocks["figure-bottlenecks"], "High")["y"] == [1, 0, 0, 0]
    assert trace(page.json_blocks["figure-bottlenecks"], "Critical")["y"] == [0, 0, 0, 0]
    assert texts(page.tables["table-scorecard"])[1][1] == "Public Works"
    assert len(texts(page.tables["table-scorecard"])) == 2
    assert '<option selected value="pwd">' in html or 'value="pwd" selected' in html
    # Links keep the filters: a number opens the records of that department.
    assert "/dashboard/records?department=pwd&amp;health=at_risk" in html
    assert "/dashboard/health.csv?department=pwd" in html

    html = _get(client, "/dashboard/?category=website_update").get_data(as_text=True)
    page = parse(html)
    assert trace(page.json_blocks["figure-health"], "On track")["x"] == [1, 0, 0]
    assert sum(trace(page.json_blocks["figure-health"], "Overdue")["x"]) == 0

    start = (today - timedelta(days=7)).isoformat()
    html = _get(client, f"/dashboard/?period=custom&from={start}&to={today.isoformat()}")
    page = parse(html.get_data(as_text=True))
    assert trace(page.json_blocks["figure-health"], "Overdue")["x"][0] == 2
    assert trace(page.json_blocks["figure-health"], "On track")["x"][0] == 0


def test_bad_filters_are_shown_beside_their_field(known, as_user):
    today, k = known
    client = as_user(factories.user("secretary"))
    response = client.get(f"/dashboard/?period=custom&from={today.isoformat()}"
                          f"&to={(today - timedelta(days=1)).isoformat()}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "The end date must not be before the start date." in html
    assert 'id="to-error"' in html and f'value="{today.isoformat()}"' in html
    assert client.get("/dashboard/?department=nowhere").status_code == 400
    assert client.get("/dashboard/?category=nonsense").status_code == 400


def test_a_number_opens_the_records_behind_it(known, as_user):
    client = as_user(factories.user("secretary"))
    html = _get(client, "/dashboard/").get_data(as_text=True)
    table = parse(html).tables["table-health"]
    overdue_cell = table[1][1]
    assert overdue_cell[0] == "2"
    records = parse(_get(client, overdue_cell[1]).get_data(as_text=True)).tables["records"]
    assert [row[0][0] for row in records[1:]] == ["M3", "M4"]
    # Each milestone links to its own page (where it is updated), each bottleneck to its own.
    assert all(re.fullmatch(r"/milestones/\d+", row[1][1]) for row in records[1:])
    bottlenecks = _get(client, "/dashboard/records?kind=bottlenecks&age=31-60&age=60%2B"
                               "&department=health").get_data(as_text=True)
    rows = parse(bottlenecks).tables["records"][1:]
    assert sorted(r[3][0] for r in rows) == ["Critical", "Low"]
    assert all(re.fullmatch(r"/bottlenecks/\d+", r[0][1]) for r in rows)
    done = parse(_get(client, "/dashboard/records?on_time=1").get_data(as_text=True))
    assert [r[0][0] for r in done.tables["records"][1:]] == ["M1"]
    websites = parse(_get(client, "/dashboard/records?kind=websites&certificate=expired")
                     .get_data(as_text=True))
    assert [r[4][0] for r in websites.tables["records"][1:]] == ["Expired"]
    services = parse(_get(client, "/dashboard/records?kind=services&mode=integrated")
                     .get_data(as_text=True))
    assert len(services.tables["records"]) == 3  # header + health and pwd (not the unnotified)
    assert client.get("/dashboard/records?health=bad").status_code == 400
    assert client.get("/dashboard/records?kind=bad").status_code == 400


def test_records_are_paged(app, as_user):
    today = clock.today()
    plan = factories.plan(department=factories.department("big"), status="approved")
    for i in range(55):
        factories.milestone(plan=plan, today=today, code=f"B-{i:02d}", commit=False,
                            start_date=today - timedelta(days=90),
                            due_date=today - timedelta(days=60 - i))
    db.session.commit()
    client = as_user(factories.user("nic"))
    first = _get(client, "/dashboard/records?health=overdue").get_data(as_text=True)
    assert "55 records" in first and "page 1 of 2" in first
    assert len(parse(first).tables["records"]) == 51
    second = _get(client, "/dashboard/records?health=overdue&page=2").get_data(as_text=True)
    assert [r[0][0] for r in parse(second).tables["records"][1:]] == [f"B-{i}" for i in range(50, 55)]
    assert client.get("/dashboard/records?health=overdue&page=3").status_code == 404


def test_csv_download_has_the_numbers_and_neutralises_formulas(app, as_user):
    today = clock.today()
    evil = factories.department("evil", name="=HYPERLINK(\"http://x\",\"y\")")
    plan = factories.plan(department=evil, status="approved")
    factories.milestone(plan=plan, today=today, due_date=today - timedelta(days=1))
    client = as_user(factories.user("secretary"))
    response = _get(client, "/dashboard/health.csv")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["Department", "Overdue", "At risk", "On track", "Done", "Dropped", "Total"]
    assert rows[1] == ["'=HYPERLINK(\"http://x\",\"y\")", "1", "0", "0", "0", "0", "1"]


def test_excel_download_writes_text_as_text(app, as_user):
    today = clock.today()
    evil = factories.department("evil", name="@SUM(A1:A9)")
    factories.department("plain", name="-Plain")
    factories.service(department=evil, delivery_mode="integrated")
    client = as_user(factories.user("secretary"))
    response = _get(client, "/dashboard/services.xlsx?department=evil")
    wb = openpyxl.load_workbook(io.BytesIO(response.data))
    ws = wb.active
    assert ws["A1"].value.startswith("PSGA-notified services")
    assert "@SUM(A1:A9)" in ws["A2"].value
    header = [c.value for c in ws[4]]
    assert header[:4] == ["Department", "Offline", "Online (standalone)", "Integrated with the portal"]
    name_cell = ws["A5"]
    assert name_cell.value == "@SUM(A1:A9)" and name_cell.data_type == "s"
    assert [c.value for c in ws[5]][1:5] == [0, 0, 1, 1]
    assert ws.freeze_panes == "A5"


def test_downloads_follow_the_filters_and_permissions(known, as_user):
    today, k = known
    nodal = factories.user("nodal", department=k.pwd)
    client = as_user(nodal)
    rows = list(csv.reader(io.StringIO(
        _get(client, "/dashboard/health.csv").get_data(as_text=True).lstrip("\ufeff"))))
    assert [r[0] for r in rows[1:]] == ["Public Works"]
    assert client.get("/dashboard/health.csv?department=health").status_code == 404


def test_nodal_officer_sees_their_department_flags_and_due_soon(known, as_user):
    today, k = known
    factories.flag(kind="milestone_at_risk", subject_id=k.milestones["m9"].id,
                   department=k.pwd, severity="critical", details={"label": "M9 · Road permits late"})
    factories.flag(kind="milestone_overdue", subject_id=k.milestones["m3"].id,
                   department=k.health, details={"label": "Not mine"})
    cleared = factories.flag(kind="website_stale", subject_type="asset", subject_id=1,
                             department=k.pwd, details={"label": "Already cleared"})
    cleared.cleared_at = cleared.raised_at
    db.session.commit()
    client = as_user(factories.user("nodal", department=k.pwd))
    html = _get(client, "/dashboard/").get_data(as_text=True)
    page = parse(html)
    assert "Dashboard: Public Works" in html
    tile = html.split('data-tile="milestones-at_risk"')[1].split("</li>")[0]
    assert '<span class="tile-number">1</span>' in tile
    flags = texts(page.tables["table-flags"])
    assert len(flags) == 2 and flags[1][:2] == ["M9 · Road permits late", "Milestone at risk"]
    assert f'href="/milestones/{k.milestones["m9"].id}#update-title"' in html
    # A milestone's link is its own page, not the records list of one.
    assert f'href="/milestones/{k.milestones["m8"].id}"' in html and "milestone=" not in html
    assert "Not mine" not in html and "Already cleared" not in html
    soon = texts(page.tables["table-due-soon"])
    assert [r[0] for r in soon[1:]] == ["M8"]  # due in 20 days; m9 is due in 90
    timeline = page.json_blocks["figure-timeline"]
    labels = {y for t in timeline["data"] for y in t["y"]}
    assert labels == {"M8 · Public Works", "M9 · Public Works"}
    assert "Health" not in texts(page.tables["table-timeline"])[1]
    # Another department's dashboard or records are not theirs to see.
    assert client.get("/dashboard/?department=health").status_code == 404
    assert client.get("/dashboard/records?department=health").status_code == 404
    records = parse(_get(client, "/dashboard/records?health=overdue").get_data(as_text=True))
    assert len(records.tables["records"]) == 2  # header + "No milestones match."
    assert "No milestones match." in records.tables["records"][1][0][0]


def test_plotly_is_served_by_the_app(as_user, app):
    client = as_user(factories.user("secretary"))
    html = _get(client, "/dashboard/").get_data(as_text=True)
    src = next(s["src"] for s in parse(html).scripts if "plotly" in (s.get("src") or ""))
    assert src.startswith("/dashboard/assets/plotly-")
    response = _get(client, src)
    assert response.mimetype == "text/javascript"
    assert b"plotly" in response.data[:2000].lower()
    assert "/static/js/dashboard.js" in html


def test_dashboard_query_count_does_not_grow_with_milestones(app, as_user, count_queries):
    today = clock.today()
    client = as_user(factories.user("secretary"))

    def add_department(n):
        dept = factories.department(f"q{n}", commit=False)
        plan = factories.plan(department=dept, status="approved", commit=False)
        for i in range(n):
            m = factories.milestone(plan=plan, today=today, commit=False, baseline_due=today,
                                    due_date=today + timedelta(days=i - 5))
            factories.bottleneck(milestone=m, severity="high", raised_on=today - timedelta(days=i),
                                 commit=False)
        factories.service(department=dept, commit=False)
        factories.asset(department=dept, audit_valid_until=today, commit=False)
        db.session.commit()

    def queries(url):
        _get(client, url)  # warm-up: the signed-in user and settings are loaded once
        with count_queries() as statements:
            _get(client, url)
        return len(statements)

    add_department(2)
    few = {url: queries(url) for url in ("/dashboard/", "/dashboard/records?health=overdue",
                                         "/dashboard/scorecard.csv")}
    assert few["/dashboard/"] <= 14
    for n in (20, 30):
        add_department(n)
    many = {url: queries(url) for url in few}
    assert many == few

    own = db.session.execute(db.select(Department).filter_by(code="q2")).scalar_one()
    nodal = factories.user("nodal", department=own)
    client.post("/sign-out")
    as_user(nodal)
    nodal_few = queries("/dashboard/")
    add_department(25)
    assert queries("/dashboard/") == nodal_few


def test_the_dashboard_is_in_the_navigation(as_user, app):
    client = as_user(factories.user("viewer"))
    html = _get(client, "/").get_data(as_text=True)
    assert 'href="/dashboard/"' in html


def test_signed_out_users_are_sent_to_sign_in(client, app):
    assert client.get("/dashboard/").status_code == 302
    assert client.get("/dashboard/records").status_code == 302
    assert client.get("/dashboard/health.csv").status_code == 302


def test_nodal_due_list_holds_the_overdue_too(app, as_user):
    today = clock.today()
    dept = factories.department("pwd", name="Public Works")
    plan = factories.plan(department=dept, status="approved")
    factories.milestone(plan=plan, code="P-1", today=today, start_date=today - timedelta(days=90),
                        due_date=today - timedelta(days=19))
    factories.milestone(plan=plan, code="P-2", today=today, due_date=today + timedelta(days=200))
    client = as_user(factories.user("nodal", department=dept))
    page = parse(_get(client, "/dashboard/").get_data(as_text=True))
    soon = texts(page.tables["table-due-soon"])
    assert [r[0] for r in soon[1:]] == ["P-1"]  # overdue: not "0 of 0"
    records = _get(client, "/dashboard/records?due_soon=1").get_data(as_text=True)
    assert "P-1" in records and "P-2" not in records
    records = _get(client, "/dashboard/records?upcoming=1").get_data(as_text=True)
    assert "P-1" not in records
