"""Excel reports to download, the action-plan template, and the import of action plans."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.exceptions import RequestEntityTooLarge

from exports.upload_safety import UploadRefused, check_xlsx, limits_from_config
from models import Department
from tracker import clock
from tracker.extensions import db
from tracker.operations import imports as ops
from tracker.permissions import authorize
from tracker.settings import thresholds
from views.downloads import dated, generated_at, xlsx_response
from views.unit_of_work import unit_of_work

bp = Blueprint("reports", __name__, url_prefix="/reports")


class UploadForm(FlaskForm):
    file = FileField(_l("Action plan workbook (.xlsx)"), validators=[FileRequired()])


class ButtonForm(FlaskForm):
    """A POST button: only the CSRF token."""


@bp.route("/")
@login_required
def index():
    authorize("export")
    departments = db.session.execute(
        sa.select(Department).where(Department.active.is_(True)).order_by(Department.name)
    ).scalars().all()
    return render_template("reports/index.html", departments=departments)


@bp.route("/bottlenecks.xlsx")
@login_required
def bottlenecks_xlsx():
    from exports.bottlenecks import bottleneck_workbook

    authorize("export")
    open_only = request.args.get("open") == "1"
    return xlsx_response(
        bottleneck_workbook(clock.today(), thresholds(), generated_at(), open_only),
        dated("open-bottlenecks" if open_only else "bottleneck-report"))


@bp.route("/department-status.xlsx")
@login_required
def department_status_xlsx():
    from exports.department_status import department_status_workbook

    authorize("export")
    return xlsx_response(department_status_workbook(clock.today(), thresholds(), generated_at()),
                         dated("department-status"))


@bp.route("/roadmap.xlsx")
@login_required
def roadmap_xlsx():
    from exports.roadmap import roadmap_workbook

    authorize("export")
    code = request.args.get("department")
    ids, title, name = None, None, "roadmap"
    if code:
        dept = db.session.execute(sa.select(Department).filter_by(code=code)).scalar()
        if dept is None:
            abort(404)
        ids, title, name = [dept.id], f"Roadmap of {dept.name}", f"roadmap-{dept.code}"
    return xlsx_response(roadmap_workbook(clock.today(), thresholds(), generated_at(), ids, title),
                         dated(name))


@bp.route("/plan-template.xlsx")
@login_required
def plan_template_xlsx():
    from exports.plan_template import plan_template_workbook

    authorize("import_plan")
    departments = db.session.execute(
        sa.select(Department.code, Department.name).where(Department.active.is_(True))
        .order_by(Department.code)).all()
    return xlsx_response(plan_template_workbook(departments, generated_at()),
                         dated("action-plan-template"))


def _check(filename, data):
    """(rows, problems) of a safe upload; raises UploadRefused before parsing otherwise."""
    from exports.plan_import import read_plan

    check_xlsx(filename, data, limits_from_config(current_app.config))
    rows, problems = read_plan(data, ops.active_department_codes())
    if not problems:
        problems = ops.dependency_problems(rows)
    return rows, problems


@bp.route("/import", methods=["GET", "POST"])
@login_required
def import_plan():
    authorize("import_plan")
    form = UploadForm()
    if request.method == "POST":
        if form.validate_on_submit():
            upload = form.file.data
            filename = upload.filename or ""
            data = upload.read(current_app.config["MAX_CONTENT_LENGTH"] + 1)
            try:
                rows, problems = _check(filename, data)
            except UploadRefused as exc:
                form.file.errors = [str(exc)]
                return render_template("reports/import.html", form=form), 422
            if problems:
                return render_template("reports/import.html", form=form, problems=problems,
                                       filename=filename), 422
            token = ops.store_pending(current_app.instance_path, data, current_user.id, filename)
            changes = ops.plan_changes(rows)
            return render_template("reports/preview.html", changes=changes, token=token,
                                   filename=filename, button=ButtonForm())
        return render_template("reports/import.html", form=form), 422
    return render_template("reports/import.html", form=form)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error):
    form = UploadForm(formdata=None)
    limit = current_app.config["IMPORT_MAX_BYTES"] / (1024 * 1024)
    form.file.errors = [_("The file is larger than the upload limit of %(limit)s MB.",
                          limit=f"{limit:.1f}")]
    return render_template("reports/import.html", form=form), 413


@bp.route("/import/<token>/apply", methods=["POST"])
@login_required
def apply_import(token):
    authorize("import_plan")
    if not ButtonForm().validate_on_submit():
        abort(400)
    pending = ops.load_pending(current_app.instance_path, token, current_user.id)
    if pending is None:
        flash(_("That upload is no longer waiting (it was applied, cancelled or has expired). "
                "Upload the file again."), "error")
        return redirect(url_for(".import_plan"))
    data, filename = pending
    try:
        rows, problems = _check(filename, data)
    except UploadRefused as exc:
        problems, rows = [str(exc)], []
    if problems:
        ops.discard_pending(current_app.instance_path, token)
        return render_template("reports/import.html", form=UploadForm(), problems=problems,
                               filename=filename), 422
    with unit_of_work():
        counts = ops.apply_plan(rows, current_user, filename=filename)
    ops.discard_pending(current_app.instance_path, token)
    flash(_("Imported %(filename)s: %(created)d milestones created, %(updated)d changed, "
            "%(unchanged)d unchanged.", filename=filename, created=counts["created"],
            updated=counts["updated"], unchanged=counts["unchanged"]), "success")
    return redirect(url_for(".import_plan"))


@bp.route("/import/<token>/cancel", methods=["POST"])
@login_required
def cancel_import(token):
    authorize("import_plan")
    if not ButtonForm().validate_on_submit():
        abort(400)
    if ops.load_pending(current_app.instance_path, token, current_user.id) is not None:
        ops.discard_pending(current_app.instance_path, token)
    flash(_("Import cancelled: nothing was changed."), "info")
    return redirect(url_for(".import_plan"))
