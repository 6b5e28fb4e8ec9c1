"""The authorization matrix, complete by construction.

One parametrized test walks ``app.url_map``: every route × every method × every role
(``ROLES``) is asked, and the answer must be the one written in ``ROUTES`` below. A route
missing from ``ROUTES`` fails, so no new route can skip the matrix; a line for a route
that no longer exists fails too. A GET changes nothing, and a refused write changes no row
and no version (only the audit entry of the refusal is added).

Adding a route is one line: the endpoint, then per method seven statuses in the order
``anonymous viewer nodal_own nodal_other nic secretary admin``; ``args`` build the URL and
``data`` is the body of the POST, both with ``@`` for rows of the world
(``tests.route_walk.build_world``: ``@own.code``, ``@milestone.id``, ``@bottleneck.id``,
``@meeting.id``, ``@action_item.id``, ``@users.nic.id`` ...). The records are in the
department ``own``: ``nodal_own`` is its nodal officer, ``nodal_other`` is not.
"""
import pytest

from tests.route_walk import (
    REFUSED,
    ROLES,
    R,
    build_world,
    cases,
    changes,
    sign_in_as,
    snapshot,
    user_of,
)
from tracker import create_app

ROUTES = {
    # endpoint               method   anon viewer own other nic  sec  admin
    "static":                R(GET="200 200 200 200 200 200 200", args={"filename": "css/app.css"}),
    "auth.sign_in":          R(GET="200 302 302 302 302 302 302",
                               POST="401 302 302 302 302 302 302",
                               data={"email": "nobody@test.example", "password": "wrong"}),
    "auth.sign_out":         R(POST="302 302 302 302 302 302 302"),
    "home.index":            R(GET="302 200 200 200 200 200 200"),
    "home.set_language":     R(POST="302 302 302 302 302 302 302", data={"language": "hi"}),
    "departments.show":      R(GET="302 200 200 404 200 200 200", args={"code": "@own.code"}),
}

# The routes as the app has them, read once when the tests are collected.
_APP = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
CASES = cases(_APP, ROUTES)


def test_every_route_is_in_the_table_and_every_line_is_a_route(figure):
    found = {endpoint for endpoint, _ in CASES}
    missing = sorted(found - set(ROUTES))
    stale = sorted(set(ROUTES) - found)
    assert not missing, f"add a line to ROUTES for: {missing}"
    assert not stale, f"ROUTES names endpoints the app does not have: {stale}"
    for endpoint, spec in ROUTES.items():
        methods = {m for e, m in CASES if e == endpoint}
        assert spec.methods() == methods, f"{endpoint}: the app has {methods}, ROUTES {spec.methods()}"
    figure(f"authorization matrix: {len(found)} routes, {len(CASES)} route-methods "
           f"× {len(ROLES)} roles = {len(CASES) * len(ROLES)} cases")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint,method", CASES, ids=[f"{e}-{m}" for e, m in CASES])
def test_route_answers_each_role_as_the_table_says(app, client, endpoint, method, role):
    spec = ROUTES.get(endpoint)
    assert spec is not None, (
        f"{endpoint} ({method}) is not in ROUTES of tests/test_authorization_matrix.py: "
        f"add one line with the expected status for each of {', '.join(ROLES)}"
    )
    assert method in spec.methods(), f"ROUTES[{endpoint!r}] has no {method} line"
    world = build_world()
    sign_in_as(client, user_of(world, role))
    with app.test_request_context():
        from flask import url_for

        url = url_for(endpoint, **spec.url_args(world))
    before = snapshot()

    response = client.open(url, method=method, data=spec.body(world) if method != "GET" else None)

    expected = spec.expected(method, role)
    assert response.status_code == expected, (
        f"{role} {method} {url}: got {response.status_code}, the table says {expected}"
    )
    refused = response.status_code in REFUSED or (
        role == "anonymous" and response.status_code == 302
        and response.headers["Location"].startswith("/sign-in"))
    if method == "GET" or refused:
        assert changes(before, snapshot()) == [], f"{role} {method} {url} changed the database"
