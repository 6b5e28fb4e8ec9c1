"""The administrator's screens: users, departments and the thresholds of the rules.

Thin handlers over ``tracker.operations.admin``: parse the form, authorize, call, commit,
redirect; a refused change re-renders the form with every message beside its field and
what was typed kept."""
import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from models import Department, User
from models.user import ROLES
from tracker.extensions import db
from tracker.labels import label
from tracker.operations import admin as ops
from tracker.permissions import require
from tracker.settings import EDITABLE, from_config, thresholds
from views.unit_of_work import form_errors, unit_of_work
from views.workflow_forms import opts

bp = Blueprint("admin", __name__, url_prefix="/admin")
PAGE_SIZE = 50


class UserForm(FlaskForm):
    name = StringField(_l("Name"), validators=[Length(max=200)])
    email = StringField(_l("E-mail (sign-in)"), validators=[Length(max=254)])
    designation = StringField(_l("Designation"), validators=[Length(max=200)])
    role = SelectField(_l("Role"))
    department = SelectField(_l("Department"))
    active = BooleanField(_l("Active (may sign in)"), default=True)
    password = PasswordField(_l("Temporary password"), validators=[Optional(), Length(max=200)])


class PasswordForm(FlaskForm):
    password = PasswordField(_l("New temporary password"), validators=[Length(max=200)])


class DepartmentForm(FlaskForm):
    code = StringField(_l("Code"), validators=[Length(max=32)])
    name = StringField(_l("Name"), validators=[Length(max=200)])
    psga_covered = BooleanField(_l("Services covered by the Public Services Guarantee Act"))
    active = BooleanField(_l("Active"), default=True)


def _departments():
    return db.session.execute(sa.select(Department).order_by(Department.name)).scalars().all()


def _user_form(formdata=None, **kw):
    form = UserForm(formdata=formdata, **kw)
    form.role.choices = opts([(r, label("role", r)) for r in ROLES])
    form.department.choices = opts([("", _("(none)"))] + [(d.code, d.name) for d in _departments()])
    return form


def _fill(form, user):
    """The user form showing ``user`` as stored."""
    form.name.data, form.email.data, form.designation.data = user.name, user.email, user.designation
    form.role.data, form.active.data = user.role, user.active
    form.department.data = user.department.code if user.department else ""
    return form


def _department(code):
    if not code:
        return None
    return db.session.execute(sa.select(Department).filter_by(code=code)).scalar()


@bp.route("/")
@login_required
@require("manage_users")
def index():
    counts = db.session.execute(sa.select(
        sa.select(sa.func.count(User.id)).where(User.active.is_(True)).scalar_subquery(),
        sa.select(sa.func.count(Department.id)).where(Department.active.is_(True)).scalar_subquery(),
    )).one()
    return render_template("admin/index.html", users=counts[0], departments=counts[1])


@bp.route("/users")
@login_required
@require("manage_users")
def users():
    page = max(request.args.get("page", 1, type=int), 1)
    q = sa.select(User, Department.name).outerjoin(Department, Department.id == User.department_id)
    role = request.args.get("role")
    if role in ROLES:
        q = q.where(User.role == role)
    total = db.session.execute(sa.select(sa.func.count()).select_from(q.subquery())).scalar()
    rows = db.session.execute(q.order_by(User.active.desc(), User.name, User.id)
                              .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return render_template("admin/users.html", rows=rows, total=total, page=page, role=role,
                           roles=ROLES, pages=max(1, -(-total // PAGE_SIZE)))


@bp.route("/users/new", methods=["GET", "POST"])
@login_required
@require("manage_users")
def new_user():
    form = _user_form(request.form if request.method == "POST" else None)

    def page(*_general):
        status = 422 if request.method == "POST" else 200
        return render_template("admin/user_form.html", form=form, user=None), status

    if form.validate_on_submit():
        with unit_of_work(invalid=form_errors(form, page, rename=_rename)):
            user = ops.create_user(current_user, email=form.email.data, name=form.name.data,
                                   designation=form.designation.data, role=form.role.data,
                                   department=_department(form.department.data),
                                   password=form.password.data)
        flash(_("%(name)s can now sign in as %(role)s with the temporary password you set.",
                name=user.name, role=label("role", user.role)), "success")
        return redirect(url_for("admin.users"), 303)
    return page()


def _rename(errors):
    """The operation's field names as the form's."""
    return {("department" if k == "department_id" else k): v for k, v in errors.items()}


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@login_required
@require("manage_users")
def edit_user(user_id):
    user = db.session.get(User, user_id) or abort(404)
    form = _user_form(request.form if request.method == "POST" else None, obj=None)
    password_form = PasswordForm(formdata=None)

    def page(*_general):
        status = 422 if request.method == "POST" else 200
        return render_template("admin/user_form.html", form=form, user=user,
                               password_form=password_form), status

    if request.method == "GET":
        _fill(form, user)
    elif form.validate_on_submit():
        with unit_of_work(invalid=form_errors(form, page, rename=_rename)):
            changes = ops.update_user(user, current_user, email=form.email.data,
                                      name=form.name.data, designation=form.designation.data,
                                      role=form.role.data,
                                      department=_department(form.department.data),
                                      active=form.active.data)
        flash(_("%(name)s saved.", name=user.name) if changes else _("Nothing was changed."),
              "success")
        return redirect(url_for("admin.users"), 303)
    return page()


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@login_required
@require("manage_users")
def reset_password(user_id):
    user = db.session.get(User, user_id) or abort(404)
    password_form = PasswordForm()

    def page(*_general):
        form = _fill(_user_form(None), user)
        return render_template("admin/user_form.html", form=form, user=user,
                               password_form=password_form), 422

    if password_form.validate_on_submit():
        with unit_of_work(invalid=form_errors(password_form, page)):
            ops.reset_password(user, current_user, password=password_form.password.data)
        flash(_("The password of %(name)s was reset; they are signed out everywhere and "
                "must use the new one.", name=user.name), "success")
        return redirect(url_for("admin.edit_user", user_id=user.id), 303)
    return page()


@bp.route("/departments")
@login_required
@require("manage_departments")
def departments():
    nodal = (sa.select(User.name).where(User.department_id == Department.id, User.role == "nodal",
                                        User.active.is_(True)).limit(1).scalar_subquery())
    rows = db.session.execute(sa.select(Department, nodal.label("nodal"))
                              .order_by(Department.active.desc(), Department.name)).all()
    return render_template("admin/departments.html", rows=rows)


@bp.route("/departments/new", methods=["GET", "POST"])
@login_required
@require("manage_departments")
def new_department():
    return _department_form(None)


@bp.route("/departments/<code>", methods=["GET", "POST"])
@login_required
@require("manage_departments")
def edit_department(code):
    return _department_form(_department(code) or abort(404))


def _department_form(record):
    form = DepartmentForm(formdata=request.form if request.method == "POST" else None,
                          obj=record)

    def page(*_general):
        status = 422 if request.method == "POST" else 200
        return render_template("admin/department_form.html", form=form, department=record), status

    if form.validate_on_submit():
        with unit_of_work(invalid=form_errors(form, page)):
            saved = ops.save_department(record, current_user, code=form.code.data,
                                        name=form.name.data, psga_covered=form.psga_covered.data,
                                        active=form.active.data)
        flash(_("%(name)s saved.", name=saved.name), "success")
        return redirect(url_for("admin.departments"), 303)
    return page()


def _thresholds_form(formdata=None):
    class ThresholdsForm(FlaskForm):
        pass

    current = thresholds()
    for key in EDITABLE:
        setattr(ThresholdsForm, key, IntegerField(
            _l(ops.THRESHOLD_NAMES[key]), default=getattr(current, key),
            validators=[InputRequired(message=_l("Enter a whole number of days."))]))
    return ThresholdsForm(formdata=formdata)


@bp.route("/settings", methods=["GET", "POST"])
@login_required
@require("manage_settings")
def settings():
    form = _thresholds_form(request.form if request.method == "POST" else None)

    def page(*_general):
        status = 422 if request.method == "POST" else 200
        defaults = from_config(current_app.config)
        return render_template("admin/settings.html", form=form, keys=EDITABLE,
                               defaults={k: getattr(defaults, k) for k in EDITABLE}), status

    if form.validate_on_submit():
        with unit_of_work(invalid=form_errors(form, page)):
            changes = ops.save_thresholds(current_user, values={k: form[k].data for k in EDITABLE},
                                          config=current_app.config)
        flash(_("Thresholds saved: the next scan uses them.") if changes
              else _("Nothing was changed."), "success")
        return redirect(url_for("admin.settings"), 303)
    return page()
