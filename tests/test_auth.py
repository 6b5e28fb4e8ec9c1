from datetime import timedelta

from models import AuditLog, User
from models.base import utcnow
from tests import factories
from tracker.auth import FAILED_MESSAGE
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
    assert "Roadmap overview" in page
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
