"""The add, edit and remove pages of the registers (the service register, the website and
app register): one flow, and a ``Register`` per register naming what differs.

The flow is the thin handler of every page: load, check the permission, validate the form,
call the register's operation, commit, flash, redirect. A ``ValidationError`` re-renders
the form (422) with each message beside its field; a ``ConflictError`` re-renders it (409)
with what is saved now beside what the user typed.
"""
import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from models import Department
from tracker.extensions import db
from tracker.i18n import N_
from tracker.permissions import acting_department_ids, authorize
from views.unit_of_work import form_errors, unit_of_work
from views.workflow_forms import opts

CONFLICT_MESSAGE = N_("Someone else changed this record after you opened it.")
CONFLICT_ON_DELETE = N_("Someone else changed this record after you opened it. Look at it again "
                        "before removing it.")


def department_choices(action):
    """(code, name) of the active departments the user may do ``action`` for."""
    ids = acting_department_ids(current_user, action)
    q = sa.select(Department).where(Department.active.is_(True)).order_by(Department.name)
    if ids is not None:
        q = q.where(Department.id.in_(ids or {-1}))
    return [(d.code, d.name) for d in db.session.execute(q).scalars()]


def can_add(action):
    acting = acting_department_ids(current_user, action)
    return acting is None or bool(acting)


def department_filter():
    """The ``?department=`` code of a register page, or None for all."""
    return request.args.get("department", "").strip().lower() or None


class Register:
    """One register's pages. Subclasses set the attributes and override the hooks."""

    model = None  # the record's model
    operations = None  # module with create(department, user, *, values, …), update, delete
    action = ""  # the permission to add, change and remove a record
    endpoint = ""  # the blueprint's name
    id_arg = ""  # the record's id in the URLs of the blueprint
    template = ""
    form_class = None
    delete_form_class = None
    added_message = ""  # each marked with N_, with %(name)s
    saved_message = ""
    removed_message = ""

    # --- hooks ------------------------------------------------------------------------

    def prepare(self, form, department, record=None):
        """Set the choices that depend on the department (and the record being edited)."""

    def operation_args(self, form):
        """Extra keyword arguments of ``create`` and ``update``."""
        return {}

    def saved_url(self, record):
        """Where to go after adding or saving."""
        return url_for(f"{self.endpoint}.index", department=record.department.code)

    def cancel_url(self, record, department):
        return url_for(f"{self.endpoint}.index", department=department.code)

    def context(self):
        """What the form template shows beside the form (labels of stored codes)."""
        return {}

    # --- the flow ---------------------------------------------------------------------

    def get(self, record_id):
        record = db.session.get(self.model, record_id)
        if record is None:
            abort(404)
        return record

    def _url(self, name, record_id):
        return url_for(f"{self.endpoint}.{name}", **{self.id_arg: record_id})

    def form_page(self, form, record, department):
        """``page(general_messages)``: the form again, the messages above it (422 after a
        POST)."""

        def page(general=()):
            form.form_errors.extend(general)
            return self.render(form, record, department,
                               422 if request.method == "POST" else 200)

        return page

    def render(self, form, record, department, status, **extra):
        delete_url = self._url("delete", record.id) if record is not None else None
        return render_template(self.template, form=form, record=record, department=department,
                               cancel_url=self.cancel_url(record, department),
                               delete_url=delete_url, **self.context(), **extra), status

    def new(self):
        allowed = department_choices(self.action)
        if not allowed:
            abort(403)
        form = self.form_class()
        form.department.choices = opts(allowed)
        code = form.department.data or request.args.get("department") or allowed[0][0]
        department = db.session.execute(sa.select(Department).filter_by(code=code)).scalar()
        if department is None:
            abort(404)
        authorize(self.action, department)
        if request.method == "GET":
            form.department.data = department.code
        self.prepare(form, department)
        page = self.form_page(form, None, department)
        if form.validate_on_submit():
            with unit_of_work(invalid=form_errors(form, page)):
                record = self.operations.create(department, current_user, values=form.values(),
                                                **self.operation_args(form))
            flash(_(self.added_message, name=record.name), "success")
            return redirect(self.saved_url(record))
        return page()

    def edit(self, record_id):
        record = authorize(self.action, self.get(record_id))
        form = self.form_class(obj=record if request.method == "GET" else None)
        department = record.department
        form.department.choices = opts([(department.code, department.name)])
        form.department.data = department.code
        self.prepare(form, department, record)
        if request.method == "GET":
            form.version.data = str(record.version)

        def page(general=(), status=None, conflict=None, saved=record):
            form.form_errors.extend(general)
            if status is None:
                status = 422 if request.method == "POST" else 200
            return self.render(form, saved, saved.department, status, conflict=conflict,
                               delete_form=self.delete_form_class(version=saved.version))

        def conflict(exc):
            saved = self.get(record_id)
            form.version.data = str(saved.version)
            return page(status=409, saved=saved,
                        conflict={"message": _(CONFLICT_MESSAGE), "saved": saved})

        if form.validate_on_submit():
            try:
                expected = int(form.version.data or 0)
            except ValueError:
                expected = 0
            with unit_of_work(invalid=form_errors(form, page), conflict=conflict):
                self.operations.update(record, current_user, expected_version=expected,
                                       values=form.values(), **self.operation_args(form))
            flash(_(self.saved_message, name=record.name), "success")
            return redirect(self.saved_url(record))
        return page()

    def delete(self, record_id):
        record = authorize(self.action, self.get(record_id))
        form = self.delete_form_class()
        name, code = record.name, record.department.code

        def conflict(exc):
            flash(_(CONFLICT_ON_DELETE), "error")
            return redirect(self._url("edit", record_id)), 303

        with unit_of_work(conflict=conflict):
            self.operations.delete(record, current_user,
                                   expected_version=int(form.version.data or 0) or None)
        flash(_(self.removed_message, name=name), "success")
        return redirect(url_for(f"{self.endpoint}.index", department=code))
