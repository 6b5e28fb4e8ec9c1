"""The website and app register: the compliance table, the asset page with its checks, the
forms and the permission matrix."""
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from models import AuditLog, DigitalAsset, HealthCheck
from tests import factories
from tracker import clock
from tracker.extensions import db


@pytest.fixture
def world(app):
    own = factories.department("own", name="Own Department")
    other = factories.department("other", name="Other Department")
    users = {
        "secretary": factories.user("secretary"),
        "nic": factories.user("nic"),
        "nodal_own": factories.user("nodal", department=own),
        "nodal_other": factories.user("nodal", department=other),
        "viewer": factories.user("viewer"),
        "admin": factories.user("admin"),
    }
    with app.test_request_context():
        today = clock.today()
    asset = factories.asset(
        department=own, name="Own portal", url="https://own.ladakh.example/",
        last_content_update=today - timedelta(days=200),
        audit_valid_until=today + timedelta(days=10),
        accessibility_audit_on=None, https=True, portal_integrated=False,
    )
    return {"own": own, "other": other, "users": users, "asset": asset, "today": today}


def _form(**overrides):
    data = {
        "department": "own",
        "name": "Own mobile app",
        "kind": "mobile_app",
        "url": "https://own.ladakh.example/app",
        "hosted_by": "vendor",
        "last_content_update": "2026-11-01",
        "audit_valid_until": "2027-06-30",
        "accessibility_audit_on": "",
        "https": "y",
        "portal_integrated": "",
    }
    data.update(overrides)
    return data


def test_compliance_table_in_plain_words(world, as_user):
    factories.asset(department=world["other"], name="Other site", url="http://other.example/",
                    last_content_update=world["today"], https=False,
                    audit_valid_until=world["today"] - timedelta(days=1),
                    accessibility_audit_on=world["today"] - timedelta(days=30),
                    portal_integrated=True)
    page = as_user(world["users"]["viewer"]).get("/websites/").get_data(as_text=True)
    # Own portal: stale content, certificate expiring, never audited for accessibility.
    assert "Not updated for over 90 days" in page
    assert "Expires within 30 days" in page
    assert "Never audited" in page
    assert "Not integrated" in page
    assert "Not checked" in page
    # Other site: up to date, certificate expired, audited, no HTTPS.
    assert "Up to date" in page and "Expired" in page and "Audited" in page
    assert "No HTTPS" in page
    assert 'class="badge state-expiring"' in page  # words and a colour


def test_problems_only_filter(world, as_user):
    factories.asset(department=world["other"], name="Perfect site", url="https://ok.example/",
                    last_content_update=world["today"], https=True, portal_integrated=True,
                    audit_valid_until=world["today"] + timedelta(days=300),
                    accessibility_audit_on=world["today"], last_check_at=datetime(2026, 1, 1),
                    last_check_ok=True)
    client = as_user(world["users"]["secretary"])
    assert "Perfect site" in client.get("/websites/").get_data(as_text=True)
    page = client.get("/websites/?problems=1").get_data(as_text=True)
    assert "Perfect site" not in page and "Own portal" in page


def test_asset_page_shows_latest_check_and_history(world, as_user):
    asset = world["asset"]
    db.session.add_all([
        HealthCheck(asset_id=asset.id, checked_at=datetime(2026, 11, 1, 2, 0), ok=True,
                    status_code=200, response_ms=120, redirects_to_https=True,
                    security_headers={"strict_transport_security": True,
                                      "content_security_policy": False,
                                      "x_content_type_options": True,
                                      "frame_protection": False},
                    lang_declared=True, last_modified="Sun, 01 Nov 2026 00:00:00 GMT"),
        HealthCheck(asset_id=asset.id, checked_at=datetime(2026, 11, 2, 2, 0), ok=False,
                    status_code=None, error="<b>No answer</b> within 10 s."),
    ])
    db.session.commit()
    page = as_user(world["users"]["nodal_own"]).get(f"/websites/{asset.id}").get_data(as_text=True)
    assert "Latest health check" in page
    assert "02-11-2026" in page and "01-11-2026" in page
    assert "&lt;b&gt;No answer&lt;/b&gt; within 10 s." in page  # untrusted text is escaped
    assert "<b>No answer</b>" not in page
    assert "Strict-Transport-Security: present" not in page  # the latest check had no answer
    assert "Strict-Transport-Security: missing" not in page  # ...so its headers are unknown
    assert "Unknown: no page was received" in page
    assert page.count("state-down") >= 1 and "2 of 4" in page


def test_nodal_officer_of_another_department_gets_404(world, as_user):
    response = as_user(world["users"]["nodal_other"]).get(f"/websites/{world['asset'].id}")
    assert response.status_code == 404
    page = as_user(world["users"]["nodal_other"]).get("/websites/").get_data(as_text=True)
    assert "Own portal" not in page


def test_create_and_edit_with_conflict(world, as_user):
    client = as_user(world["users"]["nodal_own"])
    response = client.post("/websites/new", data=_form())
    assert response.status_code == 302
    asset = db.session.execute(sa.select(DigitalAsset).filter_by(name="Own mobile app")).scalar_one()
    assert asset.kind == "mobile_app" and asset.hosted_by == "vendor" and asset.https
    assert asset.audit_valid_until == date(2027, 6, 30)
    ok = client.post(f"/websites/{asset.id}/edit", data=_form(name="Own app", version="1"))
    assert ok.status_code == 302
    stale = client.post(f"/websites/{asset.id}/edit", data=_form(name="Stale copy", version="1"))
    assert stale.status_code == 409
    assert "Someone else saved this first" in stale.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(DigitalAsset, asset.id).name == "Own app"


def test_invalid_address_is_refused_beside_its_field(world, as_user):
    response = as_user(world["users"]["nic"]).post(
        "/websites/new", data=_form(url="javascript:alert(1)"))
    assert response.status_code == 422
    assert "Enter a web address starting with http:// or https://." in response.get_data(as_text=True)


def test_list_runs_a_fixed_number_of_queries(world, as_user, count_queries):
    client = as_user(world["users"]["secretary"])
    client.get("/websites/")
    db.session.expire_all()
    with count_queries() as few:
        client.get("/websites/")
    for i in range(10):
        a = factories.asset(department=factories.department(f"d{i}"))
        db.session.add(HealthCheck(asset_id=a.id, ok=True, status_code=200))
    db.session.commit()
    db.session.expire_all()
    with count_queries() as many:
        page = client.get("/websites/").get_data(as_text=True)
    assert "Websites, web apps and mobile apps (11)" in page
    assert len(many) == len(few)


ROLES = ("secretary", "nic", "nodal_own", "nodal_other", "viewer", "admin")
EXPECTED = {"secretary": 302, "nic": 302, "nodal_own": 302, "nodal_other": 404,
            "viewer": 403, "admin": 403}


def _state():
    return sorted((a.id, a.name, a.version) for a in db.session.execute(sa.select(DigitalAsset)).scalars())


@pytest.mark.parametrize("route", ["create", "edit", "delete"])
@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(world, as_user, role, route):
    aid = world["asset"].id
    url, data = {
        "create": ("/websites/new", _form()),
        "edit": (f"/websites/{aid}/edit", _form(name="Renamed", version="1")),
        "delete": (f"/websites/{aid}/delete", {"version": "1"}),
    }[route]
    before = _state()
    response = as_user(world["users"][role]).post(url, data=data)
    assert response.status_code == EXPECTED[role]
    db.session.expire_all()
    if EXPECTED[role] == 302:
        assert _state() != before
    else:
        assert _state() == before
        assert db.session.execute(
            sa.select(AuditLog).where(AuditLog.entity == "digital_asset")).first() is None
