"""The request's unit of work (views/unit_of_work.py): a write commits when the block ends;
a ValidationError, a ConflictError, a refusal or any other error rolls everything back and
gets its answer, with what the user typed kept on the form."""
import pytest
import sqlalchemy as sa
from flask import abort, render_template_string, request
from flask_wtf import FlaskForm
from wtforms import StringField

from models import Department
from tracker.extensions import db
from tracker.operations.errors import ConflictError, ValidationError
from views.unit_of_work import dry_run, flash_refusal, form_errors, refuse, unit_of_work

# Each test adds its own routes to the app: an app of its own.
pytestmark = [pytest.mark.fresh_app, pytest.mark.commits]

PAGE = """{% for m in general %}<p class=general>{{ m }}</p>{% endfor %}
<input name=name value="{{ form.name.data or '' }}">
{% for e in form.name.errors %}<span class=error>{{ e }}</span>{% endfor %}"""


class NameForm(FlaskForm):
    name = StringField()


def saved_codes():
    """The department codes in the database once whatever the session still holds is
    committed (the test shares the request's session: one app context), read on a connection
    of its own."""
    db.session.commit()
    with db.engine.connect() as connection:
        return set(connection.execute(sa.select(Department.code)).scalars())


@pytest.fixture
def routes(app):
    """A write page whose operation adds a department, then fails as ``?fail=`` says."""

    def operation(fail):
        department = Department(code="dept", name=request.form.get("name", "Dept"))
        db.session.add(department)
        db.session.flush()
        if fail == "invalid":
            raise ValidationError({"name": ["Use another name."], "_": ["Nothing was saved."]})
        if fail == "conflict":
            raise ConflictError(department, 1, 2)
        if fail == "refused":
            abort(403)
        if fail == "crash":
            raise RuntimeError("boom")
        if fail == "refuse":
            refuse(lambda: ("left as it was: " + ",".join(
                db.session.execute(sa.select(Department.code)).scalars()), 409))
        return department

    def write():
        form = NameForm()
        fail = request.args.get("fail")

        def page(general):
            return render_template_string(PAGE, form=form, general=general), 422

        def conflict(error):
            return f"conflict with version {error.current_version}", 409

        with unit_of_work(invalid=form_errors(form, page), conflict=conflict):
            code = operation(fail).code
        return f"saved {code}"

    def bare():
        with unit_of_work():
            operation(request.args.get("fail"))
        return "saved"

    def flashing():
        with unit_of_work(invalid=flash_refusal("/somewhere", 303)):
            operation(request.args.get("fail"))
        return "saved"

    def preview():
        with dry_run():
            department = operation(None)
            name = department.name
        return f"would add {name}"

    app.add_url_rule("/uow/write", "uow_write", write, methods=["POST"])
    app.add_url_rule("/uow/bare", "uow_bare", bare, methods=["POST"])
    app.add_url_rule("/uow/flash", "uow_flash", flashing, methods=["POST"])
    app.add_url_rule("/uow/preview", "uow_preview", preview, methods=["POST"])
    return app.test_client()


def test_success_commits(routes):
    response = routes.post("/uow/write", data={"name": "Health"})
    assert (response.status_code, response.text) == (200, "saved dept")
    assert saved_codes() == {"dept"}


def test_validation_error_rolls_back_and_shows_the_form_as_typed(routes):
    response = routes.post("/uow/write?fail=invalid", data={"name": "Typed by the user"})
    assert response.status_code == 422
    assert 'value="Typed by the user"' in response.text
    assert '<span class=error>Use another name.</span>' in response.text
    assert '<p class=general>Nothing was saved.</p>' in response.text
    assert saved_codes() == set()


def test_conflict_rolls_back_and_answers_409(routes):
    response = routes.post("/uow/write?fail=conflict", data={"name": "Health"})
    assert (response.status_code, response.text) == (409, "conflict with version 2")
    assert saved_codes() == set()


def test_refusal_rolls_back_and_reaches_the_403_page(routes):
    response = routes.post("/uow/write?fail=refused", data={"name": "Health"})
    assert response.status_code == 403
    assert saved_codes() == set()


def test_any_other_error_rolls_back_and_is_passed_on(routes):
    with pytest.raises(RuntimeError):
        routes.post("/uow/write?fail=crash", data={"name": "Health"})
    assert saved_codes() == set()


def test_an_error_without_its_handler_is_rolled_back_and_passed_on(routes):
    with pytest.raises(ValidationError):
        routes.post("/uow/bare?fail=invalid")
    with pytest.raises(ConflictError):
        routes.post("/uow/bare?fail=conflict")
    assert saved_codes() == set()


def test_refuse_answers_after_the_rollback(routes):
    response = routes.post("/uow/write?fail=refuse", data={"name": "Health"})
    assert (response.status_code, response.text) == (409, "left as it was: ")
    assert saved_codes() == set()


def test_flash_refusal_flashes_every_message_and_redirects(routes):
    response = routes.post("/uow/flash?fail=invalid")
    assert (response.status_code, response.headers["Location"]) == (303, "/somewhere")
    with routes.session_transaction() as session:
        assert session["_flashes"] == [("error", "Use another name. Nothing was saved.")]
    assert saved_codes() == set()


def test_dry_run_never_saves(routes):
    response = routes.post("/uow/preview", data={"name": "Health"})
    assert response.text == "would add Health"
    assert saved_codes() == set()
