"""The website and app register: the compliance table of every department's websites, web
apps and mobile apps, each asset's page with its health checks, and the Excel export."""
from flask_babel import lazy_gettext as _l
import io

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectChoice, DateField, HiddenField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from exports import websites as websites_export
from jobs.health_check import SECURITY_HEADER_LABELS, SECURITY_HEADERS
from models import Department, DigitalAsset, HealthCheck
from tracker import clock, rules
from tracker.extensions import db
from tracker.operations import websites as website_ops
from tracker.operations.errors import ConflictError, ValidationError
from views.workflow_forms import apply_errors
from tracker.permissions import acting_department_ids, authorize, visible_department_ids
from tracker.settings import thresholds

def select_choices(pairs):
    return [SelectChoice(value, label) for value, label in pairs]


CONFLICT_MESSAGE = "Someone else changed this record after you opened it."

bp = Blueprint("websites", __name__, url_prefix="/websites")

HISTORY_LENGTH = 30


class AssetForm(FlaskForm):
    department = SelectField(_l("Department"), validators=[DataRequired()])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, v) for k, v in websites_export.KIND_LABELS.items()])
    url = StringField(_l("Web address"), validators=[DataRequired(), Length(max=500)])
    hosted_by = SelectField(_l("Hosted by"), choices=[SelectChoice(k, v) for k, v in websites_export.HOST_LABELS.items()])
    last_content_update = DateField(_l("Last content update"), validators=[Optional()])
    audit_valid_until = DateField(_l("Security-audit certificate valid until"),
                                  validators=[Optional()])
    accessibility_audit_on = DateField(_l("Accessibility audit done on"), validators=[Optional()])
    https = BooleanField(_l("Served over HTTPS"))
    portal_integrated = BooleanField(_l("Integrated with the portal"))
    version = HiddenField()
    submit = SubmitField(_l("Save"))

    def values(self):
        return {name: getattr(self, name).data for name in website_ops.FIELDS}


class DeleteForm(FlaskForm):
    version = HiddenField()
    submit = SubmitField(_l("Remove from the register"))


def _get_asset(asset_id):
    asset = db.session.get(DigitalAsset, asset_id)
    if asset is None:
        abort(404)
    return asset


def _department_choices(action):
    ids = acting_department_ids(current_user, action)
    q = sa.select(Department).where(Department.active.is_(True)).order_by(Department.name)
    if ids is not None:
        q = q.where(Department.id.in_(ids or {-1}))
    return [(d.code, d.name) for d in db.session.execute(q).scalars()]


def compliance_rows(today, t, department_ids=None, department_code=None):
    """Every asset in scope with its department name and its state per compliance column,
    decided in SQL by the rules: one query."""
    states = {
        "content": rules.content_state_sql(today, t),
        "certificate": rules.certificate_state_sql(DigitalAsset.audit_valid_until, today, t),
        "accessibility": rules.accessibility_state_sql(today, t),
        "https": rules.flag_state_sql(DigitalAsset.https),
        "portal": rules.flag_state_sql(DigitalAsset.portal_integrated),
        "check": rules.check_state_sql(),
    }
    q = (
        sa.select(DigitalAsset, Department.name, *(expr.label(k) for k, expr in states.items()))
        .join(Department, Department.id == DigitalAsset.department_id)
        .order_by(Department.name, DigitalAsset.name, DigitalAsset.id)
    )
    if department_ids is not None:
        q = q.where(DigitalAsset.department_id.in_(department_ids))
    if department_code:
        q = q.where(Department.code == department_code)
    return [
        (row[0], row[1], dict(zip(states, row[2:])))
        for row in db.session.execute(q).all()
    ]


def _asset_states(asset, today, t):
    return {
        "content": rules.content_state(asset, today, t),
        "certificate": rules.certificate_state(asset.audit_valid_until, today, t),
        "accessibility": rules.accessibility_state(asset.accessibility_audit_on, today, t),
        "https": rules.flag_state(asset.https),
        "portal": rules.flag_state(asset.portal_integrated),
        "check": rules.check_state(asset),
    }


def _template_globals(t):
    return {
        "state_label": lambda column, state: websites_export.state_label(column, state, t),
        "kinds": websites_export.KIND_LABELS,
        "hosts": websites_export.HOST_LABELS,
    }


@bp.route("/")
@login_required
def index():
    today, t = clock.today(), thresholds()
    scope = visible_department_ids(current_user)
    code = request.args.get("department", "").strip().lower() or None
    problems_only = request.args.get("problems") == "1"
    rows = compliance_rows(today, t, scope, code)
    if problems_only:
        rows = [r for r in rows if any(s != "ok" for s in r[2].values())]
    acting = acting_department_ids(current_user, "edit_asset")
    return render_template(
        "websites/index.html", rows=rows, today=today, selected=code,
        problems_only=problems_only,
        departments=_department_choices("read") if scope is None else [],
        can_add=acting is None or bool(acting), **_template_globals(t),
    )


@bp.route("/<int:asset_id>")
@login_required
def show(asset_id):
    asset = authorize("read", _get_asset(asset_id))
    today, t = clock.today(), thresholds()
    history = db.session.execute(
        sa.select(HealthCheck)
        .where(HealthCheck.asset_id == asset.id)
        .order_by(HealthCheck.checked_at.desc(), HealthCheck.id.desc())
        .limit(HISTORY_LENGTH)
    ).scalars().all()
    return render_template(
        "websites/show.html", asset=asset, states=_asset_states(asset, today, t),
        latest=history[0] if history else None, history=history, today=today,
        header_names=SECURITY_HEADERS, header_labels=SECURITY_HEADER_LABELS,
        down=rules.website_is_down(history), **_template_globals(t),
    )



@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    allowed = _department_choices("edit_asset")
    if not allowed:
        abort(403)
    form = AssetForm()
    form.department.choices = select_choices(allowed)
    code = form.department.data or request.args.get("department") or allowed[0][0]
    department = db.session.execute(sa.select(Department).filter_by(code=code)).scalar()
    if department is None:
        abort(404)
    authorize("edit_asset", department)
    if request.method == "GET":
        form.department.data = department.code
    if form.validate_on_submit():
        try:
            asset = website_ops.create(department, form.values())
        except ValidationError as exc:
            form.form_errors.extend(apply_errors(form, exc.errors))
        else:
            db.session.commit()
            flash(f"“{asset.name}” added to the register.", "success")
            return redirect(url_for("websites.show", asset_id=asset.id))
    status = 422 if request.method == "POST" else 200
    return render_template("websites/form.html", form=form, asset=None,
                           department=department), status


@bp.route("/<int:asset_id>/edit", methods=["GET", "POST"])
@login_required
def edit(asset_id):
    asset = authorize("edit_asset", _get_asset(asset_id))
    form = AssetForm(obj=asset if request.method == "GET" else None)
    form.department.choices = select_choices([(asset.department.code, asset.department.name)])
    form.department.data = asset.department.code
    if request.method == "GET":
        form.version.data = str(asset.version)
    conflict, status = None, 200
    if form.validate_on_submit():
        try:
            expected = int(form.version.data or 0)
        except ValueError:
            expected = 0
        try:
            website_ops.update(asset, form.values(), expected)
        except ValidationError as exc:
            form.form_errors.extend(apply_errors(form, exc.errors))
            status = 422
        except ConflictError:
            db.session.rollback()
            asset = _get_asset(asset_id)
            conflict = {"message": CONFLICT_MESSAGE, "saved": asset}
            form.version.data = str(asset.version)
            status = 409
        else:
            db.session.commit()
            flash(f"“{asset.name}” saved.", "success")
            return redirect(url_for("websites.show", asset_id=asset.id))
    elif request.method == "POST":
        status = 422
    return render_template("websites/form.html", form=form, asset=asset,
                           department=asset.department, conflict=conflict,
                           delete_form=DeleteForm(version=asset.version),
                           **_template_globals(thresholds())), status


@bp.route("/<int:asset_id>/delete", methods=["POST"])
@login_required
def delete(asset_id):
    asset = authorize("edit_asset", _get_asset(asset_id))
    form = DeleteForm()
    name, code = asset.name, asset.department.code
    try:
        website_ops.delete(asset, int(form.version.data or 0) or None)
    except ConflictError:
        db.session.rollback()
        flash(CONFLICT_MESSAGE + " Look at it again before removing it.", "error")
        return redirect(url_for("websites.edit", asset_id=asset_id)), 303
    db.session.commit()
    flash(f"“{name}” removed from the register.", "success")
    return redirect(url_for("websites.index", department=code))


@bp.route("/export.xlsx")
@login_required
def export():
    authorize("read")
    today, t = clock.today(), thresholds()
    code = request.args.get("department", "").strip().lower() or None
    rows = compliance_rows(today, t, visible_department_ids(current_user), code)
    data = websites_export.websites_workbook(rows, today, t, clock.zone())
    name = f"website-compliance-{code or 'all'}-{today:%Y-%m-%d}.xlsx"
    if code and not code.replace("-", "").replace("_", "").isalnum():
        name = f"website-compliance-{today:%Y-%m-%d}.xlsx"
    return send_file(
        io.BytesIO(data), as_attachment=True, download_name=name,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
