"""The administrator's screens: users, departments and thresholds, audited; nobody else's."""
from datetime import timedelta

import pytest

from models import AuditLog, Department, Flag, Setting, User
from tests import factories
from tracker import clock
from tracker.extensions import db


@pytest.fixture
def admin(app):
    factories.department("pwd", name="Public Works")
    return factories.user("admin", name="Tsering Admin")


def _new_user(client, **values):
    data = {"name": "Stanzin Dolma", "email": "Stanzin.Dolma@Ladakh.example", "designation": "EE",
            "role": "nodal", "department": "pwd", "active": "y", "password": "temporary-1"}
    data.update(values)
    return client.post("/admin/users/new", data=data)


def test_an_administrator_adds_a_nodal_officer_who_can_sign_in(admin, as_user, client, auth):
    response = _new_user(as_user(admin))
    assert response.status_code == 303, response.get_data(as_text=True)
    user = db.session.execute(db.select(User).filter_by(email="stanzin.dolma@ladakh.example")).scalar_one()
    assert (user.role, user.department.code, user.active) == ("nodal", "pwd", True)
    entry = db.session.execute(db.select(AuditLog).filter_by(entity="user", action="create")).scalar_one()
    assert entry.user_id == admin.id and "password" not in entry.changes
    listed = client.get("/admin/users").get_data(as_text=True)
    assert "Stanzin Dolma" in listed and "Nodal officer" in listed and "Public Works" in listed
    auth.sign_out()
    assert auth.sign_in("stanzin.dolma@ladakh.example", "temporary-1").status_code == 302


def test_a_second_nodal_officer_is_refused_and_nothing_changes(admin, as_user):
    client = as_user(admin)
    _new_user(client)
    response = _new_user(client, name="Another One", email="another@ladakh.example")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Stanzin Dolma is already the nodal officer of this department" in page
    assert 'value="Another One"' in page  # what was typed is kept
    assert db.session.execute(db.select(db.func.count(User.id))).scalar() == 2


@pytest.mark.parametrize("values, message", [
    ({"email": "not-an-address"}, "Enter an e-mail address"),
    ({"department": ""}, "A nodal officer needs a department."),
    ({"password": "short"}, "Use at least 8 characters."),
])
def test_bad_input_is_named_beside_its_field(admin, as_user, values, message):
    response = _new_user(as_user(admin), **values)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert db.session.execute(db.select(db.func.count(User.id))).scalar() == 1


def test_role_department_deactivation_and_password_reset(admin, as_user, auth):
    client = as_user(admin)
    _new_user(client)
    user = db.session.execute(db.select(User).filter_by(name="Stanzin Dolma")).scalar_one()
    response = client.post(f"/admin/users/{user.id}", data={
        "name": "Stanzin Dolma", "email": user.email, "designation": "SE", "role": "viewer",
        "department": "", "active": "y"})
    assert response.status_code == 303
    db.session.expire_all()
    assert (user.role, user.department_id, user.designation) == ("viewer", None, "SE")
    response = client.post(f"/admin/users/{user.id}/password", data={"password": "brand-new-9"})
    assert response.status_code == 303
    response = client.post(f"/admin/users/{user.id}", data={
        "name": "Stanzin Dolma", "email": user.email, "designation": "SE", "role": "viewer",
        "department": ""})  # the box unticked: deactivated
    assert response.status_code == 303
    actions = db.session.execute(db.select(AuditLog.action).filter_by(entity="user", entity_id=user.id)
                                 .order_by(AuditLog.id)).scalars().all()
    assert actions == ["create", "update", "reset_password", "update"]
    auth.sign_out()
    assert auth.sign_in(user.email, "brand-new-9").status_code != 302  # deactivated


def test_an_administrator_cannot_lock_themselves_out(admin, as_user):
    response = as_user(admin).post(f"/admin/users/{admin.id}", data={
        "name": admin.name, "email": admin.email, "designation": "", "role": "viewer",
        "department": "", "active": "y"})
    assert response.status_code == 422
    assert "cannot take away your own administrator role" in response.get_data(as_text=True)


def test_departments_are_added_and_changed(admin, as_user):
    client = as_user(admin)
    response = client.post("/admin/departments/new", data={
        "code": "Fish", "name": "Fisheries", "psga_covered": "y", "active": "y"})
    assert response.status_code == 303
    fish = db.session.execute(db.select(Department).filter_by(code="fish")).scalar_one()
    assert fish.psga_covered
    response = client.post("/admin/departments/new", data={"code": "pwd", "name": "Public Works"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Another department has this code." in page and "Another department has this name." in page
    response = client.post("/admin/departments/fish", data={"code": "fish", "name": "Fisheries Dept",
                                                             "active": "y"})
    assert response.status_code == 303
    db.session.expire_all()
    assert (fish.name, fish.psga_covered) == ("Fisheries Dept", False)


def test_a_changed_threshold_is_used_by_the_next_scan(admin, as_user, app):
    from jobs import scan
    from models.base import utcnow
    from tracker.settings import EDITABLE, thresholds

    today = clock.today()
    dept = db.session.execute(db.select(Department).filter_by(code="pwd")).scalar_one()
    m = factories.milestone(plan=factories.plan(department=dept, status="approved"), today=today,
                            status="in_progress", due_date=today + timedelta(days=200))
    m.updated_at = utcnow() - timedelta(days=20)
    db.session.commit()
    scan.scan(today, utcnow(), thresholds())
    assert not db.session.execute(db.select(Flag).filter_by(kind="milestone_stale")).first()

    client = as_user(admin)
    page = client.get("/admin/settings").get_data(as_text=True)
    assert "Stale: no update for (days)" in page and "Default: 30" in page
    values = {k: str(getattr(thresholds(), k)) for k in EDITABLE}
    response = client.post("/admin/settings", data={**values, "stale_days": "0"})
    assert response.status_code == 422 and "from 1 to 3650" in response.get_data(as_text=True)
    response = client.post("/admin/settings", data={**values, "stale_days": "10"})
    assert response.status_code == 303
    assert db.session.get(Setting, "stale_days").value == "10"
    entry = db.session.execute(db.select(AuditLog).filter_by(entity="settings")).scalar_one()
    assert entry.changes == {"stale_days": [30, 10]}

    from flask import g

    g.pop("thresholds", None)
    scan.scan(today, utcnow(), thresholds())
    assert db.session.execute(db.select(Flag).filter_by(kind="milestone_stale")).scalar_one()


@pytest.mark.parametrize("role", ["secretary", "nic", "viewer"])
def test_nobody_else_reaches_the_screens(app, as_user, role):
    client = as_user(factories.user(role))
    for path in ("/admin/", "/admin/users", "/admin/users/new", "/admin/departments",
                 "/admin/settings"):
        assert client.get(path).status_code == 403, path
