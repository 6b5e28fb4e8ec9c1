"""One request's unit of work: what every page and API write does around an operation.

Operations (``tracker.operations``) flush and never commit. A view runs them inside
``unit_of_work``; the unit commits when the block ends and, when the block raises, rolls the
session back and answers:

- ``ValidationError`` (bad input): ``invalid(error)``, typically the form again with each
  message beside its field and everything the user typed kept (422);
- ``ConflictError`` (someone else saved first): ``conflict(error)``, typically the form or
  page again showing what the other person saved (409);
- a refusal (``abort(403)`` from ``authorize``, any ``HTTPException``) or any other error:
  rolled back and passed on, to the app's error pages (or the API's JSON errors).

A handler returns the response (anything a view may return) or raises (the API raises its
``ApiError``). It runs after the rollback, so what it reads from the database is as saved.
Without a handler for an error, that error is passed on after the rollback. ::

    with unit_of_work(invalid=form_errors(form, lambda general: page(general, 422))):
        ops.add_milestone(plan, current_user, **values)
    flash(_("The milestone was added."), "success")
    return redirect(url_for("plans.show", code=code), 303)

``refuse(answer)`` inside the block ends it with nothing saved and the response ``answer()``
builds after the rollback; ``dry_run()`` runs operations to see what they would do and always
rolls back.
"""
from contextlib import contextmanager

from flask import abort, flash, make_response, redirect

from tracker.extensions import db
from tracker.operations.errors import ConflictError, ValidationError
from views.workflow_forms import apply_errors


class _Refused(Exception):
    def __init__(self, answer):
        super().__init__("refused")
        self.answer = answer


def _answer(handler, error):
    """The handler's response, raised so that it leaves the view (``abort(response)``);
    a handler that raises (the API's ``ApiError``) raises its own."""
    abort(make_response(handler(error)))


@contextmanager
def unit_of_work(*, invalid=None, conflict=None):
    """Commit what the block did, or roll it back and answer (see the module's doc)."""
    try:
        yield
    except ValidationError as error:
        db.session.rollback()
        if invalid is None:
            raise
        _answer(invalid, error)
    except ConflictError as error:
        db.session.rollback()
        if conflict is None:
            raise
        _answer(conflict, error)
    except _Refused as refusal:
        db.session.rollback()
        _answer(lambda _error: refusal.answer(), refusal)
    except BaseException:
        db.session.rollback()
        raise
    try:
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def refuse(answer):
    """End the unit of work with nothing saved; ``answer()`` builds the response (anything a
    view may return) after the rollback."""
    raise _Refused(answer)


@contextmanager
def dry_run():
    """Run operations to see what they would do (an import's preview); nothing is saved."""
    try:
        yield
    finally:
        db.session.rollback()


# --- The usual answers ---------------------------------------------------------------------


def form_errors(form, render, rename=None):
    """``invalid`` handler: the operation's messages beside the form's fields (as typed), the
    rest given to ``render(general_messages)``, which returns the page. ``rename`` maps the
    operation's field names to the form's."""

    def answer(error):
        errors = error.errors if rename is None else rename(error.errors)
        return render(apply_errors(form, errors))

    return answer


def flash_refusal(url, code=302):
    """``invalid`` handler: the messages as one flashed error, and back to ``url``."""

    def answer(error):
        flash(" ".join(error.messages), "error")
        return redirect(url, code)

    return answer
