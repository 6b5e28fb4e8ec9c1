from datetime import timedelta

from models import ApiToken
from tests import factories
from tracker import clock
from tracker.extensions import db


def _setup():
    today = clock.today()
    health = factories.department("health", name="Health")
    pwd = factories.department("pwd", name="Public Works")
    hplan = factories.plan(department=health, status="approved")
    pplan = factories.plan(department=pwd, status="approved")
    overdue = factories.milestone(plan=hplan, code="H-1", today=today,
                                  due_date=today - timedelta(days=5))
    done = factories.milestone(plan=hplan, code="H-2", today=today, status="completed")
    works = factories.milestone(plan=pplan, code="P-1", today=today)
    return today, health, pwd, overdue, done, works


def test_no_token_is_401_with_json_error(client):
    response = client.get("/api/v1/milestones")
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    assert "Bearer" in response.headers["WWW-Authenticate"]


def test_bad_and_revoked_tokens_are_401(app, client, api):
    user = factories.user("nic")
    good = api(user)
    assert good.get("/milestones").status_code == 200
    bad = client.get("/api/v1/milestones", headers={"Authorization": "Bearer rt_nope"})
    assert bad.status_code == 401
    token = db.session.execute(db.select(ApiToken)).scalar_one()
    token.revoked_at = token.created_at
    db.session.commit()
    assert good.get("/milestones").status_code == 401


def test_a_session_cookie_does_not_open_the_api(client, as_user):
    as_user(factories.user("secretary"))
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/milestones").status_code == 401


def test_a_token_call_sets_no_cookie_and_acts_as_the_token_user_whatever_the_session(
        client, as_user, api):
    from models import AuditLog

    nodal = factories.user("nodal", department=factories.department("health"))
    token = api(nodal)
    response = token.get("/departments")
    assert response.status_code == 200
    assert response.headers.getlist("Set-Cookie") == []
    assert "Cookie" not in response.headers.get("Vary", "")
    as_user(factories.user("secretary"))  # a signed-in session in the same browser
    assert client.get("/").status_code == 200
    response = token.get("/departments")
    assert [d["code"] for d in response.json["items"]] == ["health"]  # the nodal's, not all
    assert response.headers.getlist("Set-Cookie") == []
    assert token.get("/departments/nope").status_code == 404
    refused = db.session.execute(db.select(AuditLog).filter_by(action="access_refused")).scalar_one()
    assert refused.user_id == nodal.id


def test_milestones_list_with_filters_and_total(app, api):
    today, health, pwd, overdue, done, works = _setup()
    nic = api(factories.user("nic"))
    body = nic.get("/milestones").json
    assert body["total"] == 3 and [m["code"] for m in body["items"]] == ["H-1", "H-2", "P-1"]
    body = nic.get("/milestones?health=overdue").json
    assert [m["code"] for m in body["items"]] == ["H-1"]
    assert body["items"][0]["health"] == "overdue"
    assert body["items"][0]["due_date"] == (today - timedelta(days=5)).isoformat()
    body = nic.get("/milestones?department=pwd").json
    assert [m["code"] for m in body["items"]] == ["P-1"]
    body = nic.get("/milestones?status=completed").json
    assert [m["code"] for m in body["items"]] == ["H-2"]
    body = nic.get(f"/milestones?due_before={today.isoformat()}").json
    assert [m["code"] for m in body["items"]] == ["H-1"]
    body = nic.get("/milestones?per_page=2&page=2").json
    assert body["total"] == 3 and body["page"] == 2 and [m["code"] for m in body["items"]] == ["P-1"]


def test_bad_query_parameters_get_422_with_fields(app, api):
    nic = api(factories.user("nic"))
    response = nic.get("/milestones?health=purple")
    assert response.status_code == 422
    assert "health" in response.json["error"]["fields"]
    assert nic.get("/milestones?due_before=yesterday").json["error"]["fields"]["due_before"]
    assert nic.get("/milestones?per_page=5000").status_code == 422
    unknown = nic.get("/milestones?department=nope")
    assert unknown.status_code == 200 and unknown.json["total"] == 0


def test_nodal_token_sees_only_its_department(app, api):
    today, health, pwd, overdue, done, works = _setup()
    nodal = api(factories.user("nodal", department=health))
    body = nodal.get("/milestones").json
    assert {m["department"] for m in body["items"]} == {"health"}
    assert nodal.get(f"/milestones/{works.id}").status_code == 404
    assert nodal.get(f"/milestones/{overdue.id}").status_code == 200
    assert [d["code"] for d in nodal.get("/departments").json["items"]] == ["health"]
    assert nodal.get("/departments/pwd").status_code == 404


def test_milestone_read_has_an_etag_and_history(app, api):
    from models import MilestoneUpdate

    today, health, pwd, overdue, done, works = _setup()
    user = factories.user("nic")
    db.session.add(MilestoneUpdate(milestone=overdue, user=user, status_from="not_started",
                                   status_to="in_progress", percent_from=0, percent_to=20,
                                   note="started"))
    db.session.commit()
    nic = api(user)
    response = nic.get(f"/milestones/{overdue.id}")
    assert response.headers["ETag"] == f'W/"{overdue.version}"'
    assert response.json["version"] == overdue.version
    history = nic.get(f"/milestones/{overdue.id}/history").json
    assert history["total"] == 1 and history["items"][0]["note"] == "started"
    assert history["items"][0]["by"] == user.name


def test_unknown_record_is_404_json(app, api):
    nic = api(factories.user("nic"))
    response = nic.get("/milestones/999999")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"
    assert nic.get("/no-such-thing").status_code == 404


def test_bottlenecks_flags_services_websites_meetings(app, api):
    today, health, pwd, overdue, done, works = _setup()
    factories.bottleneck(milestone=overdue, severity="critical", raised_on=today - timedelta(days=10))
    factories.flag(subject_id=overdue.id, department=health)
    factories.service(department=health, name="Birth certificate")
    factories.asset(department=health)
    meeting = factories.meeting()
    factories.action_item(meeting=meeting, department=health)
    nic = api(factories.user("nic"))
    b = nic.get("/bottlenecks?severity=critical").json["items"][0]
    assert b["age_days"] == 10 and b["past_sla"] is True and b["age_bucket"] == "0-15"
    assert nic.get("/flags").json["items"][0]["department"] == "health"
    assert nic.get("/services?department=health").json["items"][0]["name"] == "Birth certificate"
    assert nic.get("/websites").json["total"] == 1
    detail = nic.get(f"/meetings/{meeting.id}").json
    assert detail["action_items"][0]["department"] == "health"
    assert nic.get("/action-items?status=open").json["total"] == 1


def test_rate_limit_gives_429(app, client):
    from tracker import create_app
    from tracker.operations.tokens import create_token

    limited = create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                          "RATELIMIT_ENABLED": True, "API_RATE_LIMIT": "3 per minute"})
    user = factories.user("nic")
    _, plain = create_token(user, "t")
    db.session.commit()
    with limited.app_context():
        c = limited.test_client()
        codes = [c.get("/api/v1/departments", headers={"Authorization": f"Bearer {plain}"}).status_code
                 for _ in range(5)]
    assert codes[:3] == [200, 200, 200]
    assert codes[3] == 429
    assert c.get("/api/v1/departments", headers={"Authorization": f"Bearer {plain}"}).json["error"]["code"] == "rate_limited"


def test_nul_bytes_in_parameters_are_refused(app, api):
    nic = api(factories.user("nic"))
    response = nic.get("/milestones?department=a%00b")
    assert response.status_code == 400
    assert response.json["error"]["code"] == "bad_request"
