from datetime import timedelta

from models import AuditLog, User
from models.base import utcnow
from tests import factories
from views.auth import FAILED_MESSAGE
from tracker.extensions import db


def test_sign_in_page_renders(client):
    response = client.get("/sign-in")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<label for="email">E-mail</label>' in html
    assert 'lang="en"' in html


def test_home_requires_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_good_sign_in_shows_home(client, auth):
    user = factories.user("secretary", name="Asha Secretary")
    response = auth.sign_in(user)
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "Asha Secretary" in page
    assert "Your work" in page  # the Secretary opens the app to a work list (views/home.py)
    assert db.session.get(User, user.id).last_login_at is not None


def test_wrong_password_and_unknown_user_get_the_same_message(client, auth):
    user = factories.user("nic")
    wrong = auth.sign_in(user, "not the password")
    unknown = auth.sign_in("nobody@test.example", "whatever")
    assert wrong.status_code == unknown.status_code == 401
    assert FAILED_MESSAGE in wrong.get_data(as_text=True)
    assert FAILED_MESSAGE in unknown.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still not signed in


def test_invalid_form_shows_errors_beside_fields(client):
    response = client.post("/sign-in", data={"email": "not-an-email", "password": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="email-error"' in html and 'id="password-error"' in html
    assert 'value="not-an-email"' in html  # what the user typed is kept


def test_lock_out_after_five_failures(app, client, auth):
    user = factories.user("nodal")
    for _ in range(5):
        assert auth.sign_in(user, "bad").status_code == 401
    locked = db.session.get(User, user.id)
    assert locked.locked_until is not None
    # Even the right password is refused while locked, with the same message.
    response = auth.sign_in(user)
    assert response.status_code == 401
    assert FAILED_MESSAGE in response.get_data(as_text=True)
    actions = [a.action for a in db.session.execute(db.select(AuditLog)).scalars()]
    assert "account_locked" in actions and "sign_in_refused_locked" in actions


def test_lock_out_ends_after_the_configured_minutes(client, auth):
    user = factories.user("nic")
    user.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert auth.sign_in(user).status_code == 302


def test_inactive_user_cannot_sign_in(auth):
    user = factories.user("viewer", active=False)
    assert auth.sign_in(user).status_code == 401


def test_sign_in_starts_a_new_session(client, auth):
    user = factories.user("viewer")
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
    auth.sign_in(user)
    with client.session_transaction() as sess:
        assert "planted" not in sess


def test_sign_out_refuses_a_cookie_copied_before(app, client, auth):
    user = factories.user("secretary")
    auth.sign_in(user)
    copied = client.get_cookie("session").value
    assert client.get("/").status_code == 200
    auth.sign_out()
    other = app.test_client()
    other.set_cookie("session", copied)
    assert other.get("/").status_code == 302


def test_next_to_another_host_is_ignored(client):
    user = factories.user("secretary")
    response = client.post("/sign-in?next=https://evil.example/x",
                           data={"email": user.email, "password": factories.PASSWORD})
    assert response.headers["Location"] == "/"
    client.post("/sign-out")
    response = client.post("/sign-in?next=//evil.example/x",
                           data={"email": user.email, "password": factories.PASSWORD})
    assert response.headers["Location"] == "/"


def test_next_to_a_local_page_is_followed(client):
    dept = factories.department("health")
    user = factories.user("secretary")
    response = client.post("/sign-in?next=/departments/health",
                           data={"email": user.email, "password": factories.PASSWORD})
    assert response.headers["Location"] == "/departments/health"
    assert dept.code == "health"


def test_email_is_case_insensitive(auth):
    user = factories.user("nic", email="officer@test.example")
    assert auth.sign_in("Officer@Test.Example").status_code == 302
    assert user.email == "officer@test.example"


# ---------------------------------------------------------------- ASVS L2: sign-in and sessions
import logging  # noqa: E402
import re  # noqa: E402

import pytest  # noqa: E402

from tests.route_walk import csrf_token, sign_in_as  # noqa: E402
from tracker import create_app  # noqa: E402
from views.auth import safe_next, session_expired, start_session  # noqa: E402

ISO_WITH_OFFSET = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+05:30"


def _events(caplog):
    return [r.security_event for r in caplog.records if hasattr(r, "security_event")]


def test_passwords_are_hashed_with_scrypt_and_a_salt_of_their_own(app):
    a = User(email="a@test.example", name="A", role="viewer")
    b = User(email="b@test.example", name="B", role="viewer")
    a.set_password("the same password")
    b.set_password("the same password")
    assert a.password_hash.startswith("scrypt:")
    assert a.password_hash != b.password_hash  # a salt per user
    assert "the same password" not in a.password_hash
    assert a.check_password("the same password") and not a.check_password("another")


def test_sign_in_is_throttled_after_the_limit(app, database_url):
    """Flask-Limiter on: the fourth POST in a minute from one address gets 429, and the
    refusal is not even counted against the account."""
    user = factories.user("nic")
    email, user_id = user.email, user.id
    db.session.commit()  # on SQLite a transaction holds the write lock: end the test's own
    limited = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_ENABLED": True,
                          "LOGIN_RATE_LIMIT": "3 per minute"})
    client = limited.test_client()
    codes = [client.post("/sign-in", data={"email": email, "password": "wrong"}).status_code
             for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    page = client.post("/sign-in", data={"email": email, "password": PASSWORD_OF_FACTORIES})
    assert page.status_code == 429  # even the right password waits
    assert "Too many requests" in page.get_data(as_text=True)
    assert client.get("/sign-in").status_code == 200  # the form itself is not limited
    with limited.app_context():
        assert db.session.get(User, user_id).failed_logins == 3
        db.engine.dispose()


PASSWORD_OF_FACTORIES = factories.PASSWORD


@pytest.fixture
def production(monkeypatch, app, database_url):
    """The production configuration, with its secrets in the environment."""
    monkeypatch.setenv("SECRET_KEY", "a-production-secret-of-enough-length")
    monkeypatch.setenv("DATABASE_URL", database_url)
    prod = create_app(config_name="production")
    yield prod
    with prod.app_context():
        db.engine.dispose()


def test_production_reads_its_secrets_from_the_environment(production, database_url):
    assert production.config["SECRET_KEY"] == "a-production-secret-of-enough-length"
    assert production.config["SQLALCHEMY_DATABASE_URI"] == database_url
    assert production.config["WTF_CSRF_ENABLED"] is not False
    assert not production.testing


def test_production_cookie_is_secure_httponly_samesite_and_never_remembered(production):
    user = factories.user("secretary")
    email = user.email
    db.session.commit()
    client = production.test_client()
    form = client.get("/sign-in", base_url="https://tracker.example")
    assert form.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    response = client.post("/sign-in", base_url="https://tracker.example",
                           headers={"Referer": "https://tracker.example/sign-in"},
                           data={"email": email, "password": factories.PASSWORD,
                                 "csrf_token": csrf_token(form.get_data(as_text=True))})
    assert response.status_code == 302
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = [c for c in cookies if c.startswith("session=")]
    assert len(session_cookie) == 1, cookies
    flags = [part.strip().lower() for part in session_cookie[0].split(";")]
    assert "secure" in flags and "httponly" in flags and "samesite=lax" in flags
    assert not any(c.startswith("remember_token") for c in cookies)
    assert client.get("/", base_url="https://tracker.example").status_code == 200


def test_testing_and_development_send_no_hsts(client):
    assert "Strict-Transport-Security" not in client.get("/sign-in").headers


def test_no_remember_me_cookie_on_sign_in(client, auth):
    user = factories.user("viewer")
    response = auth.sign_in(user)
    cookies = response.headers.getlist("Set-Cookie")
    assert any(c.startswith("session=") for c in cookies)
    assert not any("remember" in c.lower() for c in cookies)


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/", "/\t/evil.example", "/\n/evil.example",
    "/\\evil.example", "\\\\evil.example", "javascript:alert(1)", "evil.example", " /x",
    "/x\x7f",
])
def test_next_that_could_leave_the_site_is_refused(target):
    assert safe_next(target) is None


@pytest.mark.parametrize("target", ["/", "/departments/health", "/departments/health?x=1"])
def test_next_to_a_page_of_the_site_is_kept(target):
    assert safe_next(target) == target


def test_idle_session_ends_after_the_idle_minutes(app, client, caplog):
    user = factories.user("secretary")
    sign_in_as(client, user)
    assert client.get("/").status_code == 200
    idle = app.config["SESSION_IDLE_MINUTES"] * 60
    with client.session_transaction() as sess:
        sess["seen_at"] -= idle + 1
    caplog.set_level(logging.INFO, logger="tracker.security")
    response = client.get("/departments/x?y=1")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")
    assert client.get("/").status_code == 302  # signed out for good
    assert [e["reason"] for e in _events(caplog) if e["event"] == "session_expired"] == ["idle"]


def test_a_session_in_use_ends_after_the_maximum_hours(app):
    now = utcnow()
    sess = {}
    with app.test_request_context():
        start_session(sess, now - timedelta(hours=app.config["SESSION_MAX_HOURS"], seconds=1))
        sess["seen_at"] = int(now.timestamp())  # active a moment ago
        assert session_expired(sess, now) == "absolute"
        start_session(sess, now - timedelta(minutes=5))
        assert session_expired(sess, now) is None
        assert session_expired({}, now) == "absolute"  # not stamped by sign-in


def test_a_request_refreshes_the_idle_clock(app, client):
    user = factories.user("viewer")
    sign_in_as(client, user)
    with client.session_transaction() as sess:
        sess["seen_at"] -= 20 * 60  # idle 20 of the 30 minutes
        before = sess["seen_at"]
    assert client.get("/").status_code == 200
    with client.session_transaction() as sess:
        assert sess["seen_at"] > before
    with client.session_transaction() as sess:
        sess["seen_at"] -= 20 * 60  # another 20: idle only since the last request
    assert client.get("/").status_code == 200


def test_unknown_email_spends_a_password_hash_like_a_known_one(app, client, monkeypatch):
    import views.auth as auth_module

    checked = []
    real = auth_module.check_password_hash
    monkeypatch.setattr(auth_module, "check_password_hash",
                        lambda h, p: checked.append(p) or real(h, p))
    client.post("/sign-in", data={"email": "nobody@test.example", "password": "guess"})
    assert checked == ["guess"]


# ---------------------------------------------------------------- the security log


def test_sign_in_events_are_logged_with_who_what_when_and_where(app, client, auth, caplog):
    caplog.set_level(logging.INFO, logger="tracker.security")
    user = factories.user("nodal", email="nodal.x@test.example")
    auth.sign_in(user)
    auth.sign_out()
    auth.sign_in("nobody@test.example", "guess")
    events = _events(caplog)
    assert [e["event"] for e in events] == ["sign_in", "sign_out", "sign_in_failed"]
    signed_in = events[0]
    assert signed_in["user"] == user.id and signed_in["email"] == "nodal.x@test.example"
    assert signed_in["role"] == "nodal"
    assert signed_in["ip"] == "127.0.0.1" and signed_in["path"] == "/sign-in"
    assert re.fullmatch(ISO_WITH_OFFSET, signed_in["at"]), signed_in["at"]
    assert events[2]["email"] == "nobody@test.example" and events[2]["user"] is None
    line = [r.getMessage() for r in caplog.records if "event=sign_in " in r.getMessage() + " "][0]
    assert re.search(r"at=" + ISO_WITH_OFFSET, line) and "ip=127.0.0.1" in line


def test_lock_out_is_logged_as_a_warning(app, auth, caplog):
    caplog.set_level(logging.INFO, logger="tracker.security")
    user = factories.user("nic")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        auth.sign_in(user, "bad")
    auth.sign_in(user)
    records = [r for r in caplog.records if hasattr(r, "security_event")]
    assert [r.security_event["event"] for r in records] == (
        ["sign_in_failed"] * app.config["LOGIN_MAX_FAILURES"]
        + ["account_locked", "sign_in_refused_locked"])
    assert all(r.levelno == logging.WARNING for r in records)
    assert re.fullmatch(ISO_WITH_OFFSET, records[-2].security_event["locked_until"])


@pytest.mark.fresh_app  # adds a route
@pytest.mark.parametrize("status", [403, 404])
def test_refused_access_of_a_signed_in_user_is_logged_and_audited(app, client, caplog, status):
    from flask import abort

    app.add_url_rule(f"/refuse-{status}", f"refuse_{status}", lambda: abort(status))
    own, other = factories.department("own"), factories.department("other")
    user = factories.user("nodal", department=own)
    sign_in_as(client, user)
    caplog.set_level(logging.INFO, logger="tracker.security")
    path = f"/departments/{other.code}" if status == 404 else f"/refuse-{status}"
    assert client.get(path, headers={"User-Agent": "test-agent"}).status_code == status
    refused = [e for e in _events(caplog) if e["event"] == "access_refused"]
    assert len(refused) == 1
    assert refused[0]["user"] == user.id and refused[0]["status"] == status
    assert refused[0]["path"] == path and refused[0]["ip"] == "127.0.0.1"
    assert refused[0]["agent"] == "test-agent"
    entry = db.session.execute(db.select(AuditLog).filter_by(action="access_refused")).scalar_one()
    assert entry.user_id == user.id and entry.remote_addr == "127.0.0.1"
    assert entry.changes == {"status": status, "method": "GET", "path": path}


@pytest.mark.fresh_app  # adds a route
def test_refused_request_rolls_back_what_it_had_changed(app, client):
    from flask import abort

    user = factories.user("viewer")

    def half_done():
        db.session.get(User, user.id).name = "Changed before the refusal"
        db.session.flush()
        abort(403)

    app.add_url_rule("/half-done", "half_done", half_done)
    sign_in_as(client, user)
    assert client.get("/half-done").status_code == 403
    db.session.expire_all()
    assert db.session.get(User, user.id).name != "Changed before the refusal"


def test_anonymous_refusals_are_logged_but_not_audited(app, client, caplog):
    caplog.set_level(logging.INFO, logger="tracker.security")
    assert client.get("/").status_code == 302
    assert client.post("/sign-out").status_code == 302
    events = [e["event"] for e in _events(caplog)]
    assert events == ["sign_in_required", "sign_in_required"]
    assert db.session.execute(db.select(AuditLog)).first() is None
