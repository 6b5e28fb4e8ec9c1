"""The OpenAPI description agrees with the routes, and real responses match its schemas."""
import re
from datetime import timedelta

import jsonschema
import pytest

from tests import factories
from tracker import clock
from views.api.openapi import spec


def _routes(app):
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint == "api.openapi_json":
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule[len("/api/v1"):])
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((path, method.lower()))
    return routes


def test_every_route_is_described_and_every_description_routed(app):
    described = {(path, method) for path, ops in spec()["paths"].items() for method in ops}
    assert described == _routes(app)


def test_the_description_is_served_without_a_token_and_is_valid(client):
    from jsonschema.validators import Draft202012Validator

    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json
    assert document["openapi"].startswith("3.1")
    for name, schema in document["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)


def validate(document, status, path, method, body):
    """Validate a response body against the description of that operation and status."""
    op = document["paths"][path][method]
    schema = op["responses"][str(status)]["content"]["application/json"]["schema"]
    resolver_schema = {"components": document["components"], **schema}
    jsonschema.validate(body, resolver_schema, cls=jsonschema.Draft202012Validator)


@pytest.fixture
def data(app):
    today = clock.today()
    health = factories.department("health")
    plan = factories.plan(department=health, status="approved")
    m = factories.milestone(plan=plan, today=today, due_date=today - timedelta(days=3))
    factories.bottleneck(milestone=m)
    factories.flag(subject_id=m.id, department=health)
    service = factories.service(department=health)
    website = factories.asset(department=health)
    meeting = factories.meeting()
    item = factories.action_item(meeting=meeting, department=health)
    return {"milestone_id": m.id, "plan_id": plan.id, "meeting_id": meeting.id,
            "item_id": item.id, "service_id": service.id, "website_id": website.id,
            "bottleneck_id": m.bottlenecks[0].id if m.bottlenecks else 1,
            "code": "health"}


def test_real_responses_match_the_description(app, api, data):
    from models import Bottleneck
    from tracker.extensions import db

    data["bottleneck_id"] = db.session.execute(db.select(Bottleneck.id)).scalar()
    client = api(factories.user("secretary"))
    document = spec()
    checked = 0
    for path, ops in document["paths"].items():
        if "get" not in ops:
            continue
        url = path.format(**data)
        response = client.get(url)
        assert response.status_code == 200, (url, response.json)
        validate(document, 200, path, "get", response.json)
        checked += 1
    # and the errors
    response = client.get("/milestones/999999")
    validate(document, 404, "/milestones/{milestone_id}", "get", response.json)
    response = client.get("/milestones?health=purple")
    validate(document, 422, "/milestones", "get", response.json)
    assert checked >= 15
