"""Dependencies between milestones and forecasts: cycles refused (by the page, the import
and the API) with their members named; a predecessor's slip flags its successor on the next
scan and the flag clears when resolved; the forecast's words on the milestone page; the
Python and set-based forms agree."""
import io
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from exports.plan_template import plan_template_workbook
from jobs.scan import scan
from models import AuditLog, Flag, Milestone, MilestoneDependency
from tests import factories
from tests.api.conftest import api  # noqa: F401  (the API client fixture)
from tracker import forecast as fc
from tracker import rules
from tracker.extensions import db
from tracker.settings import Thresholds

TODAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 6, 0)


@pytest.fixture
def world(app, monkeypatch):
    monkeypatch.setattr("tracker.clock.today", lambda: TODAY)
    fish = factories.department("fish", name="Fisheries")
    pwd = factories.department("pwd", name="Public Works")
    fish_plan = factories.plan(department=fish, status="approved")
    pwd_plan = factories.plan(department=pwd, status="approved")
    f8 = factories.milestone(plan=fish_plan, code="FISH-08", title="Online fishing licence",
                             today=TODAY)
    p3 = factories.milestone(plan=pwd_plan, code="PWD-03", title="Network to the district",
                             today=TODAY)
    return dict(fish=fish, pwd=pwd, f8=f8, p3=p3,
                nic=factories.user("nic"),
                nodal_fish=factories.user("nodal", department=fish),
                nodal_pwd=factories.user("nodal", department=pwd))


def _deps():
    return db.session.execute(sa.select(MilestoneDependency.predecessor_id,
                                        MilestoneDependency.successor_id)).all()


# --- Cycles refused, with their members named ------------------------------------------------


def test_the_page_adds_a_dependency_and_refuses_a_cycle_naming_it(world, as_user):
    f8, p3 = world["f8"], world["p3"]
    client = as_user(world["nodal_fish"])
    response = client.post(f"/milestones/{f8.id}/dependencies", data={"predecessor": "PWD-03"})
    assert response.status_code == 303
    page = client.get(f"/milestones/{f8.id}").get_data(as_text=True)
    assert "PWD-03 · Network to the district" in page and "Public Works" in page
    assert _deps() == [(p3.id, f8.id)]
    entry = db.session.execute(sa.select(AuditLog).filter_by(action="add_dependency")).scalar_one()
    assert entry.entity_id == f8.id and entry.changes == {"predecessor": [None, "PWD-03"]}

    # The nodal officer of Public Works may not make PWD-03 wait for anything of theirs... in
    # Fisheries' place: they may edit PWD-03, and FISH-08 → PWD-03 would close the circle.
    client.post("/sign-out")
    client = as_user(world["nodal_pwd"])
    response = client.post(f"/milestones/{p3.id}/dependencies", data={"predecessor": "FISH-08"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "FISH-08 → PWD-03 → FISH-08" in page
    assert _deps() == [(p3.id, f8.id)]

    # A milestone of another department may not be given a dependency by this officer.
    assert client.post(f"/milestones/{f8.id}/dependencies",
                       data={"predecessor": "PWD-03"}).status_code == 404


def test_the_page_removes_a_dependency_and_names_unknown_codes(world, as_user):
    f8, p3 = world["f8"], world["p3"]
    client = as_user(world["nic"])
    response = client.post(f"/milestones/{f8.id}/dependencies", data={"predecessor": "NOPE-1"})
    assert response.status_code == 422
    assert "No milestone has the code NOPE-1." in response.get_data(as_text=True)
    client.post(f"/milestones/{f8.id}/dependencies", data={"predecessor": "pwd:pwd-03"})
    assert _deps() == [(p3.id, f8.id)]
    response = client.post(f"/milestones/{f8.id}/dependencies/{p3.id}/remove")
    assert response.status_code == 303 and _deps() == []
    assert db.session.execute(
        sa.select(AuditLog).filter_by(action="remove_dependency")).scalar_one()


def _template(rows, codes=(("fish", "Fisheries"), ("pwd", "Public Works"))):
    at = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
    wb = load_workbook(io.BytesIO(plan_template_workbook(list(codes), at)))
    ws = wb["Milestones"]
    for i, row in enumerate(rows, start=5):
        for j, value in enumerate(row, start=1):
            ws.cell(row=i, column=j, value=value)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _row(dept, code, depends_on=None):
    return (dept, code, f"Milestone {code}", None, "Infrastructure", None, date(2026, 12, 1),
            date(2027, 3, 31), "Not started", 0, None, depends_on)


def _upload(client, data):
    return client.post("/reports/import", data={"file": (io.BytesIO(data), "plan.xlsx")},
                       content_type="multipart/form-data")


def test_the_import_sets_dependencies_and_refuses_a_cycle_whole(world, as_user):
    f8, p3 = world["f8"], world["p3"]
    client = as_user(world["nic"])
    # New milestones waiting for each other and for an existing one: applied.
    response = _upload(client, _template([_row("fish", "FISH-09", "FISH-08, pwd:PWD-03"),
                                          _row("fish", "FISH-10", "FISH-09")]))
    assert response.status_code == 200, response.get_data(as_text=True)
    token = response.get_data(as_text=True).split("/reports/import/")[1].split("/apply")[0]
    assert client.post(f"/reports/import/{token}/apply").status_code == 302
    codes = dict(db.session.execute(sa.select(Milestone.id, Milestone.code)).all())
    assert sorted((codes[p], codes[s]) for p, s in _deps()) == [
        ("FISH-08", "FISH-09"), ("FISH-09", "FISH-10"), ("PWD-03", "FISH-09")]

    # A plan that closes a circle through the database is refused whole, naming the row,
    # the column and the circle; nothing changes.
    before = _deps()
    response = _upload(client, _template([_row("pwd", "PWD-03", "FISH-10"),
                                          _row("pwd", "PWD-04", "PWD-03")]))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "L (Depends on)" in page
    assert "FISH-10 → PWD-03 → FISH-09 → FISH-10" in page
    assert sorted(_deps()) == sorted(before)
    assert db.session.execute(sa.select(Milestone).filter_by(code="PWD-04")).first() is None

    # An unknown code is named with its row and column.
    response = _upload(client, _template([_row("fish", "FISH-11", "FISH-99")]))
    assert response.status_code == 422
    assert "&#39;FISH-99&#39; is not the code of any milestone" in response.get_data(as_text=True)


def test_the_api_lists_adds_removes_and_refuses_a_cycle(world, api):
    f8, p3 = world["f8"], world["p3"]
    client = api(world["nic"])
    response = client.post(f"/milestones/{f8.id}/dependencies", json={"predecessor": "PWD-03"})
    assert response.status_code == 201, response.json
    assert [p["code"] for p in response.json["predecessors"]] == ["PWD-03"]
    listed = client.get(f"/milestones/{p3.id}/dependencies").json
    assert [s["code"] for s in listed["successors"]] == ["FISH-08"]

    response = client.post(f"/milestones/{p3.id}/dependencies", json={"predecessor": "FISH-08"})
    assert response.status_code == 422
    assert "FISH-08 → PWD-03 → FISH-08" in response.json["error"]["fields"]["predecessor"]
    assert response.json["error"]["code"] == "validation_error"

    nodal = api(world["nodal_pwd"])
    assert nodal.post(f"/milestones/{f8.id}/dependencies",
                      json={"predecessor": "PWD-03"}).status_code == 404
    response = client._call("delete", f"/milestones/{f8.id}/dependencies/{p3.id}")
    assert response.status_code == 200 and response.json["predecessors"] == []
    assert client._call("delete", f"/milestones/{f8.id}/dependencies/{p3.id}").status_code == 404


# --- The scan: at risk from its predecessor ------------------------------------------------------


def _open_flags(kind):
    return db.session.execute(sa.select(Flag).where(Flag.kind == kind,
                                                    Flag.cleared_at.is_(None))).scalars().all()


def test_a_predecessors_slip_flags_its_successor_and_clears_when_resolved(world, as_user):
    f8, p3 = world["f8"], world["p3"]
    f8.start_date, f8.due_date = TODAY + timedelta(days=10), TODAY + timedelta(days=60)
    p3.due_date, p3.percent_complete = TODAY + timedelta(days=5), 90
    db.session.add(MilestoneDependency(predecessor_id=p3.id, successor_id=f8.id))
    db.session.commit()
    t = Thresholds()
    scan(TODAY, NOW, t)
    assert _open_flags("predecessor_at_risk") == []

    # PWD-03's due date moves past FISH-08's start: the next scan flags FISH-08, naming it.
    p3.due_date = TODAY + timedelta(days=20)
    db.session.commit()
    scan(TODAY, NOW, t)
    flag, = _open_flags("predecessor_at_risk")
    assert flag.subject_id == f8.id and flag.department_id == world["fish"].id
    assert flag.details["predecessor"] == "PWD-03 · Network to the district"
    page = as_user(world["nic"]).get(f"/flags/{flag.id}").get_data(as_text=True)
    assert "At risk from its predecessor" in page and "PWD-03 · Network to the district" in page

    # Due in time again but forecast (from a slow record) to finish after FISH-08's start:
    # still at risk.
    p3.due_date = TODAY + timedelta(days=5)
    p3.start_date, p3.percent_complete = TODAY - timedelta(days=10), 0
    _completed(p3.plan, 6, 3.0, category=p3.category)
    db.session.commit()
    scan(TODAY, NOW, t)
    assert [f.subject_id for f in _open_flags("predecessor_at_risk")] == [f8.id]

    # Completed: the next scan clears it.
    p3.status, p3.percent_complete, p3.completed_on = "completed", 100, TODAY
    db.session.commit()
    scan(TODAY, NOW, t)
    assert _open_flags("predecessor_at_risk") == []

    # An overdue predecessor flags a successor without a start date too.
    p3.status, p3.percent_complete, p3.completed_on = "in_progress", 50, None
    p3.due_date, f8.start_date = TODAY - timedelta(days=1), None
    db.session.commit()
    scan(TODAY + timedelta(days=1), NOW, t)
    assert [f.subject_id for f in _open_flags("predecessor_at_risk")] == [f8.id]


# --- Forecasts ---------------------------------------------------------------------------------


def _completed(plan, n, ratio, category="infrastructure"):
    for i in range(n):
        start = TODAY - timedelta(days=400 + 10 * i)
        factories.milestone(plan=plan, code=f"DONE-{plan.department.code}-{category[:3]}-{i}",
                            category=category, status="completed", start_date=start,
                            due_date=start + timedelta(days=100),
                            baseline_due=start + timedelta(days=100),
                            completed_on=start + timedelta(days=round(100 * ratio)),
                            today=TODAY)


def test_the_forecast_and_its_words_on_the_milestone_page(world, as_user):
    p3 = world["p3"]
    _completed(p3.plan, 6, 1.4)
    p3.category, p3.start_date = "infrastructure", TODAY - timedelta(days=70)
    p3.due_date = p3.baseline_due = TODAY + timedelta(days=30)
    p3.percent_complete = 60
    db.session.commit()
    f = fc.forecast_for(p3, TODAY)
    assert f.history.ratio == pytest.approx(1.4) and f.history.count == 6
    assert f.on > p3.due_date
    page = as_user(world["nic"]).get(f"/milestones/{p3.id}").get_data(as_text=True)
    assert "Forecast finish" in page
    assert ("Public Works finishes its infrastructure milestones in 1.4× their planned time "
            "(6 milestones).") in page
    assert "60 % done at 70 % of the planned time." in page
    assert f.on.strftime("%d-%m-%Y") in page

    # Too little history: said so, and the forecast is the due date.
    f8 = world["f8"]
    f8.percent_complete = 0
    db.session.commit()
    page = as_user(world["nic"]).get(f"/milestones/{f8.id}").get_data(as_text=True)
    assert "Too little history: Fisheries has 0 completed milestones with dates (5 needed)" in page
    assert fc.forecast_for(f8, TODAY).on == f8.due_date

    # A successor waits for its predecessor's forecast.
    db.session.add(MilestoneDependency(predecessor_id=p3.id, successor_id=f8.id))
    db.session.commit()
    f = fc.forecast_for(f8, TODAY)
    assert f.waits_for == ("PWD-03", fc.forecast_for(p3, TODAY).on) and f.on > f8.due_date
    page = as_user(world["nic"]).get(f"/milestones/{f8.id}").get_data(as_text=True)
    assert "Waits for PWD-03, forecast to finish on" in page


def test_a_milestone_past_its_expected_finish_with_nothing_done_is_not_forecast_for_today(
        world, as_user):
    p3, f8 = world["p3"], world["f8"]
    _completed(p3.plan, 6, 1.5)
    p3.category, p3.start_date = "infrastructure", TODAY - timedelta(days=300)
    p3.due_date = p3.baseline_due = TODAY - timedelta(days=240)  # planned 60 days, expected 90
    p3.percent_complete = 0
    db.session.add(MilestoneDependency(predecessor_id=p3.id, successor_id=f8.id))
    db.session.commit()
    f = fc.forecast_for(p3, TODAY)
    assert f.on == TODAY + timedelta(days=90) and f.left_days == 90
    page = as_user(world["nic"]).get(f"/milestones/{p3.id}").get_data(as_text=True)
    assert ("Not finished and past its expected finish: the work left (90 days at its pace) "
            "is counted from today.") in page
    assert "18-02-2027" in page  # 20-11-2026 + 90 days
    # Its successor waits for that work, then does its own.
    after = fc.forecast_for(f8, TODAY)
    assert after.waits_for == ("PWD-03", TODAY + timedelta(days=90))
    assert after.on > TODAY + timedelta(days=90)

    # Half done: only the half left (of the duration its progress now points to: 300 days
    # for half, blended with the record's 90) is counted from today.
    p3.percent_complete = 50
    db.session.commit()
    f = fc.forecast_for(p3, TODAY)
    assert f.expected_days == pytest.approx(90 + 0.25 * (600 - 90))
    assert f.left_days == 109 and f.on == TODAY + timedelta(days=109)


def test_the_scan_flags_a_forecast_to_slip_before_the_due_date(world):
    p3 = world["p3"]
    _completed(p3.plan, 6, 2.0)
    p3.category, p3.start_date = "infrastructure", TODAY - timedelta(days=10)
    p3.due_date = p3.baseline_due = TODAY + timedelta(days=90)
    p3.percent_complete = 0
    db.session.commit()
    scan(TODAY, NOW, Thresholds(forecast_margin_days=7))
    flag, = _open_flags("forecast_to_slip")
    assert flag.subject_id == p3.id
    assert flag.details["forecast"] == (p3.start_date + timedelta(days=200)).isoformat()
    scan(TODAY, NOW, Thresholds(forecast_margin_days=500))
    assert _open_flags("forecast_to_slip") == []


# --- Python and set-based forms agree -------------------------------------------------------------

AGREE = settings(max_examples=40, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
CATEGORIES = ("infrastructure", "website_update")


@st.composite
def milestone_data(draw):
    status = draw(st.sampled_from(("not_started", "in_progress", "blocked", "completed",
                                   "dropped")))
    start = draw(st.one_of(st.none(), st.integers(-300, 30)))
    due = (start if start is not None else -100) + draw(st.integers(0, 200))
    baseline = draw(st.one_of(st.none(), st.integers(due - 60, due + 30)))
    completed = None
    if status == "completed":
        completed = draw(st.integers(-400, 0))
        completed = max(completed, start) if start is not None else completed
    return dict(status=status, start=start, due=due, baseline=baseline, completed=completed,
                percent=100 if status == "completed" else draw(st.integers(0, 100)),
                category=draw(st.sampled_from(CATEGORIES)), department=draw(st.integers(0, 1)))


def _day(n):
    return None if n is None else TODAY + timedelta(days=n)


@AGREE
@given(data=st.lists(milestone_data(), min_size=1, max_size=14),
       edges=st.lists(st.tuples(st.integers(0, 13), st.integers(0, 13)), max_size=12),
       today_offset=st.integers(-30, 60), margin=st.integers(0, 30))
def test_python_and_set_based_forms_agree(app, data, edges, today_offset, margin):
    today = TODAY + timedelta(days=today_offset)
    t = Thresholds(forecast_margin_days=margin)
    try:
        plans = [factories.plan(department=factories.department(f"agree{i}", commit=False),
                                commit=False) for i in range(2)]
        ms = []
        for n, d in enumerate(data):
            start, due = _day(d["start"]), _day(d["due"])
            baseline = _day(d["baseline"])
            if baseline is not None and start is not None and baseline < start:
                baseline = start
            m = Milestone(plan=plans[d["department"]], department=plans[d["department"]].department,
                          code=f"A-{n}", title=f"a {n}", category=d["category"],
                          status=d["status"], percent_complete=d["percent"], start_date=start,
                          due_date=due, baseline_due=baseline, completed_on=_day(d["completed"]))
            db.session.add(m)
            ms.append(m)
        db.session.flush()
        pairs = []
        for a, b in edges:
            if a < len(ms) and b < len(ms) and a < b and (a, b) not in pairs:
                pairs.append((a, b))  # earlier before later: never a cycle
                db.session.add(MilestoneDependency(predecessor_id=ms[a].id,
                                                   successor_id=ms[b].id))
        db.session.flush()
        closed = ("completed", "dropped")

        # The forecast, one record at a time, from plain objects.
        def one(i, memo={}):  # noqa: B006 (memo per example: cleared below)
            if i in memo:
                return memo[i]
            m = ms[i]
            done = [x for x in ms if x.department_id == m.department_id]
            history = fc.history_from(fc.ratios_of(done), m.category)
            befores = [(ms[a].code, one(a, memo)) for a, b in pairs
                       if b == i and ms[a].status not in closed]
            memo[i] = fc.forecast(m, today, history, befores,
                                  department=m.department.name)
            return memo[i]

        memo = {}
        expected = {ms[i].id: one(i, memo) for i in range(len(ms)) if ms[i].status not in closed}
        assert fc.forecast_all(today) == expected
        some = [m.id for m in ms[-3:]]
        partial = fc.forecast_all(today, milestone_ids=some)
        assert {i: partial[i] for i in some if i in expected} == {
            i: expected[i] for i in some if i in expected}

        # The 'at risk from its predecessor' rule and its SQL twin: before any forecast is
        # stored, and with the forecasts the scan stores.
        from jobs.scan import refresh_forecasts

        for stored in (False, True):
            if stored:
                refresh_forecasts(today, db.session.connection())
            forecasts = {i: f.on for i, f in expected.items()} if stored else {}
            rows = {r.id: r for r in db.session.execute(
                sa.select(Milestone.id, rules.predecessor_at_risk_sql(today).label("risk"),
                          rules.predecessor_at_risk_id_sql(today).label("by"))
                .where(Milestone.id.in_([m.id for m in ms]))).all()}
            for i, m in enumerate(ms):
                preds = [ms[a] for a, b in pairs if b == i]
                found = rules.predecessor_at_risk(m, preds, today, forecasts)
                assert bool(rows[m.id].risk) is (found is not None)
                if found is not None:
                    assert rows[m.id].by == found.id

        # The 'forecast to slip' rule and its SQL twin, over the stored forecasts.
        rows = dict(db.session.execute(
            sa.select(Milestone.id, rules.forecast_to_slip_sql(today, t))
            .where(Milestone.id.in_([m.id for m in ms]))).all())
        for m in ms:
            f = expected.get(m.id)
            assert bool(rows[m.id]) is rules.is_forecast_to_slip(
                m, f.on if f else None, today, t)
    finally:
        db.session.rollback()


def test_find_cycle_names_the_circle_in_order():
    from tracker.operations.dependencies import find_cycle

    assert find_cycle([(1, 2), (2, 3)]) is None
    assert find_cycle([(1, 2), (2, 3), (3, 1)]) == [1, 2, 3, 1]
    assert find_cycle([(5, 5)]) == [5, 5]


def test_the_stored_forecast_reaches_the_scorecard_timeline_and_agenda(world, as_user):
    from tracker.queries import overview as dash
    from tracker.operations import meetings

    p3, f8 = world["p3"], world["f8"]
    _completed(p3.plan, 6, 2.0)
    p3.category, p3.start_date = "infrastructure", TODAY - timedelta(days=10)
    p3.due_date = p3.baseline_due = TODAY + timedelta(days=90)
    p3.percent_complete = 0
    db.session.add(MilestoneDependency(predecessor_id=p3.id, successor_id=f8.id))
    db.session.commit()
    t = Thresholds()
    scan(TODAY, NOW, t)
    db.session.commit()
    forecast_on = p3.start_date + timedelta(days=200)

    ov = dash.overview(dash.departments_with_plans(), dash.Filters(), TODAY, t)
    card = {r.department.name: r for r in ov.scorecard}
    assert (card["Public Works"].forecast_on_time, card["Public Works"].forecast_total) == (0, 1)
    assert card["Public Works"].forecast_on_time_rate == 0
    row = next(r for r in ov.timeline if r.id == p3.id)
    assert row.forecast == forecast_on
    assert [(s.code, code) for s, _pid, code, _title in ov.dependencies] == [("FISH-08", "PWD-03")]

    page = as_user(world["nic"]).get("/dashboard/").get_data(as_text=True)
    assert "Dependencies of the milestones shown" in page
    assert "FISH-08 waits for PWD-03 · Network to the district" in page
    assert forecast_on.strftime("%d-%m-%Y") in page

    found = meetings.department_findings(TODAY, t)[world["pwd"].id]
    finding, = [f for f in found if f["kind"] == "forecast"]
    assert meetings.finding_line(finding) == (
        f"PWD-03 · Network to the district: Forecast to finish on "
        f"{forecast_on:%d-%m-%Y}, 100 days after its due date {p3.due_date:%d-%m-%Y} — 0 % done")


def test_removing_a_draft_milestone_removes_its_dependencies(app):
    from tracker.operations.plans import remove_milestone

    plan = factories.plan(department=factories.department("draftdep"), status="draft")
    a = factories.milestone(plan=plan, code="D-1", today=TODAY)
    b = factories.milestone(plan=plan, code="D-2", today=TODAY)
    db.session.add(MilestoneDependency(predecessor_id=a.id, successor_id=b.id))
    db.session.commit()
    remove_milestone(a, factories.user("nic"))
    db.session.commit()
    assert _deps() == []
    assert db.session.get(Milestone, b.id) is not None
