"""The OpenAPI description agrees with the routes, and real responses match its schemas."""
import re
from datetime import timedelta

import jsonschema
import pytest

from tests import factories
from tracker import clock
from views.api.openapi import ROUTES, spec


def _routes(app):
    """(endpoint, method, path) of every route of the app under /api."""
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        assert rule.rule.startswith("/api/v1/"), rule.rule
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule[len("/api/v1"):])
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((rule.endpoint, method.lower(), path))
    return routes


def test_every_route_is_described_and_every_description_routed(app):
    table = {(route.endpoint, route.method, route.path) for route in ROUTES}
    assert len(table) == len(ROUTES)
    assert table == _routes(app)
    described = {(path, method) for path, ops in spec()["paths"].items() for method in ops}
    assert described == {(path, method) for _, method, path in _routes(app)}


def test_the_description_names_the_query_parameters_each_view_reads(app):
    for route in ROUTES:
        view = app.view_functions[route.endpoint]
        assert route.query_names() == set(getattr(view, "query_args", ())), route.endpoint


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
        if "get" not in ops or path == "/openapi.json":
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


def test_each_write_validates_with_the_request_model_it_describes(app, api, data):
    """Every field of a write's request model is checked by the view (a list, which no field
    takes, is refused for each of them by name) and no other field is taken."""
    from models import Bottleneck
    from tracker.extensions import db

    data["bottleneck_id"] = db.session.execute(db.select(Bottleneck.id)).scalar()
    health = db.session.execute(db.select(Bottleneck)).scalar().department
    nodal, nic = api(factories.user("nodal", department=health)), api(factories.user("nic"))
    writes = [route for route in ROUTES if route.request is not None]
    assert len(writes) == 9
    for route in writes:
        client = nic if route.endpoint == "api.escalate_bottleneck" else nodal
        fields = set(route.request.model_fields) - {"version"}
        body = {name: [1] for name in fields} | {"not_a_field": 1}
        response = getattr(client, route.method)(route.path.format(**data), json=body,
                                                 headers={"If-Match": 'W/"1"'})
        assert response.status_code == 422, (route.endpoint, response.json)
        assert set(response.json["error"]["fields"]) == fields | {"not_a_field"}, route.endpoint
        assert response.json["error"]["fields"]["not_a_field"] == "Unknown field."
