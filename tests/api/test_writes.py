from datetime import timedelta

import pytest

from models import AuditLog, Bottleneck, Milestone, MilestoneUpdate
from tests import factories
from tracker import clock
from tracker.extensions import db


@pytest.fixture
def world(app):
    today = clock.today()
    health = factories.department("health")
    pwd = factories.department("pwd")
    hm = factories.milestone(plan=factories.plan(department=health, status="approved"),
                             today=today, percent_complete=20)
    pm = factories.milestone(plan=factories.plan(department=pwd, status="approved"), today=today)
    users = {
        "secretary": factories.user("secretary"),
        "nic": factories.user("nic"),
        "nodal_own": factories.user("nodal", department=health),
        "nodal_other": factories.user("nodal", department=pwd),
        "viewer": factories.user("viewer"),
        "admin": factories.user("admin"),
    }
    return today, health, pwd, hm, pm, users


def _milestone_row(m_id):
    db.session.expire_all()
    m = db.session.get(Milestone, m_id)
    return (m.status, m.percent_complete, m.due_date, m.version)


def test_update_milestone_records_history_and_audit(world, api):
    today, health, pwd, hm, pm, users = world
    client = api(users["nodal_own"])
    read = hm.version
    response = client.patch(f"/milestones/{hm.id}", json={
        "version": read, "status": "in_progress", "percent_complete": 45,
        "note": "Payment gateway integrated"})
    assert response.status_code == 200, response.json
    assert response.json["percent_complete"] == 45
    assert response.headers["ETag"] == f'W/"{read + 1}"'
    update = db.session.execute(db.select(MilestoneUpdate)).scalar_one()
    assert (update.percent_from, update.percent_to, update.note) == (20, 45, "Payment gateway integrated")
    entry = db.session.execute(db.select(AuditLog).filter_by(entity="milestone")).scalar_one()
    assert entry.user_id == users["nodal_own"].id
    assert entry.changes["percent_complete"] == [20, 45]


def test_due_date_revision_needs_a_reason(world, api):
    today, health, pwd, hm, pm, users = world
    client = api(users["nic"])
    new_due = (hm.due_date + timedelta(days=30)).isoformat()
    before = _milestone_row(hm.id)
    response = client.patch(f"/milestones/{hm.id}", json={"version": hm.version, "due_date": new_due})
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) >= {"reason", "note"}
    assert _milestone_row(hm.id) == before
    response = client.patch(f"/milestones/{hm.id}", json={
        "version": hm.version, "due_date": new_due, "reason": "vendor", "note": "Vendor delay"})
    assert response.status_code == 200
    assert response.json["due_date"] == new_due
    assert response.json["days_slipped"] == 0 or response.json["baseline_due"] is None


def test_every_validation_error_is_listed(world, api):
    today, health, pwd, hm, pm, users = world
    client = api(users["nic"])
    response = client.patch(f"/milestones/{hm.id}", json={
        "version": hm.version, "status": "flying", "percent_complete": "lots", "due_date": "soon",
        "colour": "red"})
    assert response.status_code == 422
    # The status off its list is named too, beside the fields of the wrong type.
    assert response.json["error"]["fields"] == {
        "status": "Choose a status from the list.", "percent_complete": "Must be a whole number.",
        "due_date": "Use a date as YYYY-MM-DD.", "colour": "Unknown field."}
    response = client.patch(f"/milestones/{hm.id}", json={
        "version": hm.version, "status": "flying", "percent_complete": 150})
    assert set(response.json["error"]["fields"]) == {"status", "percent_complete"}


def test_stale_version_gets_409_with_the_current_record(world, api):
    today, health, pwd, hm, pm, users = world
    first, second = api(users["nic"]), api(users["nodal_own"])
    etag = first.get(f"/milestones/{hm.id}").headers["ETag"]
    assert first.patch(f"/milestones/{hm.id}", headers={"If-Match": etag},
                       json={"percent_complete": 60, "note": "first"}).status_code == 200
    response = second.patch(f"/milestones/{hm.id}", headers={"If-Match": etag},
                            json={"percent_complete": 30, "note": "second"})
    assert response.status_code == 409
    assert response.json["error"]["code"] == "conflict"
    assert response.json["current"]["percent_complete"] == 60
    assert _milestone_row(hm.id)[1] == 60


def test_update_without_a_version_is_428_and_bad_if_match_412(world, api):
    today, health, pwd, hm, pm, users = world
    client = api(users["nic"])
    assert client.patch(f"/milestones/{hm.id}", json={"percent_complete": 30}).status_code == 428
    assert client.patch(f"/milestones/{hm.id}", headers={"If-Match": "*"},
                        json={"percent_complete": 30}).status_code == 412


def test_bad_json_400_not_json_415_too_large_413(world, api, app):
    today, health, pwd, hm, pm, users = world
    client = api(users["nic"])
    response = client.patch(f"/milestones/{hm.id}", data="{not json",
                            headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json["error"]["code"] == "bad_request"
    assert client.patch(f"/milestones/{hm.id}", data="x=1").status_code == 415
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = client.patch(f"/milestones/{hm.id}", json={"version": 1, "note": "x" * 5000})
    assert response.status_code == 413 and response.json["error"]["code"] == "too_large"


@pytest.mark.parametrize("role, expected", [
    ("secretary", 200), ("nic", 200), ("nodal_own", 200), ("nodal_other", 404),
    ("viewer", 403), ("admin", 403),
])
def test_milestone_update_permission_matrix(world, api, role, expected):
    today, health, pwd, hm, pm, users = world
    before = _milestone_row(hm.id)
    response = api(users[role]).patch(f"/milestones/{hm.id}", json={
        "version": hm.version, "percent_complete": 70, "note": "x"})
    assert response.status_code == expected, response.json
    if expected != 200:
        assert _milestone_row(hm.id) == before


def test_health_nodal_token_cannot_touch_a_public_works_milestone(world, api):
    today, health, pwd, hm, pm, users = world
    client = api(users["nodal_own"])
    before = _milestone_row(pm.id)
    assert client.get(f"/milestones/{pm.id}").status_code == 404
    assert client.patch(f"/milestones/{pm.id}", json={"version": pm.version, "percent_complete": 99,
                                                      "note": "x"}).status_code == 404
    assert client.post("/bottlenecks", json={"department": "pwd", "title": "x", "category": "funds",
                                             "severity": "low"}).status_code == 404
    assert _milestone_row(pm.id) == before
    assert db.session.execute(db.select(Bottleneck)).first() is None


def test_raise_update_escalate_resolve_bottleneck(world, api):
    today, health, pwd, hm, pm, users = world
    nodal = api(users["nodal_own"])
    response = nodal.post("/bottlenecks", json={
        "department": "health", "milestone_id": hm.id, "title": "Funds not released",
        "category": "funds", "severity": "high"})
    assert response.status_code == 201, response.json
    b = response.json
    assert response.headers["Location"].endswith(f"/api/v1/bottlenecks/{b['id']}")
    assert b["status"] == "open" and b["raised_on"] == today.isoformat()
    response = nodal.patch(f"/bottlenecks/{b['id']}", json={"version": b["version"], "severity": "critical"})
    assert response.status_code == 200 and response.json["severity"] == "critical"
    assert nodal.post(f"/bottlenecks/{b['id']}/escalate", json={}).status_code == 403
    nic = api(users["nic"])
    response = nic.post(f"/bottlenecks/{b['id']}/escalate", json={"note": "Secretary to take up"})
    assert response.status_code == 200 and response.json["status"] == "escalated"
    response = nodal.post(f"/bottlenecks/{b['id']}/resolve", json={})
    assert response.status_code == 422 and "note" in response.json["error"]["fields"]
    response = nodal.post(f"/bottlenecks/{b['id']}/resolve", json={"note": "Funds released"})
    assert response.status_code == 200 and response.json["status"] == "resolved"
    actions = [a.action for a in db.session.execute(
        db.select(AuditLog).filter_by(entity="bottleneck").order_by(AuditLog.id)).scalars()]
    assert actions == ["raise", "update", "escalate", "resolve"]


def test_raise_bottleneck_lists_every_missing_field(world, api):
    today, health, pwd, hm, pm, users = world
    response = api(users["nic"]).post("/bottlenecks", json={"department": "health"})
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"title", "category", "severity"}


def test_viewer_cannot_raise_a_bottleneck(world, api):
    today, health, pwd, hm, pm, users = world
    response = api(users["viewer"]).post("/bottlenecks", json={
        "department": "health", "title": "x", "category": "funds", "severity": "low"})
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"


def test_update_own_service_and_not_another_departments(world, api):
    from models import Service

    today, health, pwd, hm, pm, users = world
    own = factories.service(department=health, name="Birth certificate", delivery_mode="offline")
    other = factories.service(department=pwd, name="Road cutting permission")
    nodal = api(users["nodal_own"])
    read = own.version
    response = nodal.patch(f"/services/{own.id}", json={
        "version": read, "delivery_mode": "integrated",
        "url": "https://health.ladakh.example/birth"})
    assert response.status_code == 200, response.json
    assert response.json["delivery_mode"] == "integrated"
    assert nodal.patch(f"/services/{other.id}", json={
        "version": other.version, "delivery_mode": "integrated"}).status_code == 404
    db.session.expire_all()
    assert db.session.get(Service, other.id).delivery_mode == "offline"
    response = nodal.patch(f"/services/{own.id}", json={
        "version": read, "delivery_mode": "online_standalone"})
    assert response.status_code == 409
    response = nodal.patch(f"/services/{own.id}", json={
        "version": db.session.get(Service, own.id).version, "url": None})
    assert response.status_code == 422 and "url" in response.json["error"]["fields"]
    assert api(users["viewer"]).patch(f"/services/{own.id}", json={
        "version": 2, "name": "x"}).status_code == 403


def test_update_own_website(world, api):
    today, health, pwd, hm, pm, users = world
    site = factories.asset(department=health, https=False)
    nodal = api(users["nodal_own"])
    response = nodal.patch(f"/websites/{site.id}", json={
        "version": site.version, "https": True, "audit_valid_until": "2027-12-31"})
    assert response.status_code == 200, response.json
    assert response.json["https"] is True and response.json["audit_valid_until"] == "2027-12-31"
    response = nodal.patch(f"/websites/{site.id}", json={"version": 2, "https": "yes"})
    assert response.status_code == 422 and "https" in response.json["error"]["fields"]
    assert api(users["nodal_other"]).patch(f"/websites/{site.id}", json={
        "version": 2, "https": False}).status_code == 404


def test_update_own_action_item_status(world, api):
    from models import ActionItem

    today, health, pwd, hm, pm, users = world
    item = factories.action_item(department=health)
    nodal = api(users["nodal_own"])
    response = nodal.patch(f"/action-items/{item.id}", json={"version": item.version, "status": "done"})
    assert response.status_code == 422 and "closing_note" in response.json["error"]["fields"]
    response = nodal.patch(f"/action-items/{item.id}", json={
        "version": item.version, "status": "done", "closing_note": "Audit certificate uploaded"})
    assert response.status_code == 200, response.json
    assert response.json["status"] == "done"
    db.session.expire_all()
    assert db.session.get(ActionItem, item.id).closing_note == "Audit certificate uploaded"
    stale = nodal.patch(f"/action-items/{item.id}", json={"version": 1, "status": "open"})
    assert stale.status_code == 409 and stale.json["current"]["status"] == "done"
    assert api(users["nodal_other"]).patch(f"/action-items/{item.id}", json={
        "version": 2, "status": "open"}).status_code == 404


def test_a_value_off_its_list_reads_as_the_operation_words_it_in_the_users_language(world, api):
    """The request model refuses a status off its list with the operation's own words, so the
    message is the same (and as translated) whichever layer catches it."""
    today, health, pwd, hm, pm, users = world
    hindi = users["nodal_own"]
    hindi.locale = "hi"
    db.session.commit()
    response = api(hindi).patch(f"/milestones/{hm.id}", json={"version": hm.version,
                                                              "status": "flying"})
    assert response.status_code == 422
    assert response.json["error"]["fields"] == {"status": "सूची में से एक स्थिति चुनें।"}
