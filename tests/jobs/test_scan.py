"""The flag scan, on a fixed 'today': the right subjects flagged, flags cleared when fixed,
a second scan changes nothing, the escalation ladder, and an interrupted scan."""
import threading
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from jobs import scan
from models import Flag
from tests import factories
from tracker.extensions import db
from tracker.settings import Thresholds

TODAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 3, 0)  # 08:30 in Kolkata
T = Thresholds()


def days(n):
    return TODAY + timedelta(days=n)


def open_flags():
    return {
        (f.kind, f.subject_type, f.subject_id): f
        for f in db.session.execute(sa.select(Flag).where(Flag.cleared_at.is_(None))).scalars()
    }


def all_flags():
    return sorted(
        (f.id, f.kind, f.subject_id, f.severity, f.escalation, f.cleared_at)
        for f in db.session.execute(sa.select(Flag)).scalars()
    )


def run_scan(today=TODAY, now=NOW):
    result = scan.scan(today, now, T)
    db.session.commit()
    return result


@pytest.fixture
def world(app):
    """One of everything, flagged or not."""
    health = factories.department("health")
    pwd = factories.department("pwd")
    idle = factories.department("idle")  # no plan at all
    plan = factories.plan(department=health, status="approved")
    factories.plan(department=pwd, status="draft")  # never submitted
    w = dict(health=health, pwd=pwd, idle=idle, plan=plan)
    m = lambda **kw: factories.milestone(plan=plan, today=TODAY, **kw)  # noqa: E731
    w["overdue"] = m(due_date=days(-3))
    w["done_late"] = m(due_date=days(-3), status="completed")
    w["dropped_late"] = m(due_date=days(-3), status="dropped")
    w["blocked"] = m(status="blocked", due_date=days(40))
    w["behind"] = m(start_date=days(-50), due_date=days(10), percent_complete=10)
    w["on_track"] = m(start_date=days(-10), due_date=days(60), percent_complete=50)
    w["stale"] = m(due_date=days(90), updated_at=datetime(2026, 10, 1, 6, 0))
    w["severe_held"] = m(due_date=days(90))
    factories.bottleneck(milestone=w["severe_held"], severity="high", raised_on=days(-1))
    w["sla_critical"] = factories.bottleneck(department=health, severity="critical",
                                             raised_on=days(-4))
    w["sla_ok_medium"] = factories.bottleneck(department=health, severity="medium",
                                              raised_on=days(-10))
    w["sla_resolved"] = factories.bottleneck(department=health, severity="critical",
                                             raised_on=days(-30), status="resolved")
    w["item_late"] = factories.action_item(department=health, due_date=days(-2))
    w["item_done"] = factories.action_item(department=health, due_date=days(-2), status="done")
    w["item_future"] = factories.action_item(department=health, due_date=days(2))
    a = lambda **kw: factories.asset(department=health, **kw)  # noqa: E731
    fresh = dict(https=True, last_content_update=days(-10), audit_valid_until=days(200))
    w["good_site"] = a(**fresh)
    w["cert_expiring"] = a(**{**fresh, "audit_valid_until": days(20)})
    w["cert_expired"] = a(**{**fresh, "audit_valid_until": days(-1)})
    w["stale_site"] = a(**{**fresh, "last_content_update": days(-120)})
    w["stale_app"] = a(**{**fresh, "kind": "mobile_app", "last_content_update": days(-120)})
    w["http_site"] = a(**{**fresh, "https": False})
    w["down_site"] = a(**fresh)
    w["blip_site"] = a(**fresh)
    w["redirected_site"] = a(**fresh)
    for asset, results in ((w["down_site"], (True, False, False)),
                           (w["blip_site"], (False, False, True)),
                           (w["good_site"], (True, True))):
        for i, ok in enumerate(results):
            factories.health_check(asset, ok=ok, checked_at=datetime(2026, 11, 19, i, 0),
                                   final_url=asset.url)
    factories.health_check(w["redirected_site"], ok=True, checked_at=datetime(2026, 11, 19, 5),
                           final_url="http://plain.test.example/")
    return w


def expected_flags(w):
    return {
        ("milestone_overdue", "milestone", w["overdue"].id),
        ("milestone_at_risk", "milestone", w["blocked"].id),
        ("milestone_at_risk", "milestone", w["behind"].id),
        ("milestone_at_risk", "milestone", w["severe_held"].id),
        ("milestone_stale", "milestone", w["stale"].id),
        ("bottleneck_past_sla", "bottleneck", w["sla_critical"].id),
        ("action_item_overdue", "action_item", w["item_late"].id),
        ("certificate_expiring", "digital_asset", w["cert_expiring"].id),
        ("certificate_expired", "digital_asset", w["cert_expired"].id),
        ("website_stale", "digital_asset", w["stale_site"].id),
        ("website_no_https", "digital_asset", w["http_site"].id),
        ("website_no_https", "digital_asset", w["redirected_site"].id),
        ("website_down", "digital_asset", w["down_site"].id),
        ("no_submitted_plan", "department", w["pwd"].id),
        ("no_submitted_plan", "department", w["idle"].id),
    }


def test_flags_raised_for_the_right_subjects(world):
    result = run_scan()
    flags = open_flags()
    assert set(flags) == expected_flags(world)
    assert result.raised == len(flags) and result.cleared == 0
    overdue = flags[("milestone_overdue", "milestone", world["overdue"].id)]
    assert overdue.department_id == world["health"].id
    assert overdue.raised_at == NOW
    assert overdue.details["label"] == f"{world['overdue'].code} · {world['overdue'].title}"
    assert overdue.details["due_date"] == days(-3).isoformat()
    assert flags[("certificate_expired", "digital_asset", world["cert_expired"].id)].severity == "critical"
    assert flags[("website_down", "digital_asset", world["down_site"].id)].severity == "critical"
    assert flags[("no_submitted_plan", "department", world["pwd"].id)].department_id == world["pwd"].id


def test_a_second_scan_changes_nothing(world):
    run_scan()
    before = all_flags()
    again = run_scan(now=NOW + timedelta(minutes=15))
    assert (again.raised, again.cleared, again.escalated) == (0, 0, 0)
    assert all_flags() == before


def test_flags_are_cleared_when_the_cause_is_fixed(world):
    run_scan()
    overdue = world["overdue"]
    overdue.status, overdue.percent_complete, overdue.completed_on = "completed", 100, TODAY
    world["sla_critical"].status = "resolved"
    world["sla_critical"].resolved_on, world["sla_critical"].resolved_at = TODAY, NOW
    world["item_late"].status = "done"
    world["cert_expired"].audit_valid_until = days(365)
    world["http_site"].https = True
    world["stale"].updated_at = NOW
    factories.health_check(world["down_site"], ok=True, checked_at=datetime(2026, 11, 20, 1))
    factories.plan(department=world["idle"], status="submitted", commit=False)
    db.session.commit()
    later = NOW + timedelta(hours=1)
    result = run_scan(now=later)
    fixed = {
        ("milestone_overdue", "milestone", overdue.id),
        ("bottleneck_past_sla", "bottleneck", world["sla_critical"].id),
        ("action_item_overdue", "action_item", world["item_late"].id),
        ("certificate_expired", "digital_asset", world["cert_expired"].id),
        ("website_no_https", "digital_asset", world["http_site"].id),
        ("milestone_stale", "milestone", world["stale"].id),
        ("website_down", "digital_asset", world["down_site"].id),
        ("no_submitted_plan", "department", world["idle"].id),
    }
    assert result.cleared == len(fixed) and result.raised == 0
    assert set(open_flags()) == expected_flags(world) - fixed
    cleared = db.session.execute(
        sa.select(Flag).where(Flag.cleared_at.is_not(None))).scalars().all()
    assert {(f.kind, f.subject_type, f.subject_id) for f in cleared} == fixed
    assert {f.cleared_at for f in cleared} == {later}


def test_a_cause_that_returns_raises_a_new_flag(world):
    run_scan()
    blocked = world["blocked"]
    blocked.status = "in_progress"
    db.session.commit()
    run_scan(now=NOW + timedelta(hours=1))
    blocked.status = "blocked"
    db.session.commit()
    result = run_scan(now=NOW + timedelta(hours=2))
    assert result.raised == 1
    rows = db.session.execute(
        sa.select(Flag).where(Flag.kind == "milestone_at_risk", Flag.subject_id == blocked.id)
        .order_by(Flag.id)).scalars().all()
    assert [f.cleared_at is None for f in rows] == [False, True]


def test_the_database_allows_one_open_flag_per_kind_and_subject(app):
    factories.flag(subject_id=5)
    factories.flag(subject_id=5, cleared_at=NOW, commit=True)  # cleared ones may repeat
    with pytest.raises(sa.exc.IntegrityError):
        factories.flag(subject_id=5)
    db.session.rollback()


@pytest.mark.parametrize(
    "days_late, escalation, severity",
    [
        (1, "department", "warning"),   # day 0: the first day past the due date
        (7, "department", "warning"),   # day 6
        (8, "nic", "warning"),          # day 7
        (14, "nic", "warning"),         # day 13
        (15, "secretary", "critical"),  # day 14: and the next review meeting's agenda
        (60, "secretary", "critical"),
    ],
)
def test_escalation_ladder(app, days_late, escalation, severity):
    plan = factories.plan(status="approved")
    milestone = factories.milestone(plan=plan, today=TODAY, due_date=days(-days_late),
                                    start_date=None)
    item = factories.action_item(department=plan.department, due_date=days(-days_late))
    run_scan()
    flags = open_flags()
    for key in (("milestone_overdue", "milestone", milestone.id),
                ("action_item_overdue", "action_item", item.id)):
        assert (flags[key].escalation, flags[key].severity) == (escalation, severity)


def test_an_open_flag_climbs_the_ladder_at_days_0_7_and_14(app):
    plan = factories.plan(status="approved")
    milestone = factories.milestone(plan=plan, today=TODAY, due_date=TODAY - timedelta(days=1))
    key = ("milestone_overdue", "milestone", milestone.id)
    seen = []
    for day in (0, 6, 7, 13, 14):
        result = run_scan(today=TODAY + timedelta(days=day),
                          now=NOW + timedelta(days=day))
        flag = open_flags()[key]
        seen.append((day, flag.escalation, flag.severity, result.escalated))
    assert seen == [
        (0, "department", "warning", 0),
        (6, "department", "warning", 0),
        (7, "nic", "warning", 1),
        (13, "nic", "warning", 0),
        (14, "secretary", "critical", 1),
    ]
    assert db.session.execute(sa.select(sa.func.count(Flag.id))).scalar() == 1


def test_a_bottleneck_past_its_sla_goes_to_the_secretary(app):
    dept = factories.department()
    past = factories.bottleneck(department=dept, severity="low", raised_on=days(-31))
    within = factories.bottleneck(department=dept, severity="low", raised_on=days(-30))
    run_scan()
    flags = open_flags()
    assert ("bottleneck_past_sla", "bottleneck", within.id) not in flags
    flag = flags[("bottleneck_past_sla", "bottleneck", past.id)]
    assert (flag.escalation, flag.severity) == ("secretary", "warning")


def test_an_interrupted_scan_leaves_the_flags_as_before(world, monkeypatch):
    run_scan()
    world["overdue"].status = "dropped"        # would clear one flag
    world["on_track"].status = "blocked"       # would raise one
    db.session.commit()
    before = all_flags()
    original = scan.raise_statement
    calls = []

    def failing(rule, now, dialect):
        calls.append(rule.kind)
        if len(calls) == 5:
            raise RuntimeError("database went away")
        return original(rule, now, dialect)

    monkeypatch.setattr(scan, "raise_statement", failing)
    with pytest.raises(RuntimeError):
        scan.scan(TODAY, NOW + timedelta(hours=1), T)
    db.session.rollback()
    assert all_flags() == before
    monkeypatch.setattr(scan, "raise_statement", original)
    result = run_scan(now=NOW + timedelta(hours=2))
    assert (result.raised, result.cleared) == (1, 1)


@pytest.mark.commits  # a second scan on its own connection, in a thread
def test_two_scans_at_once_raise_each_flag_once(world):
    """Two transactions scanning together: the second waits for the first (PostgreSQL
    advisory lock, SQLite write lock), finds its flags and adds nothing."""
    db.session.commit()
    engine = db.engine
    results = {}
    first = engine.connect()
    first_tx = first.begin()
    results["first"] = scan.scan(TODAY, NOW, T, connection=first)

    def second_scan():
        with engine.connect() as conn:
            with conn.begin():
                results["second"] = scan.scan(TODAY, NOW, T, connection=conn)

    thread = threading.Thread(target=second_scan)
    thread.start()
    first_tx.commit()
    first.close()
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert results["first"].raised == len(expected_flags(world))
    assert results["second"].raised == 0
    assert set(open_flags()) == expected_flags(world)
    assert db.session.execute(sa.select(sa.func.count(Flag.id))).scalar() == len(expected_flags(world))


def test_the_scan_is_a_fixed_number_of_statements(world, count_queries):
    with count_queries() as statements:
        scan.scan(TODAY, NOW, T)
    few = len(statements)
    db.session.rollback()
    for _ in range(20):
        factories.milestone(plan=world["plan"], today=TODAY, due_date=days(-5), commit=False)
    db.session.commit()
    with count_queries() as statements:
        scan.scan(TODAY, NOW, T)
    assert len(statements) == few
    db.session.rollback()
