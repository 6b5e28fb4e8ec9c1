"""Hostile and mistaken API input: every case answered with its status and a JSON error,
nothing changed in the database, and every refusal in the security log."""
import logging
from datetime import timedelta

import pytest

from models import AuditLog, Bottleneck, DigitalAsset, Milestone, MilestoneUpdate, Service
from tests import factories
from tracker import clock, create_app
from tracker.extensions import db


@pytest.fixture
def world(app):
    today = clock.today()
    health = factories.department("health")
    pwd = factories.department("pwd")
    hm = factories.milestone(plan=factories.plan(department=health, status="approved"),
                             today=today, percent_complete=20)
    site = factories.asset(department=health, audit_valid_until=today + timedelta(days=100))
    service = factories.service(department=health, target_date=today + timedelta(days=60))
    users = {"nodal": factories.user("nodal", department=health), "nic": factories.user("nic"),
             "other": factories.user("nodal", department=pwd)}
    return today, health, hm, site, service, users


def _state():
    db.session.expire_all()
    return (
        [(m.status, m.percent_complete, m.due_date, m.version)
         for m in db.session.execute(db.select(Milestone)).scalars()],
        db.session.execute(db.select(db.func.count(MilestoneUpdate.id))).scalar(),
        [(s.target_date, s.version) for s in db.session.execute(db.select(Service)).scalars()],
        [(a.audit_valid_until, a.version)
         for a in db.session.execute(db.select(DigitalAsset)).scalars()],
        [(b.title, b.version) for b in db.session.execute(db.select(Bottleneck)).scalars()],
    )


def _error(response, status, code):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json and response.json["error"]["code"] == code, response.json
    return response.json["error"]


@pytest.mark.parametrize("path", ["/milestones/{hm}", "/services/{service}", "/websites/{site}"])
def test_a_date_sent_as_a_number_is_a_422_naming_the_field(world, api, path):
    today, health, hm, site, service, users = world
    field = {"/milestones/{hm}": "due_date", "/services/{service}": "target_date",
             "/websites/{site}": "audit_valid_until"}[path]
    url = path.format(hm=hm.id, service=service.id, site=site.id)
    record = {"/milestones/{hm}": hm, "/services/{service}": service, "/websites/{site}": site}[path]
    before = _state()
    body = {"version": record.version, field: 20270101}
    if field == "due_date":
        body.update(reason="vendor", note="moved")
    error = _error(api(users["nic"]).patch(url, json=body), 422, "validation_error")
    assert error["fields"] == {field: "Must be a date as text, YYYY-MM-DD."}
    assert _state() == before


@pytest.mark.parametrize("path", ["/departments/he%00alth", "/milestones?department=he%00alth",
                                  "/milestones?de%00partment=health"])
def test_a_nul_anywhere_in_the_address_is_a_400(world, api, path):
    error = _error(api(world[5]["nic"]).get(path), 400, "bad_request")
    assert error["message"]


def test_a_lone_surrogate_is_a_400_naming_the_field(world, api):
    today, health, hm, site, service, users = world
    before = _state()
    response = api(users["nodal"]).client.post(
        "/api/v1/bottlenecks", data='{"department": "health", "title": "Bad \\ud800 text", '
                                    '"category": "funds", "severity": "low"}',
        headers={**api(users["nodal"]).headers, "Content-Type": "application/json"})
    error = _error(response, 400, "bad_request")
    assert error["fields"] == {"title": "Contains a lone surrogate, which is not a character."}
    assert _state() == before


def test_deeply_nested_json_is_a_400(world, api):
    today, health, hm, site, service, users = world
    body = '{"title": ' + "[" * 5000 + "]" * 5000 + "}"
    client = api(users["nodal"])
    response = client.client.post("/api/v1/bottlenecks", data=body,
                                  headers={**client.headers, "Content-Type": "application/json"})
    error = _error(response, 400, "bad_request")
    assert "nests deeper" in error["message"]


def test_bidirectional_overrides_and_control_characters_are_refused(world, api):
    today, health, hm, site, service, users = world
    client = api(users["nodal"])
    before = _state()
    for title, char in (("invoice\u202Efdp.exe", "U+202E"), ("bell\x07", "U+0007"),
                        ("two\nlines", "U+000A")):
        response = client.post("/bottlenecks", json={
            "department": "health", "title": title, "category": "funds", "severity": "low"})
        error = _error(response, 422, "validation_error")
        assert char in error["fields"]["title"], error
    # Several lines are fine where text may have several lines.
    response = client.post("/bottlenecks", json={
        "department": "health", "title": "Two lines", "category": "funds", "severity": "low",
        "description": "First line\n\tsecond line"})
    assert response.status_code == 201
    db.session.rollback()
    assert _state()[:4] == before[:4]


def test_unknown_query_parameters_are_a_422_naming_them(world, api):
    client = api(world[5]["nic"])
    error = _error(client.get("/milestones?stauts=blocked&page=1"), 422, "validation_error")
    assert error["fields"] == {"stauts": "Unknown query parameter."}
    assert client.get("/milestones?status=blocked&page=1").status_code == 200
    assert _error(client.get(f"/milestones/{world[2].id}?x=1"), 422, "validation_error")


def test_405_names_the_methods_allowed(world, api):
    response = api(world[5]["nic"]).client.delete(
        f"/api/v1/milestones/{world[2].id}", headers=api(world[5]["nic"]).headers)
    _error(response, 405, "method_not_allowed")
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "PATCH"}


def test_refusals_are_logged_and_audited(world, api, client, caplog):
    today, health, hm, site, service, users = world
    caplog.set_level(logging.INFO, logger="tracker.security")
    other = api(users["other"])
    _error(client.get("/api/v1/milestones"), 401, "unauthorized")
    _error(client.get("/api/v1/milestones", headers={"Authorization": "Bearer rt_nope"}), 401,
           "unauthorized")
    _error(other.get(f"/milestones/{hm.id}"), 404, "not_found")
    _error(other.patch(f"/milestones/{hm.id}", json={"version": 1}), 404, "not_found")
    lines = [r.getMessage() for r in caplog.records if "event=access_refused" in r.getMessage()]
    assert [line.split("status=")[1].split()[0] for line in lines] == ["401", "401", "404", "404"]
    assert all("path=/api/v1/milestones" in line for line in lines)
    refused = db.session.execute(db.select(AuditLog).filter_by(action="access_refused")).scalars().all()
    assert [(e.user_id, e.changes["status"]) for e in refused] == [(users["other"].id, 404)] * 2


def test_429_says_when_to_retry_and_bad_tokens_are_throttled(database_url, caplog):
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_ENABLED": True,
                      "API_BAD_TOKEN_LIMIT": "3 per minute"})
    caplog.set_level(logging.INFO, logger="tracker.security")
    with app.app_context():
        client = app.test_client()
        bad = {"Authorization": "Bearer rt_guess"}
        statuses = [client.get("/api/v1/milestones", headers=bad).status_code for _ in range(5)]
        assert statuses == [401, 401, 401, 429, 429]
        response = client.get("/api/v1/milestones", headers=bad)
        assert response.status_code == 429 and response.json["error"]["code"] == "rate_limited"
        assert 1 <= int(response.headers["Retry-After"]) <= 60
        assert any("event=rate_limited" in r.getMessage() for r in caplog.records)
        db.session.remove()


def test_the_openapi_description_matches_the_conflict_and_etag(world, api, client):
    spec = client.get("/api/v1/openapi.json").json
    patch = spec["paths"]["/milestones/{milestone_id}"]["patch"]["responses"]
    assert patch["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Conflict"}
    assert "current" in spec["components"]["schemas"]["Conflict"]["properties"]
    assert "ETag" in patch["200"]["headers"]
    assert "Retry-After" in patch["429"]["headers"]
    # And the API sends what it describes: a stale version gets 409 with `current`.
    today, health, hm, site, service, users = world
    response = api(users["nic"]).patch(f"/milestones/{hm.id}", json={"version": hm.version + 5,
                                                                       "percent_complete": 30})
    assert response.status_code == 409
    assert set(response.json) == {"error", "current"}
    assert response.json["current"]["id"] == hm.id
