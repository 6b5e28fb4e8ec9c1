"""The service register: list, summary, forms, optimistic locking and the permission matrix."""
from datetime import date

import pytest
import sqlalchemy as sa

from models import AuditLog, Milestone, Service
from tests import factories
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
    service = factories.service(department=own, name="Birth certificate",
                                designated_officer="Registrar", delivery_mode="offline")
    return {"own": own, "other": other, "users": users, "service": service}


def _form(**overrides):
    data = {
        "department": "own",
        "name": "Domicile certificate",
        "psga_notified": "y",
        "time_limit_days": "7",
        "designated_officer": "Tehsildar",
        "delivery_mode": "integrated",
        "url": "https://own.ladakh.example/domicile",
        "target_date": "2026-12-31",
        "milestone": "",
    }
    data.update(overrides)
    return data


def test_list_shows_services_of_every_department(world, as_user):
    factories.service(department=world["other"], name="Ration card")
    page = as_user(world["users"]["viewer"]).get("/services/").get_data(as_text=True)
    assert "Birth certificate" in page and "Ration card" in page
    assert "Add a service" not in page


def test_nodal_officer_sees_only_own_department(world, as_user):
    factories.service(department=world["other"], name="Ration card")
    response = as_user(world["users"]["nodal_own"]).get("/services/")
    page = response.get_data(as_text=True)
    assert "Birth certificate" in page and "Ration card" not in page
    assert "Add a service" in page


def test_create_service_with_milestone(world, as_user):
    m = factories.milestone(department=world["own"], code="OWN-1", title="Go online")
    client = as_user(world["users"]["nodal_own"])
    response = client.post("/services/new", data=_form(milestone="OWN-1"))
    assert response.status_code == 302
    service = db.session.execute(sa.select(Service).filter_by(name="Domicile certificate")).scalar_one()
    assert service.department_id == world["own"].id
    assert service.psga_notified and service.time_limit_days == 7
    assert service.delivery_mode == "integrated"
    assert service.target_date == date(2026, 12, 31)
    assert db.session.get(Milestone, m.id).service_id == service.id
    entry = db.session.execute(sa.select(AuditLog).filter_by(entity="service", action="create")).scalar_one()
    assert entry.changes["milestone"] == [None, "OWN-1"]
    page = client.get("/services/").get_data(as_text=True)
    assert "Domicile certificate" in page and "OWN-1" in page


def test_invalid_form_keeps_what_was_typed(world, as_user):
    client = as_user(world["users"]["nic"])
    response = client.post("/services/new", data=_form(
        name="Birth certificate", time_limit_days="", url="javascript:alert(1)"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "This department already has a service with this name." in page
    assert "A PSGA-notified service needs its time limit in days." in page
    assert "Enter a web address starting with http:// or https://." in page
    assert 'value="Tehsildar"' in page
    assert db.session.execute(sa.select(sa.func.count(Service.id))).scalar() == 1


def test_edit_and_conflict(world, as_user):
    service = world["service"]
    client = as_user(world["users"]["nodal_own"])
    form = client.get(f"/services/{service.id}/edit").get_data(as_text=True)
    assert 'name="version" type="hidden" value="1"' in form
    first = client.post(f"/services/{service.id}/edit", data=_form(
        name="Birth certificate", delivery_mode="online_standalone", version="1"))
    assert first.status_code == 302
    db.session.expire_all()
    assert db.session.get(Service, service.id).version == 2
    # A second officer who had read version 1 saves afterwards: a clear conflict.
    second = client.post(f"/services/{service.id}/edit", data=_form(
        name="Birth certificate (new)", delivery_mode="offline", url="", version="1"))
    assert second.status_code == 409
    page = second.get_data(as_text=True)
    assert "Someone else saved this service first" in page
    assert "Birth certificate (new)" in page  # what they typed is kept
    db.session.expire_all()
    saved = db.session.get(Service, service.id)
    assert saved.name == "Birth certificate" and saved.delivery_mode == "online_standalone"
    # Saving again from the conflict page (version now 2) goes through.
    third = client.post(f"/services/{service.id}/edit", data=_form(
        name="Birth certificate (new)", delivery_mode="offline", url="", version="2"))
    assert third.status_code == 302
    db.session.expire_all()
    assert db.session.get(Service, service.id).name == "Birth certificate (new)"


def test_delete_unlinks_the_milestone(world, as_user):
    service = world["service"]
    m = factories.milestone(department=world["own"], service_id=service.id)
    response = as_user(world["users"]["secretary"]).post(
        f"/services/{service.id}/delete", data={"version": "1"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Service, service.id) is None
    assert db.session.get(Milestone, m.id).service_id is None


def test_summary_counts_and_shares(world, as_user):
    own = world["own"]
    factories.service(department=own, psga_notified=True, delivery_mode="integrated",
                      url="https://a.example/")
    factories.service(department=own, psga_notified=False, time_limit_days=None,
                      delivery_mode="online_standalone", url="https://b.example/")
    factories.service(department=own, psga_notified=True, delivery_mode="offline")
    from tracker.queries import summaries as summary_queries

    own_summary = {s.department.code: s for s in summary_queries.service_summaries()}["own"]
    assert (own_summary.total, own_summary.notified, own_summary.online,
            own_summary.integrated) == (4, 3, 2, 1)
    assert (own_summary.notified_share, own_summary.online_share,
            own_summary.integrated_share) == (75, 50, 25)
    other_summary = {s.department.code: s for s in summary_queries.service_summaries()}["other"]
    assert other_summary.total == 0 and other_summary.online_share is None
    page = as_user(world["users"]["viewer"]).get("/services/summary").get_data(as_text=True)
    assert "75%" in page and "50%" in page and "25%" in page
    as_user(world["users"]["viewer"]).post("/sign-out")
    nodal_page = as_user(world["users"]["nodal_other"]).get("/services/summary").get_data(as_text=True)
    assert "Own Department" not in nodal_page and "Other Department" in nodal_page


def test_list_runs_a_fixed_number_of_queries(world, as_user, count_queries):
    client = as_user(world["users"]["secretary"])
    client.get("/services/")  # warm up
    db.session.expire_all()
    with count_queries() as few:
        assert client.get("/services/").status_code == 200
    for i in range(12):
        dept = factories.department(f"d{i}")
        s = factories.service(department=dept)
        factories.milestone(department=dept, service_id=s.id)
    db.session.expire_all()
    with count_queries() as many:
        assert client.get("/services/").status_code == 200
    assert len(many) == len(few)
    with count_queries() as summary_queries:
        client.get("/services/summary")
    assert len(summary_queries) <= 3


# --- Permission matrix -----------------------------------------------------------------------

ROLES = ("secretary", "nic", "nodal_own", "nodal_other", "viewer", "admin")
# Each write route on a service of the "own" department: expected status per role.
EXPECTED = {
    "secretary": 302,
    "nic": 302,
    "nodal_own": 302,
    "nodal_other": 404,
    "viewer": 403,
    "admin": 403,
}


def _write_routes(world):
    sid = world["service"].id
    return {
        "create": ("/services/new", _form(department="own")),
        "edit": (f"/services/{sid}/edit", _form(name="Renamed", version="1")),
        "delete": (f"/services/{sid}/delete", {"version": "1"}),
    }


def _state():
    return sorted(
        (s.id, s.name, s.version) for s in db.session.execute(sa.select(Service)).scalars()
    )


@pytest.mark.parametrize("route", ["create", "edit", "delete"])
@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(world, as_user, role, route):
    url, data = _write_routes(world)[route]
    before = _state()
    client = as_user(world["users"][role])
    response = client.post(url, data=data)
    expected = EXPECTED[role]
    if route == "create" and role in ("viewer", "admin"):
        expected = 403
    if route == "create" and role == "nodal_other":
        expected = 404  # the form names a department that is not theirs to see
    assert response.status_code == expected, response.get_data(as_text=True)[:500]
    db.session.expire_all()
    if expected != 302:
        assert _state() == before
        assert db.session.execute(sa.select(AuditLog).where(AuditLog.entity == "service")).first() is None
    else:
        assert _state() != before


@pytest.mark.parametrize("role", ROLES)
def test_edit_page_matrix(world, as_user, role):
    response = as_user(world["users"][role]).get(f"/services/{world['service'].id}/edit")
    assert response.status_code == {302: 200}.get(EXPECTED[role], EXPECTED[role])


def test_signed_out_is_sent_to_sign_in(world, client):
    response = client.post(f"/services/{world['service'].id}/delete", data={"version": "1"})
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    assert db.session.get(Service, world["service"].id) is not None
