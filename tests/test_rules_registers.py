"""The register rules: Python and SQL agree on every state, at every boundary."""
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from models import DigitalAsset, HealthCheck, Service
from tests import factories
from tracker import rules
from tracker.extensions import db
from tracker.settings import Thresholds

TODAY = date(2026, 11, 29)
T = Thresholds()
OFFSETS = (None, -400, -366, -365, -336, -335, -334, -91, -90, -89, -1, 0, 1, 29, 30, 31, 200)


def _day(offset):
    return None if offset is None else TODAY + timedelta(days=offset)


@pytest.fixture
def assets(app):
    dept = factories.department("web")
    made = []
    for i, offset in enumerate(OFFSETS):
        made.append(factories.asset(
            department=dept, commit=False,
            last_content_update=_day(offset), audit_valid_until=_day(offset),
            accessibility_audit_on=_day(offset), https=i % 2 == 0,
            portal_integrated=i % 3 == 0,
            last_check_at=None if i % 4 == 0 else datetime(2026, 11, 1),
            last_check_ok=None if i % 4 == 0 else i % 4 == 1,
        ))
    db.session.commit()
    return made


def test_python_and_sql_agree(assets):
    rows = db.session.execute(sa.select(
        DigitalAsset,
        rules.content_state_sql(TODAY, T),
        rules.certificate_state_sql(DigitalAsset.audit_valid_until, TODAY, T),
        rules.accessibility_state_sql(TODAY, T),
        rules.flag_state_sql(DigitalAsset.https),
        rules.check_state_sql(),
    )).all()
    assert len(rows) == len(OFFSETS)
    for a, content, cert, access, https, check in rows:
        assert content == rules.content_state(a, TODAY, T), a.last_content_update
        assert cert == rules.certificate_state(a.audit_valid_until, TODAY, T)
        assert access == rules.accessibility_state(a.accessibility_audit_on, TODAY, T), \
            a.accessibility_audit_on
        assert https == rules.flag_state(a.https)
        assert check == rules.check_state(a)


def test_states_at_the_boundaries():
    assert rules.certificate_state(_day(-1), TODAY, T) == "expired"
    assert rules.certificate_state(_day(0), TODAY, T) == "expiring"
    assert rules.certificate_state(_day(30), TODAY, T) == "expiring"
    assert rules.certificate_state(_day(31), TODAY, T) == "ok"
    # An accessibility audit holds a year: due within 30 days of its anniversary.
    assert rules.accessibility_state(_day(-366), TODAY, T) == "expired"
    assert rules.accessibility_state(_day(-365), TODAY, T) == "expiring"
    assert rules.accessibility_state(_day(-335), TODAY, T) == "expiring"
    assert rules.accessibility_state(_day(-334), TODAY, T) == "ok"
    assert rules.accessibility_state(None, TODAY, T) == "missing"


def test_service_online_rules_agree(app):
    dept = factories.department("svc")
    for mode in ("offline", "online_standalone", "integrated"):
        factories.service(department=dept, delivery_mode=mode, commit=False)
    db.session.commit()
    rows = db.session.execute(sa.select(
        Service, rules.service_online_sql(), rules.service_integrated_sql())).all()
    for s, online, integrated in rows:
        assert bool(online) == rules.service_is_online(s)
        assert bool(integrated) == rules.service_is_integrated(s)
    assert sum(bool(r[1]) for r in rows) == 2


def test_website_down_needs_the_two_latest_checks_failed(app):
    dept = factories.department("down")
    histories = {
        "never": [],
        "one_failure": [False],
        "two_failures": [False, False],
        "recovered": [False, False, True],  # oldest first
        "failing_again": [True, False, False],
        "flapping": [False, True, False],
    }
    ids = {}
    for name, oks in histories.items():
        a = factories.asset(department=dept, name=name)
        ids[name] = a.id
        for i, ok in enumerate(oks):
            db.session.add(HealthCheck(asset_id=a.id, ok=ok,
                                       checked_at=datetime(2026, 11, 1 + i, 6, 0)))
    db.session.commit()
    down_sql = set(db.session.execute(
        sa.select(DigitalAsset.name).where(rules.website_down_sql())).scalars())
    assert down_sql == {"two_failures", "failing_again"}
    for name in histories:
        checks = db.session.get(DigitalAsset, ids[name]).checks  # newest first
        assert rules.website_is_down(checks) is (name in down_sql)
