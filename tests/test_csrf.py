"""CSRF, with the protection on as in production: a POST without the token, or with a
token that is not this session's, gets 400 and changes nothing; and no GET of any route
changes anything. Both walk ``app.url_map`` through the matrix's table, so a new route is
covered as soon as it has its line in ``ROUTES``.

The three kinds of bad token (missing, another session's, garbage) are each tried once on
their own (``test_each_kind_of_bad_token_is_refused``); the walk then sends one bad token
per endpoint and role, the kinds taken in turn, so every kind still meets many endpoints.
The world is built once for the module (``route_world``), each case rolled back."""
import pytest

from tracker.extensions import db

from tests.route_walk import (
    ROLES,
    csrf_token,
    sign_in_as,
    snapshot,
    user_of,
)
from tests.test_authorization_matrix import _APP, ROUTES, cases

# The pages, not the JSON API: the API takes no session cookie and no CSRF token (bearer
# tokens only; tests/api/test_reads.py shows a signed-in session gets 401 there).
WRITES = [(e, m) for e, m in cases(_APP, ROUTES, methods=("POST", "PUT", "PATCH", "DELETE"))
          if not ROUTES[e].api]
READS = [(e, m) for e, m in cases(_APP, ROUTES, methods=("GET",)) if not ROUTES[e].api]


@pytest.fixture
def csrf_app(app):
    app.config["WTF_CSRF_ENABLED"] = True
    return app


def _url(app, endpoint, world):
    from flask import url_for

    with app.test_request_context():
        return url_for(endpoint, **ROUTES[endpoint].url_args(world))


def _other_sessions_token(app):
    """A real token, signed with the app's key, but made for another session. (In its own
    app context: Flask-WTF caches a request's token on ``g``, which the tests' shared app
    context would otherwise carry from one request to the next.)"""
    with app.app_context():
        other = app.test_client()
        return csrf_token(other.get("/sign-in").get_data(as_text=True))


KINDS = ("missing", "another_sessions", "garbage")
WRITE_CASES = [(endpoint, method, role, KINDS[(i + j) % len(KINDS)])
               for i, (endpoint, method) in enumerate(WRITES)
               for j, role in enumerate(("anonymous", "secretary"))]


def _refused_without_this_sessions_token(app, client, world, endpoint, method, role, token):
    spec = ROUTES[endpoint]
    if spec.prepare:
        spec.prepare(world)
        db.session.commit()
    sign_in_as(client, user_of(world, role))
    client.get("/" if role != "anonymous" else "/sign-in")  # this session has its own token
    data = spec.body(world)
    if token == "another_sessions":
        data["csrf_token"] = _other_sessions_token(app)
    elif token == "garbage":
        data["csrf_token"] = "not-a-token"
    url = _url(app, endpoint, world)
    before = snapshot()

    response = client.open(url, method=method, data=data)

    assert response.status_code == 400, f"{role} {method} {url} with {token} token"
    assert "not sent from this site" in response.get_data(as_text=True)
    assert snapshot() == before  # not a row, not even an audit entry


@pytest.mark.parametrize("role", ["anonymous", "secretary"])
@pytest.mark.parametrize("token", KINDS)
def test_each_kind_of_bad_token_is_refused(csrf_app, client, route_world, token, role):
    """Each kind of bad token on its own, on a form that writes (the profile's name)."""
    _refused_without_this_sessions_token(csrf_app, client, route_world, "profile.index",
                                         "POST", role, token)


@pytest.mark.parametrize("endpoint,method,role,token", WRITE_CASES,
                         ids=[f"{e}-{m}-{r}-{t}" for e, m, r, t in WRITE_CASES])
def test_write_without_this_sessions_token_gets_400_and_changes_nothing(
        csrf_app, client, route_world, endpoint, method, role, token):
    _refused_without_this_sessions_token(csrf_app, client, route_world, endpoint, method,
                                         role, token)


def test_sign_out_with_the_right_token_works_and_without_it_does_not(csrf_app, client,
                                                                     route_world):
    user = route_world.users.secretary
    sign_in_as(client, user)
    page = client.get("/").get_data(as_text=True)
    version = user.session_version
    assert client.post("/sign-out").status_code == 400
    assert client.get("/").status_code == 200  # still signed in
    response = client.post("/sign-out", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    from tracker.extensions import db

    db.session.expire_all()
    assert user.session_version == version + 1
    assert client.get("/").status_code == 302


def test_sign_in_form_carries_a_token_and_is_accepted_with_it(csrf_app, client):
    from tests import factories

    user = factories.user("viewer")
    email = user.email
    page = client.get("/sign-in").get_data(as_text=True)
    assert client.post("/sign-in", data={"email": email, "password": factories.PASSWORD}
                       ).status_code == 400
    response = client.post("/sign-in", data={"email": email, "password": factories.PASSWORD,
                                             "csrf_token": csrf_token(page)})
    assert response.status_code == 302


def _reader(endpoint):
    """A role the table lets read the page (the Secretary when she may)."""
    spec = ROUTES[endpoint]
    order = ["secretary"] + [r for r in ROLES if r != "secretary"]
    return next((r for r in order if spec.expected("GET", r) == 200), "secretary")


@pytest.mark.parametrize("endpoint,method", READS, ids=[e for e, _ in READS])
def test_no_get_changes_state(csrf_app, client, route_world, endpoint, method):
    """Every GET, as a user allowed to see the page, leaves every row of every table
    (the audit log included) as it was."""
    world = route_world
    if ROUTES[endpoint].prepare:  # the state the page needs (e.g. a draft plan)
        ROUTES[endpoint].prepare(world)
        db.session.commit()
    role = _reader(endpoint)
    sign_in_as(client, user_of(world, role))
    url = _url(csrf_app, endpoint, world)
    before = snapshot()

    response = client.get(url)

    assert response.status_code == 200, f"{role} GET {url}"
    assert snapshot() == before
