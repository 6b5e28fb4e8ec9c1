"""The PSGA service register: each department's public services, their summary, and the
register's Excel export and import."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
import secrets
from pathlib import Path

import sqlalchemy as sa
from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request,
                   session, url_for)
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (BooleanField, DateField, HiddenField, IntegerField, SelectField,
                     StringField, SubmitField)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from views.list_export import ListColumn, export_format, export_list
from models import Department, Milestone, Service
from models.milestone import CLOSED_STATUSES
from tracker import clock
from tracker.queries import summaries as summary_queries
from tracker.extensions import db
from tracker.i18n import N_
from tracker.labels import choices, label
from tracker.operations import services as service_ops
from exports.upload_safety import UploadRefused, check_xlsx, limits_from_config
from tracker.permissions import authorize, visible_department_ids
from views.registers import Register, can_add, department_choices, department_filter
from views.downloads import dated, generated_at, xlsx_response
from views.unit_of_work import dry_run, refuse, unit_of_work
from views.workflow_forms import opts

bp = Blueprint("services", __name__, url_prefix="/services")

MODE_CHOICES = opts(choices("delivery_mode"))


class ServiceForm(FlaskForm):
    department = SelectField(_l("Department"), validators=[DataRequired()])
    name = StringField(_l("Name of the service"), validators=[DataRequired(), Length(max=300)])
    psga_notified = BooleanField(_l("Notified under the Public Services Guarantee Act (PSGA)"))
    time_limit_days = IntegerField(_l("PSGA time limit (days)"),
                                   validators=[Optional(), NumberRange(min=1, max=365)])
    designated_officer = StringField(_l("Designated officer"), validators=[Length(max=200)])
    delivery_mode = SelectField(_l("Delivery mode"), choices=MODE_CHOICES)
    url = StringField(_l("Web address"), validators=[Optional(), Length(max=500)])
    target_date = DateField(_l("Target date to bring it online"), validators=[Optional()])
    milestone = SelectField(_l("Milestone that brings it online"), choices=[], validate_choice=False)
    version = HiddenField()
    submit = SubmitField(_l("Save"))

    def values(self):
        return {name: getattr(self, name).data for name in service_ops.FIELDS}


class DeleteForm(FlaskForm):
    version = HiddenField()
    submit = SubmitField(_l("Remove this service"))


class ImportForm(FlaskForm):
    workbook = FileField(_l("Service register workbook (.xlsx)"), validators=[FileRequired()])
    submit = SubmitField(_l("Check the workbook"))


class ConfirmImportForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])
    submit = SubmitField(_l("Apply these changes"))


def _milestone_choices(department_id, service=None):
    """Open milestones of the department not bringing another service online."""
    q = (
        sa.select(Milestone.code, Milestone.title)
        .where(
            Milestone.department_id == department_id,
            sa.or_(Milestone.service_id.is_(None),
                   Milestone.service_id == (service.id if service else -1)),
            sa.or_(Milestone.status.notin_(CLOSED_STATUSES),
                   Milestone.service_id == (service.id if service else -1)),
        )
        .order_by(Milestone.code)
    )
    return [("", _("None"))] + [(code, f"{code}: {title}") for code, title in db.session.execute(q)]


class ServiceRegister(Register):
    model = Service
    operations = service_ops
    action = "edit_service"
    endpoint = "services"
    id_arg = "service_id"
    template = "services/form.html"
    form_class = ServiceForm
    delete_form_class = DeleteForm
    added_message = N_("Service “%(name)s” added.")
    saved_message = N_("Service “%(name)s” saved.")
    removed_message = N_("Service “%(name)s” removed.")

    def prepare(self, form, department, record=None):
        form.milestone.choices = opts(_milestone_choices(department.id, record))
        if record is not None and request.method == "GET":
            linked = service_ops.linked_milestone(record)
            form.milestone.data = linked.code if linked else ""

    def operation_args(self, form):
        return {"milestone_code": form.milestone.data}


REGISTER = ServiceRegister()


def register_rows(department_ids=None, department_code=None):
    """Every service in scope with its department and milestone code: one query."""
    milestone_code = (
        sa.select(Milestone.code)
        .where(Milestone.service_id == Service.id)
        .order_by(Milestone.id)
        .limit(1)
        .correlate(Service)
        .scalar_subquery()
    )
    q = (
        sa.select(Service, Department.code, Department.name, milestone_code.label("milestone"))
        .join(Department, Department.id == Service.department_id)
        .order_by(Department.name, Service.name)
    )
    if department_ids is not None:
        q = q.where(Service.department_id.in_(department_ids))
    if department_code:
        q = q.where(Department.code == department_code)
    return db.session.execute(q).all()


@bp.route("/")
@login_required
def index():
    scope = visible_department_ids(current_user)
    code = department_filter()
    rows = register_rows(scope, code)
    fmt = export_format()
    if fmt:
        columns = [
            ListColumn(_("Department"), lambda r: r[2], width=26),
            ListColumn(_("Service"), lambda r: r[0].name, "wrap", 34),
            ListColumn(_("PSGA-notified"), lambda r: _("Yes") if r[0].psga_notified else _("No"),
                       width=10),
            ListColumn(_("Time limit (days)"), lambda r: r[0].time_limit_days, "number", 10),
            ListColumn(_("Designated officer"), lambda r: r[0].designated_officer or None,
                       width=24),
            ListColumn(_("Delivery mode"), lambda r: label("delivery_mode", r[0].delivery_mode),
                       width=20),
            ListColumn(_("Web address"), lambda r: r[0].url, width=30),
            ListColumn(_("Target date"), lambda r: r[0].target_date, "date", 11),
            ListColumn(_("Milestone"), lambda r: r[3], width=12),
        ]
        return export_list(fmt, "services", _("Services"), None, columns, rows)
    departments = department_choices("read") if scope is None else []
    return render_template("services/index.html", rows=rows, departments=departments,
                           selected=code,
                           can_add=can_add("edit_service"))


@bp.route("/summary")
@login_required
def summary():
    summaries = summary_queries.service_summaries(visible_department_ids(current_user))
    totals = summary_queries.ServiceSummary(department=None)
    for s in summaries:
        totals.total += s.total
        totals.notified += s.notified
        totals.online += s.online
        totals.integrated += s.integrated
    return render_template("services/summary.html", summaries=summaries, totals=totals,
                           today=clock.today())


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    return REGISTER.new()


@bp.route("/<int:service_id>/edit", methods=["GET", "POST"])
@login_required
def edit(service_id):
    return REGISTER.edit(service_id)


@bp.route("/<int:service_id>/delete", methods=["POST"])
@login_required
def delete(service_id):
    return REGISTER.delete(service_id)


@bp.route("/export.xlsx")
@login_required
def export():
    from exports import services as services_export  # openpyxl: only when a workbook is asked for

    authorize("read")
    scope = visible_department_ids(current_user)
    code = department_filter()
    rows = register_rows(scope, code)
    summaries = summary_queries.service_summaries(scope)
    now = generated_at()
    data = services_export.services_workbook(rows, summaries, now)
    return xlsx_response(data, dated(
        f"service-register-{services_export.safe_filename_part(code or 'all')}", now.date()))


# --- Import: upload, preview, apply ------------------------------------------------------


def _upload_dir():
    path = Path(current_app.instance_path) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _upload_path(token):
    if not token or not token.isalnum() or len(token) > 64:
        abort(400)
    return _upload_dir() / f"services-{current_user.id}-{token}.xlsx"


def _require_import_right():
    if not department_choices("edit_service"):
        abort(403)


@bp.route("/import", methods=["GET", "POST"])
@login_required
def import_workbook():
    from exports import services as services_export  # openpyxl: only when a workbook is asked for

    _require_import_right()
    form = ImportForm()
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render_template("services/import.html", form=form, plan=None), status
    data = form.workbook.data.read()
    try:
        check_xlsx(form.workbook.data.filename, data, limits_from_config(current_app.config))
    except UploadRefused as exc:
        form.workbook.errors = [str(exc)]
        return render_template("services/import.html", form=form, plan=None), 422
    rows, parse_errors = services_export.read_services(data)
    with dry_run():
        plan = service_ops.check_import(rows, parse_errors, current_user)
    if not plan.ok:
        return render_template("services/import.html", form=form, plan=plan), 422
    for stale in _upload_dir().glob(f"services-{current_user.id}-*.xlsx"):
        stale.unlink(missing_ok=True)  # one pending import per user
    token = secrets.token_hex(16)
    _upload_path(token).write_bytes(data)
    session["services_import"] = token
    return render_template("services/import.html", form=form, plan=plan,
                           confirm=ConfirmImportForm(token=token))


@bp.route("/import/apply", methods=["POST"])
@login_required
def apply_import():
    from exports import services as services_export  # openpyxl: only when a workbook is asked for

    _require_import_right()
    form = ConfirmImportForm()
    if not form.validate_on_submit() or session.get("services_import") != form.token.data:
        flash(_("This import has expired; upload the workbook again."), "error")
        return redirect(url_for("services.import_workbook"))
    path = _upload_path(form.token.data)
    if not path.exists():
        flash(_("This import has expired; upload the workbook again."), "error")
        return redirect(url_for("services.import_workbook"))
    rows, parse_errors = services_export.read_services(path.read_bytes())
    path.unlink(missing_ok=True)

    def conflict(exc):
        flash(_("Someone else changed this record after you opened it. Nothing was imported; "
                "export again and redo your changes."), "error")
        return redirect(url_for("services.import_workbook"))

    try:
        with unit_of_work(conflict=conflict):
            plan = service_ops.apply_import(rows, parse_errors, current_user)
            if not plan.ok:
                refuse(lambda: (render_template("services/import.html", form=ImportForm(),
                                                plan=plan), 422))
    finally:
        session.pop("services_import", None)
    counts = plan.counts()
    flash(ngettext("Import applied: %(num)d service added, %(changed)d changed, "
                   "%(unchanged)d unchanged.",
                   "Import applied: %(num)d services added, %(changed)d changed, "
                   "%(unchanged)d unchanged.",
                   counts["create"], changed=counts["update"], unchanged=counts["unchanged"]),
          "success")
    return redirect(url_for("services.index"))
